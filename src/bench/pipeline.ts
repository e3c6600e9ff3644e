/** Times the pure stages on one dump held in memory: naive parse, our parse, model, analysis (first and steady-state). */
import { analyze, DEFAULT_ANALYSIS_OPTIONS } from '../analysis/analyze.js';
import { DumpParser } from '../iptables/parse-dump.js';
import type { ParsedDump } from '../iptables/types.js';
import { buildServiceModel } from '../model/build-service-model.js';
import type { Ladder, ServiceModel } from '../model/types.js';
import { parseNaive } from './naive-parser.js';
import { gc, spread, timeRuns, type Spread } from './stats.js';

/** Chunk size of a child's stdout pipe reads (what the live source hands the parser). */
const CHUNK = 64 * 1024;

export interface PipelineTimes {
  readonly naive: Spread;
  readonly parse: Spread;
  /** Parse keeping only KUBE-SERVICES: what a per-service-totals-only sample would cost to parse. */
  readonly parseServicesOnly: Spread;
  readonly model: Spread;
  readonly analysisFirst: Spread;
  readonly analysisSteady: Spread;
  /** parse + model + steady analysis, per run. */
  readonly sample: Spread;
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

export function timePipeline(buffer: Buffer, runs: number): PipelineTimes {
  const naive = timeRuns(runs, () => parseNaive(buffer.toString('utf8')));
  const naiveLines = naive.result.lines;
  void naiveLines;

  gc();
  const before = process.memoryUsage().heapUsed;
  const parse = timeRuns(runs, () => parseChunked(buffer));
  const dump = parse.result;
  gc();
  const dumpHeapBytes = process.memoryUsage().heapUsed - before;

  const servicesOnly = timeRuns(runs, () => parseChunked(buffer, { keepChain: (_t, chain) => chain === 'KUBE-SERVICES' }));

  const model = timeRuns(runs, () => buildServiceModel(dump, 'ipv4'));
  const first = timeRuns(runs, () => analyze(undefined, [model.result], 1_000, DEFAULT_ANALYSIS_OPTIONS));
  const later = advanceModel(model.result, 7);
  const steady = timeRuns(runs, () => analyze(first.result.state, [later], 1_010, DEFAULT_ANALYSIS_OPTIONS));

  let rules = 0;
  for (const table of dump.tables.values()) for (const chain of table.chains.values()) rules += chain.rules.length;
  const endpoints = model.result.ladders.reduce((n, l) => n + l.endpoints.length, 0);
  const sample = parse.times.map((t, i) => t + (model.times[i] ?? 0) + (steady.times[i] ?? 0));
  return {
    naive: spread(naive.times),
    parse: spread(parse.times),
    parseServicesOnly: spread(servicesOnly.times),
    model: spread(model.times),
    analysisFirst: spread(first.times),
    analysisSteady: spread(steady.times),
    sample: spread(sample),
    lines: dump.lineCount,
    rules,
    ladders: model.result.ladders.length,
    endpoints,
    dumpHeapBytes,
  };
}
