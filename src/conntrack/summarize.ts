/** Turns a scan's tallies into per service port stats: every endpoint of the rules (zeros included), shares and skew. */
import type { FrontendIndex } from './frontends.js';
import { tallyKey, type EndpointTally } from './scan.js';
import type { ConntrackEndpointStats, ConntrackServicePortStats } from './types.js';

/** max_i (value_i / total) / expected, or null when the total is 0. */
export function skewRatio(values: readonly number[], expectedRatio: number): number | null {
  let total = 0;
  let max = 0;
  for (const v of values) {
    total += v;
    if (v > max) max = v;
  }
  if (total <= 0 || expectedRatio <= 0) return null;
  return max / total / expectedRatio;
}

export interface SummarizeOptions {
  /** `nf_conntrack_acct`: false or null withholds packets and bytes even if some flows carry counters. */
  readonly accounting: boolean | null;
  /** Cumulative new flows per tally key (nftables mode); absent = not counted. */
  readonly newFlowsTotal?: ReadonlyMap<string, number>;
}

export function summarizeScan(
  index: FrontendIndex,
  tallies: ReadonlyMap<string, EndpointTally>,
  options: SummarizeOptions,
): ConntrackServicePortStats[] {
  const out: ConntrackServicePortStats[] = [];
  for (const servicePort of index.servicePorts) {
    const n = servicePort.endpoints.length;
    if (n === 0) continue;
    const expectedRatio = 1 / n;
    const endpoints: ConntrackEndpointStats[] = servicePort.endpoints.map((endpoint) => {
      const key = tallyKey(servicePort, endpoint);
      const t = tallies.get(key);
      const counted = options.accounting === true && t !== undefined && t.counted > 0;
      return {
        endpoint,
        established: t?.established ?? 0,
        all: t?.all ?? 0,
        // With accounting on, an endpoint without flows has 0 bytes, not an unknown number.
        original: options.accounting !== true ? null : counted ? { packets: t.originalPackets, bytes: t.originalBytes } : { packets: 0, bytes: 0 },
        reply: options.accounting !== true ? null : counted ? { packets: t.replyPackets, bytes: t.replyBytes } : { packets: 0, bytes: 0 },
        newFlowsTotal: options.newFlowsTotal === undefined ? null : (options.newFlowsTotal.get(key) ?? 0),
      };
    });
    out.push({
      labels: servicePort.labels,
      expectedRatio,
      endpoints,
      activeSkewRatio: skewRatio(
        endpoints.map((e) => e.all),
        expectedRatio,
      ),
      bytesSkewRatio:
        options.accounting === true
          ? skewRatio(
              endpoints.map((e) => (e.original?.bytes ?? 0) + (e.reply?.bytes ?? 0)),
              expectedRatio,
            )
          : null,
    });
  }
  return out;
}
