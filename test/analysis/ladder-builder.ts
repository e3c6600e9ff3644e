/** Test helper: ServiceModel / Ladder literals from per-endpoint counter tables. */
import type { IpFamily } from '../../src/iptables/types.js';
import type { Ladder, LadderEndpoint, ServiceModel } from '../../src/model/types.js';

/** Raw connections, or [connections, affinityConnections]. */
export type EndpointCounter = number | readonly [number, number];

export interface LadderSpec {
  /** KUBE-SVC-* chain; default KUBE-SVC-WEB. */
  readonly chain?: string;
  readonly ipFamily?: IpFamily;
  /** SEP chain → raw counter, in rule order; null for a dump without counters. */
  readonly endpoints: Readonly<Record<string, EndpointCounter | null>>;
  /** Overrides the fingerprint derived from chains and probabilities (a rewrite with new probabilities). */
  readonly fingerprint?: string;
  /** Overrides the uniform programmed shares (a non-uniform ladder). */
  readonly programmedRatios?: readonly number[];
}

export function buildLadder(spec: LadderSpec): Ladder {
  const chain = spec.chain ?? 'KUBE-SVC-WEB';
  const ipFamily = spec.ipFamily ?? 'ipv4';
  const entries = Object.entries(spec.endpoints);
  const n = entries.length;
  const hasAffinity = entries.some(([, counter]) => Array.isArray(counter));
  const endpoints = entries.map(([sep, counter], i): LadderEndpoint => {
    const connections = counter === null ? null : typeof counter === 'number' ? counter : counter[0];
    const affinity = counter === null || typeof counter === 'number' ? null : counter[1];
    return {
      endpoint: `10.0.0.${i + 1}:8080`,
      chain: sep,
      // kube-proxy's ladder: 1/(n-i) for every rule but the last.
      probability: i === n - 1 ? null : 1 / (n - i),
      programmedRatio: spec.programmedRatios?.[i] ?? 1 / n,
      expectedRatio: 1 / n,
      connections,
      affinityConnections: connections === null ? null : hasAffinity ? (affinity ?? 0) : null,
      line: 10 + i,
    };
  });
  const withCounters = endpoints.every((e) => e.connections !== null);
  return {
    key: `${ipFamily}/${chain}`,
    chain,
    policy: 'cluster',
    ipFamily,
    name: { namespace: 'default', service: 'web', port: 'http' },
    protocol: 'tcp',
    clusterIP: ipFamily === 'ipv4' ? '10.96.0.10' : 'fd00::10',
    servicePort: 80,
    nodePort: null,
    externalIPs: [],
    loadBalancerIPs: [],
    sessionAffinity: hasAffinity ? { timeoutSeconds: 10800 } : null,
    endpoints,
    connections: withCounters ? endpoints.reduce((sum, e) => sum + (e.connections ?? 0), 0) : null,
    fingerprint: spec.fingerprint ?? endpoints.map((e) => `${e.chain}:${e.probability ?? '-'}`).join(','),
    unreachableRules: 0,
  };
}

/** One family's model holding the given ladders. */
export function buildModel(ladders: readonly LadderSpec[], ipFamily: IpFamily = 'ipv4'): ServiceModel {
  return {
    ipFamily,
    ladders: ladders.map((spec) => buildLadder({ ipFamily, ...spec })),
    skipped: [],
    hasCounters: ladders.some((spec) => Object.values(spec.endpoints).some((c) => c !== null)),
    warnings: [],
  };
}
