/**
 * The two chains whose rule order the structure digest ignores: KUBE-SERVICES and KUBE-NODEPORTS.
 *
 * kube-proxy rewrites both at every sync, partial syncs included, writing one service port's rules
 * after another in the order it walks its service map (`for svcName, svc := range
 * proxier.svcPortMap` in syncProxyRules): a Go map, so a new order every time. A sync happens on any
 * Service or EndpointSlice event anywhere in the cluster (at most once per minSyncPeriod, 1 s by
 * default) and at least hourly, also when no chain's rules change. With an exact digest every such
 * sync looked like a rules change and cost a full parse; on a large, busy cluster that was every read.
 *
 * So the scan digests each run of consecutive rules of one of these chains as a multiset: every
 * line's own hash (TwoLaneHash over the line after its counters, then \n; fmix32 per lane) is added
 * into two sums, the digest takes only a mark of the chain per line, and the sums when the run ends.
 * Equal digests then mean: every other line the same and at the same line number, and these chains
 * the same rules in some order within their runs. The model does not depend on that order
 * (collectServicePortsInSlices reads these rules sorted), and the counter plan reads no line of
 * them, so a refresh stays exact. What a refreshed read keeps from the parsed one that could differ:
 * the line numbers of skipped lines inside these runs (the exporter exports only their count).
 *
 * The WebAssembly scan (structure-scan.wat) does the same; reference-structure-scanner.ts uses
 * these functions and the tests hold the two equal.
 */
import { startsWithBytes } from '../../iptables/byte-strings.js';
import type { TwoLaneHash } from '../../iptables/two-lane-hash.js';

/** A line's kind: a rule of a chain whose order is kept, or of one of the two unordered chains. */
export const RuleOrder = {
  Kept: 0,
  Services: 1,
  NodePorts: 2,
} as const;
export type RuleOrder = (typeof RuleOrder)[keyof typeof RuleOrder];

/** The sums of the run being read (two 32-bit lanes, wrapping). */
export interface UnorderedRun {
  kind: RuleOrder;
  sum1: number;
  sum2: number;
}

const SERVICES_RULE = Buffer.from('-A KUBE-SERVICES ');
const NODEPORTS_RULE = Buffer.from('-A KUBE-NODEPORTS ');

/**
 * The kind of the line bytes[start, end): a rule of KUBE-SERVICES or KUBE-NODEPORTS (`-A NAME `,
 * after `[counters] ` when it has them: the first `]`, then one space), else Kept.
 */
export function lineKindOf(bytes: Uint8Array, start: number, end: number): RuleOrder {
  let at = start;
  if (bytes[start] === 91 /* [ */) {
    const close = bytes.indexOf(93 /* ] */, start);
    if (close < 0 || close + 1 >= end || bytes[close + 1] !== 32) return RuleOrder.Kept;
    at = close + 2;
  }
  if (startsWithBytes(bytes, at, end, SERVICES_RULE)) return RuleOrder.Services;
  if (startsWithBytes(bytes, at, end, NODEPORTS_RULE)) return RuleOrder.NodePorts;
  return RuleOrder.Kept;
}

/** MurmurHash3's finaliser: every input bit reaches every output bit, so sums of line hashes do not cancel. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

const sums = Buffer.alloc(8);

/** Ends `run`: its two sums (little-endian words) go into the digest, and are cleared. Returns the bytes digested (8). */
export function mixUnordered(lanes: TwoLaneHash, run: UnorderedRun): number {
  sums.writeInt32LE(run.sum1, 0);
  sums.writeInt32LE(run.sum2, 4);
  lanes.bytes(sums, 0, 8);
  run.sum1 = 0;
  run.sum2 = 0;
  return 8;
}
