/** kube-proxy's current (v1.24+) iptables-mode nat/filter layout for a scenario: KUBE-SVC/SVL/EXT/SEP chains. */
import { endpointChainName, serviceChainName } from '../../model/chain-names.js';
import type { IpFamily } from '../../iptables/types.js';
import {
  resolveEndpoints,
  servicePortName,
  serviceKey,
  type ResolvedEndpoint,
  type Scenario,
  type ServicePortSpec,
  type ServiceSpec,
} from '../scenario.js';
import { formatProbability, kubeProxyProbability } from './probability.js';
import { commentArgs, quoted, RulesetBuilder } from './ruleset-lines.js';

export interface LayoutOptions {
  readonly family: IpFamily;
  /**
   * false = "large cluster mode" (proxier.go `largeClusterEndpointsThreshold`, > 1000 endpoints):
   * `appendServiceCommentLocked` drops the comments of SVC→SEP rules and of SEP rules.
   */
  readonly comments: boolean;
  /** `1 << masqueradeBit` (default bit 14). */
  readonly masqueradeMark: string;
  /** `MASQUERADE --random-fully` when iptables supports it (proxier.go `HasRandomFully`). */
  readonly randomFully: boolean;
}

const SERVICES = 'KUBE-SERVICES';
const NODEPORTS = 'KUBE-NODEPORTS';
const POSTROUTING = 'KUBE-POSTROUTING';
const MARK_MASQ = 'KUBE-MARK-MASQ';
const EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
const FORWARD = 'KUBE-FORWARD';
const PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
const KUBELET_FIREWALL = 'KUBE-FIREWALL';

/** The per-port facts both layouts need. */
export interface PortContext {
  readonly owner: string;
  readonly name: string;
  readonly protocol: string;
  readonly port: ServicePortSpec;
  readonly service: ServiceSpec;
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly local: readonly ResolvedEndpoint[];
  readonly podCIDR: string;
}

export function portContexts(scenario: Scenario, family: IpFamily): PortContext[] {
  const out: PortContext[] = [];
  for (const service of scenario.services) {
    if (service.ipFamily !== family) continue;
    for (const port of service.ports) {
      const endpoints = resolveEndpoints(scenario, service, port);
      out.push({
        owner: serviceKey(service),
        name: servicePortName(service, port.name),
        protocol: port.protocol,
        port,
        service,
        endpoints,
        local: endpoints.filter((e) => e.pod.local),
        podCIDR: family === 'ipv6' ? scenario.podCIDR.ipv6 : scenario.podCIDR.ipv4,
      });
    }
  }
  return out;
}

/** The `--probability` texts of a ladder: kube-proxy's 1/(n-i), or the scenario's deliberate override. */
export function ladderProbabilities(n: number, override: readonly (number | null)[] | undefined): (string | null)[] {
  const out: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    if (override !== undefined) {
      const p = override[i];
      out.push(p === null || p === undefined ? null : formatProbability(p));
    } else {
      out.push(i < n - 1 ? kubeProxyProbability(n - i) : null);
    }
  }
  return out;
}

/** Writes the filter and nat tables exactly as `syncProxyRules` in pkg/proxy/iptables/proxier.go (v1.28+) does. */
export function writeCurrentLayout(b: RulesetBuilder, scenario: Scenario, options: LayoutOptions): void {
  const mark = options.masqueradeMark;
  const isIPv6 = options.family === 'ipv6';
  for (const chain of [SERVICES, EXTERNAL_SERVICES, FORWARD, NODEPORTS, PROXY_FIREWALL]) b.chain('filter', chain);
  for (const chain of [SERVICES, NODEPORTS, POSTROUTING, MARK_MASQ]) b.chain('nat', chain);

  b.rule('nat', POSTROUTING, null, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  // "Clear the mark to avoid re-masquerading if the packet re-traverses the network stack."
  b.rule('nat', POSTROUTING, null, '-j', 'MARK', '--xor-mark', mark);
  b.rule('nat', POSTROUTING, null, commentArgs(quoted('kubernetes service traffic requiring SNAT')), '-j', 'MASQUERADE', options.randomFully ? ['--random-fully'] : []);
  b.rule('nat', MARK_MASQ, null, '-j', 'MARK', '--or-mark', mark);

  if (!isIPv6) {
    // proxier.go: with localhostNodePorts (the default) kube-proxy mirrors kubelet's anti-martian rule.
    b.chain('filter', KUBELET_FIREWALL);
    b.rule('filter', KUBELET_FIREWALL, null, commentArgs(quoted('block incoming localnet connections')), '-d', '127.0.0.0/8', '!', '-s', '127.0.0.0/8', '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'DROP');
  }

  for (const ctx of portContexts(scenario, options.family)) writeServicePort(b, ctx, options);

  // "Finally, tail-call to the nodePorts chain. This needs to be after all other service portal rules."
  // IPv6 never serves localhost NodePorts; IPv4 does by default (route_localnet).
  b.rule('nat', SERVICES, null, commentArgs(quoted('kubernetes service nodeports; NOTE: this must be the last rule in this chain')), '-m', 'addrtype', '--dst-type', 'LOCAL', isIPv6 ? ['!', '-d', '::1/128'] : [], '-j', NODEPORTS);

  b.rule('filter', FORWARD, null, '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP');
  b.rule('filter', FORWARD, null, commentArgs(quoted('kubernetes forwarding rules')), '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT');
  b.rule('filter', FORWARD, null, commentArgs(quoted('kubernetes forwarding conntrack rule')), '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');
}

function writeServicePort(b: RulesetBuilder, ctx: PortContext, options: LayoutOptions): void {
  const { owner, name, protocol, service, port } = ctx;
  const svcChain = serviceChainName('KUBE-SVC-', name, protocol);
  const svlChain = serviceChainName('KUBE-SVL-', name, protocol);
  const extChain = serviceChainName('KUBE-EXT-', name, protocol);
  const externalLocal = service.externalTrafficPolicy === 'Local';
  const hasEndpoints = ctx.endpoints.length > 0;
  // internalTrafficPolicy is always Cluster in the lab: ClusterIP traffic uses KUBE-SVC.
  const hasExternalEndpoints = hasEndpoints && (!externalLocal || ctx.local.length > 0);
  const nodePort = port.nodePort ?? 0;
  const usesExternalChain = hasEndpoints && nodePort !== 0;
  const proto = ['-m', protocol, '-p', protocol];
  const clusterIPArgs = [...commentArgs(quoted(`${name} cluster IP`)), ...proto, '-d', service.clusterIP, '--dport', String(port.port)];

  if (hasEndpoints) {
    b.rule('nat', SERVICES, null, clusterIPArgs, '-j', svcChain);
  } else {
    // "The service has no endpoints at all ... only rules in the filter table rejecting incoming packets."
    b.rule('filter', SERVICES, null, commentArgs(quoted(`${name} has no endpoints`)), proto, '-d', service.clusterIP, '--dport', String(port.port), '-j', 'REJECT');
  }
  if (nodePort !== 0) {
    if (hasEndpoints) b.rule('nat', NODEPORTS, null, commentArgs(name), proto, '--dport', String(nodePort), '-j', extChain);
    if (!hasExternalEndpoints) {
      const [target, why] = hasEndpoints ? ['DROP', 'has no local endpoints'] : ['REJECT', 'has no endpoints'];
      b.rule('filter', EXTERNAL_SERVICES, null, commentArgs(quoted(`${name} ${why}`)), '-m', 'addrtype', '--dst-type', 'LOCAL', proto, '--dport', String(nodePort), '-j', target);
    }
  }
  if (!hasEndpoints) return;

  // Masquerade off-cluster traffic to the ClusterIP (the LocalTrafficDetector's `! -s <podCIDR>`).
  b.rule('nat', svcChain, owner, clusterIPArgs, '!', '-s', ctx.podCIDR, '-j', MARK_MASQ);

  if (usesExternalChain) {
    b.chain('nat', extChain, owner);
    if (!externalLocal) {
      b.rule('nat', extChain, owner, commentArgs(quoted(`masquerade traffic for ${name} external destinations`)), '-j', MARK_MASQ);
    } else {
      b.rule('nat', extChain, owner, commentArgs(quoted(`pod traffic for ${name} external destinations`)), '-s', ctx.podCIDR, '-j', svcChain);
      b.rule('nat', extChain, owner, commentArgs(quoted(`masquerade LOCAL traffic for ${name} external destinations`)), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', MARK_MASQ);
      b.rule('nat', extChain, owner, commentArgs(quoted(`route LOCAL traffic for ${name} external destinations`)), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', svcChain);
    }
    if (hasExternalEndpoints) b.rule('nat', extChain, owner, '-j', externalLocal ? svlChain : svcChain);
  }

  b.chain('nat', svcChain, owner);
  writeServiceToEndpointRules(b, ctx, svcChain, ctx.endpoints, ladderProbabilities(ctx.endpoints.length, service.ladderProbabilities), options);
  if (externalLocal && ctx.local.length > 0) {
    b.chain('nat', svlChain, owner);
    writeServiceToEndpointRules(b, ctx, svlChain, ctx.local, ladderProbabilities(ctx.local.length, undefined), options);
  }

  for (const ep of ctx.endpoints) {
    const sep = endpointChainName(name, protocol, ep.endpoint);
    b.chain('nat', sep, owner);
    const base = options.comments ? commentArgs(name) : [];
    // "Handle traffic that loops back to the originator with SNAT."
    b.rule('nat', sep, owner, base, '-s', ep.ip, '-j', MARK_MASQ);
    const recent = service.sessionAffinity !== undefined ? ['-m', 'recent', '--name', sep, '--set'] : [];
    b.rule('nat', sep, owner, base, recent, proto, '-j', 'DNAT', '--to-destination', ep.endpoint);
  }
}

/** proxier.go `writeServiceToEndpointRules`: affinity `--rcheck` rules first, then the probability ladder. */
function writeServiceToEndpointRules(
  b: RulesetBuilder,
  ctx: PortContext,
  chain: string,
  endpoints: readonly ResolvedEndpoint[],
  probabilities: readonly (string | null)[],
  options: LayoutOptions,
): void {
  const affinity = ctx.service.sessionAffinity;
  const comment = (ep: ResolvedEndpoint): string[] => (options.comments ? commentArgs(quoted(`${ctx.name} -> ${ep.endpoint}`)) : []);
  if (affinity !== undefined) {
    for (const ep of endpoints) {
      const sep = endpointChainName(ctx.name, ctx.protocol, ep.endpoint);
      b.rule('nat', chain, ctx.owner, comment(ep), '-m', 'recent', '--name', sep, '--rcheck', '--seconds', String(affinity.timeoutSeconds), '--reap', '-j', sep);
    }
  }
  endpoints.forEach((ep, i) => {
    const sep = endpointChainName(ctx.name, ctx.protocol, ep.endpoint);
    const p = probabilities[i] ?? null;
    b.rule('nat', chain, ctx.owner, comment(ep), p === null ? [] : ['-m', 'statistic', '--mode', 'random', '--probability', p], '-j', sep);
  });
}
