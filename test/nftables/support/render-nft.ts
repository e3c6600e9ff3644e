/**
 * Test helper: a ruleset in kube-proxy's nftables layout (pkg/proxy/nftables/proxier.go) for the lab,
 * IPv4: nat base chains, `services` dispatch through the service-ips / service-nodeports maps, one
 * service-… chain per service port with `numgen random mod N vmap`, and endpoint-… chains with DNAT.
 */
import { endpointChainBase, servicePortChainBase } from '../../../src/nftables/chain-names.js';

export interface NftServiceSpec {
  readonly namespace: string;
  readonly name: string;
  readonly port: string;
  readonly protocol: 'tcp' | 'udp';
  readonly clusterIP: string;
  readonly servicePort: number;
  readonly nodePort?: number;
  /** `ip:port` in the order kube-proxy writes them. */
  readonly endpoints: readonly string[];
  /** Indices into `endpoints`, one per vmap slot; default 0..n-1 (uniform). `[0, 1, 0]` skews it. */
  readonly slots?: readonly number[];
}

export function serviceChain(s: NftServiceSpec): string {
  return `service-${servicePortChainBase(s.namespace, s.name, s.protocol, s.port)}`;
}

function endpointChain(s: NftServiceSpec, endpoint: string): string {
  const [ip, port] = endpoint.split(':') as [string, string];
  return `endpoint-${endpointChainBase(s.namespace, s.name, s.protocol, s.port, ip, Number(port))}`;
}

export function renderKubeProxyNftables(services: readonly NftServiceSpec[], podCIDR: string): string {
  const out: string[] = [
    'table ip kube-proxy {',
    '  comment "rules for kube-proxy"',
    '  chain nat-prerouting { type nat hook prerouting priority -100; policy accept; jump services; }',
    '  chain nat-output { type nat hook output priority -100; policy accept; jump services; }',
    '  chain nat-postrouting { type nat hook postrouting priority 100; policy accept; jump masquerading; }',
    '  chain mark-for-masquerade { mark set mark or 0x4000; }',
    '  chain masquerading { mark and 0x4000 == 0 return; mark set mark xor 0x4000; masquerade fully-random; }',
    '  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"; }',
    '  map service-nodeports { type inet_proto . inet_service : verdict; comment "NodePort traffic"; }',
    '  chain services {',
    '    ip daddr . meta l4proto . th dport vmap @service-ips',
    '    fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports',
    '  }',
  ];
  const elements: string[] = [];
  for (const s of services) {
    const svc = serviceChain(s);
    const slots = s.slots ?? s.endpoints.map((_, i) => i);
    const vmap = slots.map((e, i) => `${i} : goto ${endpointChain(s, s.endpoints[e] ?? '')}`).join(', ');
    out.push(`  chain ${svc} {`);
    out.push(`    ip daddr ${s.clusterIP} ${s.protocol} dport ${s.servicePort} ip saddr != ${podCIDR} jump mark-for-masquerade`);
    out.push(`    numgen random mod ${slots.length} vmap { ${vmap} }`);
    out.push('  }');
    for (const ep of s.endpoints) {
      const ip = ep.split(':')[0] ?? '';
      out.push(`  chain ${endpointChain(s, ep)} {`, `    ip saddr ${ip} jump mark-for-masquerade`, `    meta l4proto ${s.protocol} dnat to ${ep}`, '  }');
    }
    elements.push(`add element ip kube-proxy service-ips { ${s.clusterIP} . ${s.protocol} . ${s.servicePort} : goto ${svc} }`);
    if (s.nodePort !== undefined) {
      const ext = svc.replace(/^service-/, 'external-');
      out.push(`  chain ${ext} { jump mark-for-masquerade; goto ${svc}; }`);
      elements.push(`add element ip kube-proxy service-nodeports { ${s.protocol} . ${s.nodePort} : goto ${ext} }`);
    }
  }
  out.push('}');
  return `${out.join('\n')}\n${elements.join('\n')}\n`;
}
