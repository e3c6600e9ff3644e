/** Test helper: feeds a sequence of timed samples through `analyze`, keeping every step's output. */
import { analyze, DEFAULT_ANALYSIS_OPTIONS } from '../../src/analysis/analyze.js';
import type { AnalysisOptions, AnalysisResult, AnalysisState, LadderStats } from '../../src/analysis/types.js';
import { buildModel, type LadderSpec } from './ladder-builder.js';

/** Endpoint chains and the default ladder (KUBE-SVC-WEB) the sequence tests use. */
export const A = 'KUBE-SEP-AAAAAAAAAAAAAAAA';
export const B = 'KUBE-SEP-BBBBBBBBBBBBBBBB';
export const C = 'KUBE-SEP-CCCCCCCCCCCCCCCC';

export const web = (endpoints: LadderSpec['endpoints'], extra: Partial<LadderSpec> = {}): LadderSpec => ({
  endpoints,
  ...extra,
});

export interface Step {
  readonly t: number;
  /** ipv4 ladders present in this sample. */
  readonly ladders: readonly LadderSpec[];
}

export interface StepOutput {
  readonly state: AnalysisState;
  readonly result: AnalysisResult;
}

export function runSequence(steps: readonly Step[], options: Partial<AnalysisOptions> = {}): StepOutput[] {
  const merged = { ...DEFAULT_ANALYSIS_OPTIONS, ...options };
  const outputs: StepOutput[] = [];
  let state: AnalysisState | undefined;
  for (const step of steps) {
    const output = analyze(state, [buildModel(step.ladders)], step.t, merged);
    outputs.push(output);
    state = output.state;
  }
  return outputs;
}

/** The stats of ladder `key` in a result; throws when it is missing so tests fail loudly. */
export function ladderOf(output: StepOutput | undefined, key = 'ipv4/KUBE-SVC-WEB'): LadderStats {
  const found = output?.result.ladders.find((l) => l.ladder.key === key);
  if (found === undefined) throw new Error(`ladder ${key} not in result`);
  return found;
}

/** chain → field, for compact assertions. */
type EndpointField = 'connectionsTotal' | 'affinityConnectionsTotal' | 'windowConnections' | 'observedRatio';

export function byChain<K extends EndpointField>(
  stats: LadderStats,
  field: K,
): Record<string, LadderStats['endpoints'][number][K]> {
  return Object.fromEntries(stats.endpoints.map((e) => [e.chain, e[field]]));
}
