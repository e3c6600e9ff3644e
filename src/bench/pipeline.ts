/**
 * Times the pure stages on one dump held in memory, as the exporter runs them: a parsed sample (parse
 * with KUBE-SEP chains folded and the structure scan alongside, model, counter plan, analysis), a
 * reparsed sample (the same after one endpoint was replaced: the parse skips the KUBE-SEP and
 * ladder chains the last parse's caches know, the build keeps the last model's unchanged ladders) and a refreshed
 * sample (scan only, counters into the last model, analysis); plus the naive baseline.
 */
import { analyze, DEFAULT_ANALYSIS_OPTIONS } from '../analysis/analyze.js';
import { DumpParser } from '../iptables/parse-dump.js';
import type { ParsedDump } from '../iptables/types.js';
import { buildServiceModel } from '../model/build-service-model.js';
import { planCounters, readCounters } from '../model/counter-refresh/counter-plan.js';
import { refreshedModel } from '../model/counter-refresh/refreshed-model.js';
import { StructureScanner, type StructureScan } from '../model/counter-refresh/structure-scanner.js';
import { type ChainCaches, createChainFolding, type FoldedChains } from '../model/chain-folding.js';
import { laddersOf } from '../model/counter-refresh/refreshed-model.js';
import type { Ladder, ServiceModel } from '../model/types.js';
import { parseNaive } from './naive-parser.js';
import { replaceOneEndpoint } from './replace-endpoint.js';
import { gc, runTotals, spread, timeRuns, type Spread } from './stats.js';

/** Chunk size of a child's stdout pipe reads (what the live source hands the parser). */
const CHUNK = 64 * 1024;

export interface PipelineTimes {
  readonly naive: Spread;
  /** DumpParser keeping every rule (what `report` does). */
  readonly parse: Spread;
  /** The exporter's parsed read: KUBE-SEP chains folded while streaming, StructureScanner fed alongside. */
  readonly parseFolded: Spread;
  /** StructureScanner alone: a scan-only read. */
  readonly scan: Spread;
  /** planCounters on a parsed read (checked against the model). */
  readonly plan: Spread;
  /** readCounters: the last model with a scan's counters, as CounterRefresher.refresh gives it (arrays, no endpoint objects). */
  readonly refresh: Spread;
  /** Steady-state analysis of the refreshed model (the same ladders as the previous sample: no lookups by key). */
  readonly analysisRefreshed: Spread;
  /** Parse keeping only KUBE-SERVICES: what a per-service-totals-only sample would cost to parse. */
  readonly parseServicesOnly: Spread;
  readonly model: Spread;
  readonly analysisFirst: Spread;
  readonly analysisSteady: Spread;
  /** A parsed sample: parseFolded + model + plan + steady analysis, per run. */
  readonly sample: Spread;
  /** A refreshed sample (rules unchanged): scan + refresh + steady analysis, per run. */
  readonly refreshedSample: Spread;
  /** The parsed read after one endpoint was replaced, with the first parse's KUBE-SEP cache (the scan alongside). */
  readonly parseChanged: Spread;
  /** Its model, built keeping the first model's unchanged ladders (as CounterRefresher.parsed does). */
  readonly modelChanged: Spread;
  /** A reparsed sample: parseChanged + modelChanged + plan + analysis, per run. */
  readonly reparsedSample: Spread;
  /** KUBE-SEP chains that parse took from the cache. */
  readonly reusedEndpointChains: number;
  /** Ladder chains that parse resumed from the cache. */
  readonly reusedLadderChains: number;
  readonly lines: number;
  readonly rules: number;
  readonly ladders: number;
  readonly endpoints: number;
  /** Heap retained by one ParsedDump (after GC), and per rule. */
  readonly dumpHeapBytes: number;
}

export function parseChunked(buffer: Buffer, options: ConstructorParameters<typeof DumpParser>[0] = {}): ParsedDump {
  const parser = new DumpParser(options);
  for (let i = 0; i < buffer.length; i += CHUNK) parser.push(buffer.subarray(i, Math.min(buffer.length, i + CHUNK)));
  return parser.end();
}

/** The same model a few minutes later: every endpoint got `step` more new connections. */
export function advanceModel(model: ServiceModel, step: number): ServiceModel {
  const ladders = model.ladders.map((ladder): Ladder => {
    if (ladder.connections === null) return ladder;
    const endpoints = ladder.endpoints.map((e) => ({ ...e, connections: (e.connections ?? 0) + step }));
    return { ...ladder, endpoints, connections: ladder.connections + step * endpoints.length };
  });
  return { ...model, ladders };
}

function parseFolded(buffer: Buffer, cache?: ChainCaches): { dump: ParsedDump; folded: FoldedChains; scan: StructureScan } {
  const folding = createChainFolding(cache);
  const parser = new DumpParser(folding.parserOptions);
  const scanner = new StructureScanner();
  for (let i = 0; i < buffer.length; i += CHUNK) {
    const chunk = buffer.subarray(i, Math.min(buffer.length, i + CHUNK));
    parser.push(chunk);
    scanner.push(chunk);
  }
  const dump = parser.end();
  return { dump, folded: folding.finish(), scan: scanner.end() };
}

/** The caches a parse of `buffer` leaves when its model is built as CounterRefresher.parsed builds it (releasing the folds records the ladder cache). */
function recordedCaches(buffer: Buffer): ChainCaches {
  const { dump, folded } = parseFolded(buffer);
  buildServiceModel(dump, 'ipv4', { ...folded, releaseFolds: true });
  return folded.caches;
}

function scanChunked(buffer: Buffer): StructureScan {
  const scanner = new StructureScanner();
  for (let i = 0; i < buffer.length; i += CHUNK) scanner.push(buffer.subarray(i, Math.min(buffer.length, i + CHUNK)));
  return scanner.end();
}

/** The same output a few minutes later: every rule's packet counter grew by `step` (the rules are unchanged). */
export function advanceDump(buffer: Buffer, step: number): Buffer {
  return Buffer.from(buffer.toString('latin1').replace(/^\[(\d+):/gm, (_m, p: string) => `[${Number(p) + step}:`), 'latin1');
}

export function timePipeline(buffer: Buffer, runs: number): PipelineTimes {
  const naive = timeRuns(runs, () => parseNaive(buffer.toString('utf8')));

  gc();
  const before = process.memoryUsage().heapUsed;
  const parse = timeRuns(runs, () => parseChunked(buffer));
  const dump = parse.result;
  gc();
  const dumpHeapBytes = process.memoryUsage().heapUsed - before;

  const servicesOnly = timeRuns(runs, () => parseChunked(buffer, { keepChain: (_t, chain) => chain === 'KUBE-SERVICES' }));
  const folded = timeRuns(runs, () => parseFolded(buffer));
  const { folded: foldedChains, scan: parsedScan } = folded.result;

  // As CounterRefresher.parsed builds it: with the affinity lines the counter plan needs.
  let affinityLines = new Map<string, readonly (readonly number[])[]>();
  const model = timeRuns(runs, () => {
    affinityLines = new Map();
    return buildServiceModel(folded.result.dump, 'ipv4', { ...foldedChains, affinityLines });
  });
  const plan = timeRuns(runs, () => planCounters(model.result, affinityLines, parsedScan.packets));
  const counterPlan = plan.result;
  if (counterPlan === null) throw new Error('bench: no counter plan for the generated ruleset');
  const first = timeRuns(runs, () => analyze(undefined, [model.result], 1_000, DEFAULT_ANALYSIS_OPTIONS));
  const later = advanceModel(model.result, 7);
  const steady = timeRuns(runs, () => analyze(first.result.state, [later], 1_010, DEFAULT_ANALYSIS_OPTIONS));

  // The refreshed sample reads an output whose counters moved (by 7 per rule) under the same rules.
  const laterBuffer = advanceDump(buffer, 7);
  const scan = timeRuns(runs, () => scanChunked(laterBuffer));
  if (scan.result.digest !== parsedScan.digest) throw new Error('bench: the advanced dump does not have the same structure');
  const refresh = timeRuns(runs, () => refreshedModel(model.result, readCounters(model.result, counterPlan, scan.result.packets)));
  const refreshedSteady = timeRuns(runs, () => analyze(first.result.state, [refresh.result], 1_010, DEFAULT_ANALYSIS_OPTIONS));

  // A rules change: one endpoint replaced. Every run parses with the first parse's caches.
  const caches = recordedCaches(buffer);
  const changedBuffer = Buffer.from(replaceOneEndpoint(buffer.toString('latin1')).text, 'latin1');
  const parsedChange = timeRuns(runs, () => parseFolded(changedBuffer, caches));
  let changedAffinity = new Map<string, readonly (readonly number[])[]>();
  const modelChanged = timeRuns(runs, () => {
    changedAffinity = new Map();
    const { dump: changedDump, folded: changedFolds } = parsedChange.result;
    return buildServiceModel(changedDump, 'ipv4', { ...changedFolds, affinityLines: changedAffinity, reuseLadders: laddersOf(model.result) });
  });
  const planChanged = timeRuns(runs, () => planCounters(modelChanged.result, changedAffinity, parsedChange.result.scan.packets));
  if (planChanged.result === null) throw new Error('bench: no counter plan after the rules change');
  const analysisChanged = timeRuns(runs, () => analyze(first.result.state, [modelChanged.result], 1_010, DEFAULT_ANALYSIS_OPTIONS));

  let rules = 0;
  for (const table of dump.tables.values()) for (const chain of table.chains.values()) rules += chain.rules.length;
  const endpoints = model.result.ladders.reduce((n, l) => n + l.endpoints.length, 0);
  const sample = runTotals(folded.times, model.times, plan.times, steady.times);
  const refreshedSample = runTotals(scan.times, refresh.times, refreshedSteady.times);
  const reparsedSample = runTotals(parsedChange.times, modelChanged.times, planChanged.times, analysisChanged.times);
  return {
    naive: spread(naive.times),
    parse: spread(parse.times),
    parseFolded: spread(folded.times),
    scan: spread(scan.times),
    plan: spread(plan.times),
    refresh: spread(refresh.times),
    analysisRefreshed: spread(refreshedSteady.times),
    parseServicesOnly: spread(servicesOnly.times),
    model: spread(model.times),
    analysisFirst: spread(first.times),
    analysisSteady: spread(steady.times),
    sample: spread(sample),
    refreshedSample: spread(refreshedSample),
    parseChanged: spread(parsedChange.times),
    modelChanged: spread(modelChanged.times),
    reparsedSample: spread(reparsedSample),
    reusedEndpointChains: parsedChange.result.folded.reusedEndpointChains,
    reusedLadderChains: parsedChange.result.folded.reusedLadderChains,
    lines: dump.lineCount,
    rules,
    ladders: model.result.ladders.length,
    endpoints,
    dumpHeapBytes,
  };
}
