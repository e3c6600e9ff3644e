/** Test helper: minimal Ladder literals for the conntrack view (only the fields it reads matter). */
import type { IpFamily } from '../../src/iptables/types.js';
import type { Ladder, Policy } from '../../src/model/types.js';

export interface LadderSpec {
  readonly name: { namespace: string; service: string; port: string } | null;
  readonly protocol?: string;
  readonly ipFamily?: IpFamily;
  readonly policy?: Policy;
  readonly clusterIP?: string | null;
  readonly servicePort?: number | null;
  readonly nodePort?: number | null;
  readonly externalIPs?: readonly string[];
  readonly loadBalancerIPs?: readonly string[];
  readonly endpoints: readonly string[];
  readonly connections?: readonly number[];
}

export function ladder(spec: LadderSpec): Ladder {
  const n = spec.endpoints.length;
  const ipFamily = spec.ipFamily ?? 'ipv4';
  const chain = `KUBE-${spec.policy === 'local' ? 'SVL' : 'SVC'}-${(spec.name?.service ?? 'X').toUpperCase()}`;
  return {
    key: `${ipFamily}/${chain}`,
    chain,
    policy: spec.policy ?? 'cluster',
    ipFamily,
    name: spec.name,
    protocol: spec.protocol ?? 'tcp',
    clusterIP: spec.clusterIP ?? null,
    servicePort: spec.servicePort ?? null,
    nodePort: spec.nodePort ?? null,
    externalIPs: spec.externalIPs ?? [],
    loadBalancerIPs: spec.loadBalancerIPs ?? [],
    sessionAffinity: null,
    endpoints: spec.endpoints.map((endpoint, i) => ({
      endpoint,
      chain: `KUBE-SEP-${i}`,
      probability: i === n - 1 ? null : 1 / (n - i),
      programmedRatio: 1 / n,
      expectedRatio: 1 / n,
      connections: spec.connections?.[i] ?? null,
      affinityConnections: null,
      line: i + 1,
    })),
    connections: spec.connections === undefined ? null : spec.connections.reduce((a, b) => a + b, 0),
    fingerprint: spec.endpoints.join(','),
    unreachableRules: 0,
  };
}

/** The model the fixtures in test/conntrack/fixtures are written against. */
export const FIXTURE_LADDERS: readonly Ladder[] = [
  ladder({
    name: { namespace: 'shop', service: 'frontend', port: 'http' },
    clusterIP: '10.96.0.10',
    servicePort: 80,
    nodePort: 30080,
    endpoints: ['10.244.1.5:8080', '10.244.2.9:8080', '10.244.3.4:8080'],
  }),
  ladder({
    name: { namespace: 'kube-system', service: 'kube-dns', port: 'dns' },
    protocol: 'udp',
    clusterIP: '10.96.0.53',
    servicePort: 53,
    endpoints: ['10.244.0.2:53', '10.244.0.3:53'],
  }),
  ladder({
    name: { namespace: 'shop', service: 'cart', port: '' },
    ipFamily: 'ipv6',
    clusterIP: 'fd00:10:96::1a',
    servicePort: 9000,
    endpoints: ['[fd00:10:244::5]:9000', '[fd00:10:244::6]:9000'],
  }),
];
