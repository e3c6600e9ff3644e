/** kube-proxy's pre-1.24 iptables layout (as in v1.20–v1.22): KUBE-XLB chains, `"<svc>"` ladder comments, masquerade in KUBE-SERVICES. */
import { endpointChainName, serviceChainName } from '../../model/chain-names.js';
import type { Scenario } from '../scenario.js';
import { ladderProbabilities, portContexts, type LayoutOptions, type PortContext } from './current-layout.js';
import { commentArgs, quoted, RulesetBuilder } from './ruleset-lines.js';

const SERVICES = 'KUBE-SERVICES';
const NODEPORTS = 'KUBE-NODEPORTS';
const POSTROUTING = 'KUBE-POSTROUTING';
const MARK_MASQ = 'KUBE-MARK-MASQ';
const MARK_DROP = 'KUBE-MARK-DROP';
const EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
const FORWARD = 'KUBE-FORWARD';

/** `utilproxy.ToCIDR`: old kube-proxy wrote `-d 10.96.0.1/32`, `-s fd00::1/128`. */
function toCIDR(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}

/**
 * Writes the tables as `syncProxyRules` of kube-proxy v1.20 (pkg/proxy/iptables/proxier.go) did:
 * the cluster-IP masquerade rule sits in KUBE-SERVICES, NodePorts jump straight to KUBE-SVC (Cluster)
 * or KUBE-XLB (Local, with "Balancing rule i for <svc>" comments), and SVC→SEP rules are commented
 * `<svc>` only. KUBE-MARK-DROP belongs to kubelet; kube-proxy of that era jumped to it.
 */
export function writeV120Layout(b: RulesetBuilder, scenario: Scenario, options: LayoutOptions): void {
  const mark = options.masqueradeMark;
  for (const chain of [SERVICES, EXTERNAL_SERVICES, FORWARD]) b.chain('filter', chain);
  for (const chain of [SERVICES, NODEPORTS, POSTROUTING, MARK_MASQ]) b.chain('nat', chain);
  b.chain('nat', MARK_DROP);

  b.rule('nat', POSTROUTING, null, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  b.rule('nat', POSTROUTING, null, '-j', 'MARK', '--xor-mark', mark);
  b.rule('nat', POSTROUTING, null, commentArgs(quoted('kubernetes service traffic requiring SNAT')), '-j', 'MASQUERADE', options.randomFully ? ['--random-fully'] : []);
  b.rule('nat', MARK_MASQ, null, '-j', 'MARK', '--set-xmark', `${mark}/${mark}`);
  b.rule('nat', MARK_DROP, null, '-j', 'MARK', '--set-xmark', '0x8000/0x8000');

  for (const ctx of portContexts(scenario, options.family)) writeServicePort(b, ctx, options);

  b.rule('nat', SERVICES, null, commentArgs(quoted('kubernetes service nodeports; NOTE: this must be the last rule in this chain')), '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', NODEPORTS);

  const podCIDR = options.family === 'ipv6' ? scenario.podCIDR.ipv6 : scenario.podCIDR.ipv4;
  b.rule('filter', FORWARD, null, '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP');
  b.rule('filter', FORWARD, null, commentArgs(quoted('kubernetes forwarding rules')), '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT');
  b.rule('filter', FORWARD, null, '-s', podCIDR, commentArgs(quoted('kubernetes forwarding conntrack pod source rule')), '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');
  b.rule('filter', FORWARD, null, commentArgs(quoted('kubernetes forwarding conntrack pod destination rule')), '-d', podCIDR, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');
}

function writeServicePort(b: RulesetBuilder, ctx: PortContext, options: LayoutOptions): void {
  const { owner, name, protocol, service, port } = ctx;
  const svcChain = serviceChainName('KUBE-SVC-', name, protocol);
  const xlbChain = serviceChainName('KUBE-XLB-', name, protocol);
  const onlyLocal = service.externalTrafficPolicy === 'Local';
  const hasEndpoints = ctx.endpoints.length > 0;
  const proto = ['-m', protocol, '-p', protocol];
  const nodePort = port.nodePort ?? 0;

  if (hasEndpoints) b.chain('nat', svcChain, owner);
  if (onlyLocal) b.chain('nat', xlbChain, owner);

  if (hasEndpoints) {
    const args = [...commentArgs(quoted(`${name} cluster IP`)), ...proto, '-d', toCIDR(service.clusterIP), '--dport', String(port.port)];
    // "This masquerades off-cluster traffic to a service VIP."
    b.rule('nat', SERVICES, null, args, '!', '-s', ctx.podCIDR, '-j', MARK_MASQ);
    b.rule('nat', SERVICES, null, args, '-j', svcChain);
  } else {
    b.rule('filter', SERVICES, null, commentArgs(quoted(`${name} has no endpoints`)), proto, '-d', toCIDR(service.clusterIP), '--dport', String(port.port), '-j', 'REJECT');
  }

  if (nodePort !== 0) {
    if (hasEndpoints) {
      const args = [...commentArgs(name), ...proto, '--dport', String(nodePort)];
      if (!onlyLocal) {
        // "Nodeports need SNAT, unless they're local."
        b.rule('nat', NODEPORTS, null, args, '-j', MARK_MASQ);
        b.rule('nat', NODEPORTS, null, args, '-j', svcChain);
      } else {
        // "Fix localhost martian source error"
        b.rule('nat', NODEPORTS, null, args, '-s', options.family === 'ipv6' ? '::1/128' : '127.0.0.0/8', '-j', MARK_MASQ);
        b.rule('nat', NODEPORTS, null, args, '-j', xlbChain);
      }
    } else {
      b.rule('filter', EXTERNAL_SERVICES, null, commentArgs(quoted(`${name} has no endpoints`)), '-m', 'addrtype', '--dst-type', 'LOCAL', proto, '--dport', String(nodePort), '-j', 'REJECT');
    }
  }
  if (!hasEndpoints) return;

  const svcComment = options.comments ? commentArgs(name) : [];
  for (const ep of ctx.endpoints) b.chain('nat', endpointChainName(name, protocol, ep.endpoint), owner);
  const affinity = service.sessionAffinity;
  if (affinity !== undefined) {
    for (const ep of ctx.endpoints) {
      const sep = endpointChainName(name, protocol, ep.endpoint);
      b.rule('nat', svcChain, owner, svcComment, '-m', 'recent', '--name', sep, '--rcheck', '--seconds', String(affinity.timeoutSeconds), '--reap', '-j', sep);
    }
  }
  const probabilities = ladderProbabilities(ctx.endpoints.length, service.ladderProbabilities);
  ctx.endpoints.forEach((ep, i) => {
    const sep = endpointChainName(name, protocol, ep.endpoint);
    const p = probabilities[i] ?? null;
    b.rule('nat', svcChain, owner, svcComment, p === null ? [] : ['-m', 'statistic', '--mode', 'random', '--probability', p], '-j', sep);
    b.rule('nat', sep, owner, svcComment, '-s', toCIDR(ep.ip), '-j', MARK_MASQ);
    const recent = affinity !== undefined ? ['-m', 'recent', '--name', sep, '--set'] : [];
    b.rule('nat', sep, owner, svcComment, recent, proto, '-j', 'DNAT', '--to-destination', ep.endpoint);
  });

  if (!onlyLocal) return;
  b.rule('nat', xlbChain, owner, commentArgs(quoted('Redirect pods trying to reach external loadbalancer VIP to clusterIP')), '-s', ctx.podCIDR, '-j', svcChain);
  b.rule('nat', xlbChain, owner, commentArgs(quoted(`masquerade LOCAL traffic for ${name} LB IP`)), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', MARK_MASQ);
  b.rule('nat', xlbChain, owner, commentArgs(quoted(`route LOCAL traffic for ${name} LB IP to service chain`)), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', svcChain);
  if (ctx.local.length === 0) {
    // "Blackhole all traffic since there are no local endpoints"
    b.rule('nat', xlbChain, owner, commentArgs(quoted(`${name} has no local endpoints`)), '-j', MARK_DROP);
    return;
  }
  if (affinity !== undefined) {
    for (const ep of ctx.local) {
      const sep = endpointChainName(name, protocol, ep.endpoint);
      b.rule('nat', xlbChain, owner, commentArgs(name), '-m', 'recent', '--name', sep, '--rcheck', '--seconds', String(affinity.timeoutSeconds), '--reap', '-j', sep);
    }
  }
  const localProbabilities = ladderProbabilities(ctx.local.length, undefined);
  ctx.local.forEach((ep, i) => {
    const p = localProbabilities[i] ?? null;
    b.rule('nat', xlbChain, owner, commentArgs(quoted(`Balancing rule ${i} for ${name}`)), p === null ? [] : ['-m', 'statistic', '--mode', 'random', '--probability', p], '-j', endpointChainName(name, protocol, ep.endpoint));
  });
}
