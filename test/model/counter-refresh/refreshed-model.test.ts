// A refreshed read keeps its counters in arrays (readCounters, refreshedModel) and the analysis reads
// them without endpoint objects, taking its same-ladders fast path. On every fixture and real dump, a
// run of refreshed samples must give what parsing every sample gives: the same model when one reads
// its ladders, and the same analysis, number for number, through growth, a counter reset and window
// slides.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze, DEFAULT_ANALYSIS_OPTIONS } from '../../../src/analysis/analyze.js';
import type { AnalysisOptions, AnalysisState } from '../../../src/analysis/types.js';
import { parseDump } from '../../../src/iptables/parse-dump.js';
import { generateBulkRuleset } from '../../../src/lab/ruleset/bulk.js';
import { buildServiceModel } from '../../../src/model/build-service-model.js';
import { applyCounters, planCounters, readCounters, type CounterPlan } from '../../../src/model/counter-refresh/counter-plan.js';
import { CounterRefresher } from '../../../src/model/counter-refresh/counter-refresher.js';
import { laddersOf, laddersWithCounters, refreshedModel } from '../../../src/model/counter-refresh/refreshed-model.js';
import { StructureScanner } from '../../../src/model/counter-refresh/structure-scanner.js';
import type { IpFamily } from '../../../src/iptables/types.js';
import type { ServiceModel } from '../../../src/model/types.js';
import { comparableResult } from '../../analysis/comparable-result.js';
import { DUMP_FILES } from '../../support/dump-files.js';

// Short, so that the samples below slide the window (columns dropped, baselines moved).
const OPTIONS: AnalysisOptions = { ...DEFAULT_ANALYSIS_OPTIONS, windowSeconds: 25 };

function packets(text: string): Float64Array {
  const scanner = new StructureScanner();
  scanner.push(Buffer.from(text, 'utf8'));
  return scanner.end().packets;
}

/** The same rules, every packet counter mapped by `f` (bytes and timestamps left alone: the scan ignores them). */
function withPackets(text: string, f: (packets: number, index: number) => number): string {
  let index = 0;
  return text.replace(/^\[(\d+):(\d+)\]/gm, (_m, p: string, b: string) => `[${f(Number(p), index++)}:${b}]`);
}

/** Later outputs of `text`: growth (uneven), growth, a rewrite that restarts every counter lower, growth again. */
function laterOutputs(text: string): string[] {
  const first = withPackets(text, (p, i) => p + (i % 7) + 1);
  const second = withPackets(first, (p, i) => p + ((i * 13) % 29));
  const reset = withPackets(second, (p, i) => (i % 3 === 0 ? 0 : Math.floor(p / 5)));
  const fourth = withPackets(reset, (p, i) => p + (i % 2));
  const fifth = withPackets(fourth, (p, i) => p + 1000 * (i % 5));
  return [first, second, reset, fourth, fifth];
}

interface Family {
  readonly ipFamily: IpFamily;
  readonly model: ServiceModel;
  readonly plan: CounterPlan;
}

function familiesOf(text: string): Family[] {
  const families: Family[] = [];
  const dump = parseDump(text);
  const ipFamily: IpFamily = /-A KUBE-SEP-\S+ .*-j DNAT --to-destination \[/.test(text) ? 'ipv6' : 'ipv4';
  const affinityLines = new Map<string, readonly (readonly number[])[]>();
  const model = buildServiceModel(dump, ipFamily, { affinityLines });
  const plan = planCounters(model, affinityLines, packets(text));
  if (plan !== null) families.push({ ipFamily, model, plan });
  return families;
}

/** Runs the samples both ways and compares every step; returns how many refreshed steps took the fast path. */
function compareRuns(text: string): number {
  const [family] = familiesOf(text);
  if (family === undefined) return -1;
  const { ipFamily, model, plan } = family;
  let parsedState: AnalysisState | undefined;
  let refreshedState: AnalysisState | undefined;
  let fast = 0;
  const outputs = [text, ...laterOutputs(text)];
  for (const [i, output] of outputs.entries()) {
    const now = 1_000 + 10 * i;
    const parsedModel = buildServiceModel(parseDump(output), ipFamily);
    const refreshed = i === 0 ? model : refreshedModel(model, readCounters(model, plan, packets(output)));
    const parsedStep = analyze(parsedState, [parsedModel], now, OPTIONS);
    const refreshedStep = analyze(refreshedState, [refreshed], now, OPTIONS);
    expect(comparableResult(refreshedStep.result)).toEqual(comparableResult(parsedStep.result));
    if (refreshedState !== undefined && refreshedStep.state.layout === refreshedState.layout) fast++;
    parsedState = parsedStep.state;
    refreshedState = refreshedStep.state;
    // Read last: building its ladders must not change what the analysis saw.
    expect(refreshed).toStrictEqual(parsedModel);
  }
  return fast;
}

describe('refreshed reads: counters as arrays, analysed without endpoint objects', () => {
  for (const file of DUMP_FILES) {
    it(file.split('/').slice(-2).join('/'), () => {
      const fast = compareRuns(readFileSync(file, 'utf8'));
      // A dump without counters has no plan, so no refreshed reads; every other takes the fast path.
      if (fast >= 0) expect(fast).toBe(laterOutputs('').length);
    });
  }

  it('a generated cluster with session affinity', () => {
    const text = generateBulkRuleset({ services: 30, endpointsPerService: 4, seed: 3, comments: true }).replace(
      /^(\[\d+:\d+\] -A (KUBE-SVC-\w+) )(-m comment --comment "[^"]+" )?-m statistic --mode random --probability [\d.]+ -j (KUBE-SEP-\w+)$/gm,
      (line: string, prefix: string, _chain: string, comment: string | undefined, sep: string) =>
        `${prefix}${comment ?? ''}-m recent --name ${sep} --mask 255.255.255.255 --rsource --rcheck --seconds 10800 --reap -j ${sep}\n${line}`,
    );
    expect(text).toContain('--rcheck');
    expect(compareRuns(text)).toBe(laterOutputs('').length);
  });

  it('reads what applyCounters puts into endpoint objects, and keeps the arrays out of sight', () => {
    const text = generateBulkRuleset({ services: 12, endpointsPerService: 3, seed: 9, comments: true });
    const [family] = familiesOf(text);
    if (family === undefined) throw new Error('no plan');
    const later = packets(laterOutputs(text)[1] ?? '');
    const counters = readCounters(family.model, family.plan, later);
    const model = refreshedModel(family.model, counters);
    expect(laddersWithCounters(counters)).toStrictEqual(applyCounters(family.model, family.plan, later).ladders);
    expect(Object.keys(model).sort()).toEqual(['hasCounters', 'ipFamily', 'ladders', 'skipped', 'warnings']);
    expect(model.counters).toBe(counters);
    // Built once, on the first read.
    expect(model.ladders).toBe(model.ladders);
    // A copy (the Kubernetes naming hook spreads models) has plain ladders and no arrays: it is analysed from its objects.
    expect({ ...model }.counters).toBeUndefined();
  });

  it('CounterRefresher hands out such models, over the ladders of its parsed read', async () => {
    const text = generateBulkRuleset({ services: 8, endpointsPerService: 2, seed: 4, comments: true });
    const scan = (t: string) => {
      const scanner = new StructureScanner();
      scanner.push(Buffer.from(t, 'utf8'));
      return scanner.end();
    };
    const refresher = new CounterRefresher();
    const first = await refresher.parsed(scan(text), parseDump(text), 'ipv4');
    const base = await refresher.parsed(scan(text), parseDump(text), 'ipv4');
    if ('modelError' in base || 'modelError' in first) throw new Error('model error');
    // The second parse found every ladder unchanged: it holds the first one's (ladder-reuse.ts).
    expect(laddersOf(base.model)).toEqual(first.model.ladders);
    laddersOf(base.model).forEach((ladder, i) => expect(ladder).toBe(first.model.ladders[i]));
    const later = laterOutputs(text)[0] ?? '';
    const read = await refresher.refresh(scan(later));
    expect(read?.model.counters?.ladders).toBe(laddersOf(base.model));
    expect(read?.model).toStrictEqual(buildServiceModel(parseDump(later), 'ipv4'));
  });
});
