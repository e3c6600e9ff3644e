/** The metric-family descriptor: one exposition family, its labels, and how it reads a Snapshot. */
import type { LadderStats } from '../analysis/types.js';
import type { Slices } from '../slices.js';
import type { Snapshot } from '../snapshot.js';

export type MetricType = 'counter' | 'gauge';

/** Labels of every per-ladder family, in this order. Unknown names are ''. */
export const LADDER_LABELS = ['namespace', 'service', 'port', 'protocol', 'ip_family', 'policy'] as const;

/** Labels of every per-endpoint family: the ladder labels plus `endpoint` (`ip:port`, `[v6]:port`, '' when unknown). */
export const ENDPOINT_LABELS = [...LADDER_LABELS, 'endpoint'] as const;

/**
 * Adds one sample to the family being collected. `labelValues` line up with the family's `labels`;
 * with `lastValue`, with all of them but the last, whose value it is. Pass the arrays from LadderView
 * unchanged where you can: the renderer escapes and joins each array once per update and reuses the
 * text across families (by array identity). An endpoint's series is its ladder's array plus its
 * endpoint as `lastValue`: no label array per endpoint (200k of them, with their text, were a third of
 * the exporter's steady heap at 20,000 services x 10 endpoints).
 */
export type Emit = (labelValues: readonly string[], value: number, lastValue?: string) => void;

export interface LadderView {
  readonly stats: LadderStats;
  /** Values for LADDER_LABELS. */
  readonly labels: readonly string[];
  /**
   * Positions in `stats.endpoints` of the endpoints to emit per-endpoint series for: empty when the
   * include/exclude filters exclude the service or the series budget dropped its endpoints. Positions,
   * not endpoint objects: objects made for every endpoint when the views are built would live through
   * the whole render (200k of them at 20,000 services × 10 endpoints), long enough to be promoted, and
   * leave ~20 MiB for the next full GC each render. The families make them per ladder instead.
   */
  readonly endpointIndexes: readonly number[];
}

/** Why ladders or endpoints present in the snapshot have no series on the page. */
export interface WithheldCounts {
  /** Ladders withheld because the snapshot is stale. */
  readonly laddersStale: number;
  /** Ladders whose label set repeats an earlier ladder's (unknown names): only their _info series is emitted. */
  readonly laddersDuplicate: number;
  /** Endpoints of ladders excluded by the namespace/service filters. */
  readonly endpointsFiltered: number;
  /** Endpoints whose `endpoint` label repeats an earlier endpoint's in the same ladder (unknown addresses). */
  readonly endpointsDuplicate: number;
  /** Endpoints of the least active ladders, dropped to keep within --metrics.max-endpoints. */
  readonly endpointsBudget: number;
}

export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly nodejsVersion: string;
}

/** What the page prepares once per update and hands to every family. */
export interface CollectContext {
  /**
   * Ladders with unique label sets, sorted by their label values (then chain); empty when the snapshot
   * is stale or has no analysis. Per-ladder families iterate this.
   */
  readonly ladders: readonly LadderView[];
  /** `ladders` plus the duplicates left out of it, same order: for families whose labels include `chain`. */
  readonly allLadders: readonly LadderView[];
  readonly withheld: WithheldCounts;
  readonly windowSeconds: number;
  readonly build: BuildInfo;
}

/**
 * collect() cut into steps: a generator that emits some series, then `yield`s, until it is done. The
 * page renders a large snapshot a few milliseconds at a time and may pause at any yield (see
 * page-render.ts); the snapshot and context do not change while it is paused.
 */
export type CollectSteps = Slices<void>;

/**
 * Ladders (or rows) per step of a stepped family: a step then takes well under a millisecond, and the
 * generator's per-step cost (an iterator result object per yield) stays small next to the work.
 */
export const ROWS_PER_STEP = 32;

/** One exposition family. Adding a family = one file under families/ plus one line in families/index.ts. */
export interface MetricFamily {
  /** Full metric name; counters end in `_total`. */
  readonly name: string;
  readonly type: MetricType;
  /** Says what a value means: new connections, on this node, derived over the --window where it is. */
  readonly help: string;
  readonly labels: readonly string[];
  /** Synchronous, reads only its arguments; emits nothing to leave the family off the page. */
  collect(snapshot: Snapshot, emit: Emit, context: CollectContext): void;
  /**
   * The same series as collect(), in the same order, yielding between ladders or rows: for families with
   * a series per ladder or endpoint (tens of thousands), so rendering them never holds the event loop
   * for long. Define both with `steppedFamily` (families/define.ts), which derives collect() from it.
   */
  collectSteps?(snapshot: Snapshot, emit: Emit, context: CollectContext): CollectSteps;
}
