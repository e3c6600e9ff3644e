/** Test helper: Snapshot literals from compact ladder specs, with the derived ratios computed the kube-proxy way. */
import type { EndpointStats, LadderStats, WindowStats } from '../../src/analysis/types.js';
import type { IpFamily } from '../../src/iptables/types.js';
import type { Ladder, LadderEndpoint, Policy } from '../../src/model/types.js';
import type { FamilySample, Snapshot } from '../../src/snapshot.js';

export interface EndpointSpec {
  readonly endpoint: string | null;
  /** Reset-corrected total (default 0). */
  readonly total?: number;
  /** Affinity subset of `total` (default 0). */
  readonly affinity?: number;
  /** New connections in the window; absent = window unknown. */
  readonly window?: number;
  /** Printed probability; default kube-proxy's 1/(n-i), null on the last rule. */
  readonly probability?: number | null;
}

export interface LadderSpec {
  /** null = the service port could not be identified (labels become ''). */
  readonly name?: { namespace: string; service: string; port: string } | null;
  readonly protocol?: string | null;
  readonly ipFamily?: IpFamily;
  readonly policy?: Policy;
  readonly chain?: string;
  readonly clusterIP?: string | null;
  readonly affinity?: boolean;
  readonly endpoints: readonly EndpointSpec[];
  /** Overrides of the window stats derived from the endpoints' window counts. */
  readonly window?: Partial<WindowStats>;
  readonly resets?: number;
  /** Default: sum of endpoint totals. */
  readonly connectionsTotal?: number;
}

/** A stable 16-character chain suffix from the ladder's identity (FNV-1a; kube-proxy uses sha256+base32). */
function chainSuffixOf(text: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let h = 0x811c9dc5;
  let out = '';
  for (let round = 0; out.length < 16; round++) {
    for (const c of `${round}:${text}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    out += alphabet[h % 32] ?? 'A';
  }
  return out;
}

export function ladderStats(spec: LadderSpec): LadderStats {
  const n = spec.endpoints.length;
  const policy = spec.policy ?? 'cluster';
  const name = spec.name === undefined ? { namespace: 'default', service: 'web', port: 'http' } : spec.name;
  const protocol = spec.protocol === undefined ? 'tcp' : spec.protocol;
  const chainSuffix = chainSuffixOf(`${name?.namespace}/${name?.service}:${name?.port}${protocol}${spec.ipFamily}`);
  const chain = spec.chain ?? `${policy === 'local' ? 'KUBE-SVL-' : 'KUBE-SVC-'}${chainSuffix}`;
  const ipFamily = spec.ipFamily ?? 'ipv4';

  let remaining = 1;
  const modelEndpoints: LadderEndpoint[] = [];
  const stats: EndpointStats[] = [];
  const windowTotal = spec.endpoints.every((e) => e.window !== undefined)
    ? spec.endpoints.reduce((sum, e) => sum + (e.window ?? 0), 0)
    : null;
  spec.endpoints.forEach((e, i) => {
    const probability = e.probability !== undefined ? e.probability : i === n - 1 ? null : 1 / (n - i);
    const programmedRatio = remaining * (probability ?? 1);
    remaining -= programmedRatio;
    const sep = `KUBE-SEP-${chainSuffix.slice(0, 12)}${String(i).padStart(4, '0')}`;
    const common = { endpoint: e.endpoint, chain: sep, probability, programmedRatio, expectedRatio: 1 / n };
    modelEndpoints.push({
      ...common,
      connections: e.total ?? 0,
      affinityConnections: spec.affinity ? (e.affinity ?? 0) : null,
      line: 100 + i,
    });
    stats.push({
      ...common,
      connectionsTotal: e.total ?? 0,
      affinityConnectionsTotal: e.affinity ?? 0,
      windowConnections: windowTotal === null ? null : (e.window ?? 0),
      observedRatio: windowTotal === null || windowTotal === 0 ? null : (e.window ?? 0) / windowTotal,
    });
  });

  const connectionsTotal = spec.connectionsTotal ?? stats.reduce((sum, e) => sum + e.connectionsTotal, 0);
  const skew =
    windowTotal === null || windowTotal === 0
      ? null
      : Math.max(...stats.map((e) => (e.observedRatio ?? 0) / e.expectedRatio));
  const window: WindowStats = {
    seconds: windowTotal === null ? 0 : 300,
    connections: windowTotal,
    skewRatio: skew,
    chiSquare: null,
    pValue: null,
    membershipChanged: false,
    ...spec.window,
  };
  const ladder: Ladder = {
    key: `${ipFamily}/${chain}`,
    chain,
    policy,
    ipFamily,
    name,
    protocol,
    clusterIP: spec.clusterIP === undefined ? '10.96.0.10' : spec.clusterIP,
    servicePort: 80,
    nodePort: null,
    externalIPs: [],
    loadBalancerIPs: [],
    sessionAffinity: spec.affinity ? { timeoutSeconds: 10800 } : null,
    endpoints: modelEndpoints,
    connections: connectionsTotal,
    fingerprint: modelEndpoints.map((e) => `${e.chain}@${e.probability}`).join(','),
    unreachableRules: 0,
  };
  const programmedDeviation = Math.max(0, ...stats.map((e) => Math.abs(e.programmedRatio - e.expectedRatio)));
  return { ladder, connectionsTotal, endpoints: stats, window, programmedDeviation, resets: spec.resets ?? 0 };
}

export function familySample(ipFamily: IpFamily, overrides: Partial<FamilySample> = {}): FamilySample {
  return {
    ipFamily,
    backend: 'nft',
    ok: true,
    error: null,
    skipped: [],
    warnings: [],
    outputBytes: 4096,
    durationSeconds: 0.05,
    ...overrides,
  };
}

export interface SnapshotSpec extends Partial<Omit<Snapshot, 'analysis'>> {
  /** Ladders of the analysis; `null` for a snapshot without analysis (before the first good sample). */
  readonly ladders?: readonly LadderSpec[] | null;
  readonly resetsThisSample?: number;
}

export function buildSnapshot(spec: SnapshotSpec = {}): Snapshot {
  const { ladders = [], resetsThisSample = 0, ...rest } = spec;
  return {
    lastSuccessTimestamp: 1_700_000_000,
    timestamp: 1_700_000_000,
    up: true,
    stale: false,
    sampleDurationSeconds: 0.125,
    sampleIntervalSeconds: 10,
    families: [familySample('ipv4')],
    errorsTotal: { save: 0, parse: 0, model: 0, analysis: 0, render: 0 },
    resetsTotal: 0,
    skippedTotal: {},
    samplesTotal: 1,
    ...rest,
    analysis: ladders === null ? null : { ladders: ladders.map(ladderStats), resetsThisSample },
  };
}
