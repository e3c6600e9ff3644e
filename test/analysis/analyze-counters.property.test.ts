import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze, DEFAULT_ANALYSIS_OPTIONS } from '../../src/analysis/analyze.js';
import type { AnalysisState } from '../../src/analysis/types.js';
import { buildModel } from './ladder-builder.js';

const POOL: readonly string[] = ['KUBE-SEP-A', 'KUBE-SEP-B', 'KUBE-SEP-C', 'KUBE-SEP-D'];
const KEY = 'ipv4/KUBE-SVC-WEB';

/** What happens to the ladder's chain between two samples. */
type Event =
  | { readonly kind: 'grow'; readonly increments: readonly number[] }
  // Full sync: same members, counters restart. Made visible by a decrease or a new fingerprint.
  | { readonly kind: 'rewrite'; readonly increments: readonly number[]; readonly visibleBy: 'decrease' | 'fingerprint' }
  // Endpoint churn: new members (and so a new fingerprint), counters restart.
  | { readonly kind: 'churn'; readonly increments: readonly number[]; readonly members: readonly boolean[] }
  // The chain is deleted (the ladder is absent from this sample) and comes back at zero later.
  | { readonly kind: 'vanish' };

const increments = fc.array(fc.nat({ max: 1000 }), { minLength: POOL.length, maxLength: POOL.length });
const membership = fc
  .array(fc.boolean(), { minLength: POOL.length, maxLength: POOL.length })
  .filter((members) => members.some(Boolean));
const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('grow' as const), increments }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('rewrite' as const),
      increments,
      visibleBy: fc.constantFrom('decrease' as const, 'fingerprint' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('churn' as const), increments, members: membership }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('vanish' as const) }) },
);

describe('analyze: counter totals (property)', () => {
  it('are monotonic and equal the true increments when every reset is visible', () => {
    fc.assert(
      fc.property(membership, increments, fc.array(event, { maxLength: 25 }), (initialMembers, initial, events) => {
        let members = POOL.filter((_, i) => initialMembers[i]);
        let version = 0;
        // The kernel's rule counters, and the truth: every connection the chains ever counted.
        let raw = new Map(members.map((chain) => [chain, initial[POOL.indexOf(chain)] ?? 0]));
        let truth = new Map(raw);
        let ladderTruth = [...raw.values()].reduce((a, b) => a + b, 0);
        let absent = false;

        let state: AnalysisState | undefined;
        let previousLadderTotal = 0;
        let previousTotals = new Map<string, number>();
        const sample = (t: number): void => {
          const spec = {
            endpoints: Object.fromEntries(members.map((chain) => [chain, raw.get(chain) ?? 0])),
            fingerprint: `${members.join(',')}#${version}`,
          };
          const output = analyze(state, [buildModel(absent ? [] : [spec])], t, DEFAULT_ANALYSIS_OPTIONS);
          state = output.state;
          if (absent) {
            expect(output.result.ladders).toEqual([]);
            return;
          }
          const stats = output.result.ladders.find((l) => l.ladder.key === KEY);
          if (stats === undefined) throw new Error('ladder missing');
          expect(stats.connectionsTotal).toBe(ladderTruth);
          expect(stats.connectionsTotal).toBeGreaterThanOrEqual(previousLadderTotal);
          const totals = new Map(stats.endpoints.map((e) => [e.chain, e.connectionsTotal]));
          expect(totals).toEqual(truth);
          for (const e of stats.endpoints) {
            const before = previousTotals.get(e.chain);
            // An endpoint present in consecutive samples never goes backwards.
            if (before !== undefined) expect(e.connectionsTotal).toBeGreaterThanOrEqual(before);
            if (e.windowConnections !== null) {
              expect(e.windowConnections).toBeGreaterThanOrEqual(0);
              expect(e.windowConnections).toBeLessThanOrEqual(e.connectionsTotal);
            }
          }
          previousLadderTotal = stats.connectionsTotal;
          previousTotals = totals;
        };

        sample(0);
        events.forEach((ev, step) => {
          const t = (step + 1) * 10;
          if (ev.kind === 'vanish') {
            if (!absent) {
              absent = true;
              raw = new Map();
              previousTotals = new Map();
            }
            sample(t);
            return;
          }
          const inc = (chain: string): number => ev.increments[POOL.indexOf(chain)] ?? 0;
          if (ev.kind === 'grow' && !absent) {
            for (const chain of members) raw.set(chain, (raw.get(chain) ?? 0) + inc(chain));
            for (const chain of members) truth.set(chain, (truth.get(chain) ?? 0) + inc(chain));
            ladderTruth += members.reduce((sum, chain) => sum + inc(chain), 0);
            sample(t);
            return;
          }
          // Every other case rewrites the chain: counters restart at zero, then count `inc`.
          const nextMembers = ev.kind === 'churn' ? POOL.filter((_, i) => ev.members[i]) : members;
          const counts = new Map(nextMembers.map((chain) => [chain, inc(chain)]));
          if (absent) {
            // Coming back: the absence itself marks the reset, whatever the fingerprint.
          } else if (ev.kind === 'rewrite' && ev.visibleBy === 'decrease') {
            // Make the restart visible: the endpoint with the largest counter now shows fewer.
            const [largest] = [...raw.entries()].sort((x, y) => y[1] - x[1]);
            if (largest !== undefined && largest[1] > 0) {
              counts.set(largest[0], Math.min(counts.get(largest[0]) ?? 0, largest[1] - 1));
            }
          } else {
            // Fingerprint-visible rewrites and churn.
            version++;
          }
          const nextTruth = new Map<string, number>();
          for (const [chain, count] of counts) {
            // Members that stayed keep their totals; joiners start from the rewritten counter.
            const stayed = members.includes(chain);
            nextTruth.set(chain, (stayed ? (truth.get(chain) ?? 0) : 0) + count);
          }
          ladderTruth += [...counts.values()].reduce((a, b) => a + b, 0);
          members = nextMembers;
          raw = counts;
          truth = nextTruth;
          absent = false;
          sample(t);
        });
      }),
      { numRuns: 300 },
    );
  });
});
