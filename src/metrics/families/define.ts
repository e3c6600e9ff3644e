/** Helpers that turn a value function into a MetricFamily for the common shapes (per ladder, per endpoint, scalar). */
import type { EndpointStats } from '../../analysis/types.js';
import { runToEnd } from '../../slices.js';
import type { Snapshot } from '../../snapshot.js';
import {
  ENDPOINT_LABELS,
  LADDER_LABELS,
  ROWS_PER_STEP,
  type CollectContext,
  type CollectSteps,
  type Emit,
  type LadderView,
  type MetricFamily,
  type MetricType,
} from '../family.js';

interface FamilySpec<V> {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  /** null leaves the series off the page (the value is not defined for this ladder/endpoint right now). */
  readonly value: V;
}

/**
 * A family defined by its steps: collect() drains collectSteps(), so the page's one-go render (update())
 * and its sliced one (schedule()) read the same code and emit the same series.
 */
export function steppedFamily(
  family: Omit<MetricFamily, 'collect' | 'collectSteps'> & {
    collectSteps(snapshot: Snapshot, emit: Emit, context: CollectContext): CollectSteps;
  },
): MetricFamily {
  return {
    ...family,
    collect(snapshot, emit, context) {
      runToEnd(family.collectSteps(snapshot, emit, context));
    },
  };
}

/** One series per ladder with LADDER_LABELS. */
export function ladderFamily(spec: FamilySpec<(ladder: LadderView) => number | null>): MetricFamily {
  return steppedFamily({
    name: spec.name,
    type: spec.type,
    help: spec.help,
    labels: LADDER_LABELS,
    *collectSteps(_snapshot, emit, context) {
      let rows = 0;
      for (const ladder of context.ladders) {
        const v = spec.value(ladder);
        if (v !== null) emit(ladder.labels, v);
        if (++rows % ROWS_PER_STEP === 0) yield;
      }
    },
  });
}

type EndpointValue = (endpoint: EndpointStats, ladder: LadderView) => number | null;

/**
 * One series per endpoint with ENDPOINT_LABELS (`endpoint` '' when unknown); only endpoints that pass
 * the include/exclude filters and the series budget (the view's `endpointIndexes`).
 */
export function endpointFamily(spec: FamilySpec<EndpointValue>): MetricFamily {
  return steppedFamily({
    name: spec.name,
    type: spec.type,
    help: spec.help,
    labels: ENDPOINT_LABELS,
    *collectSteps(_snapshot, emit, context) {
      let rows = 0;
      for (const ladder of context.ladders) {
        if (ladder.endpointIndexes.length > 0) emitEndpoints(spec.value, ladder, emit);
        if (++rows % ROWS_PER_STEP === 0) yield;
      }
    },
  });
}

/** One ladder's endpoint series (a plain function: V8 optimises a loop in it, not one inside a generator). */
function emitEndpoints(value: EndpointValue, ladder: LadderView, emit: Emit): void {
  // The analysis's results make new endpoint objects on each read: read once per ladder, and they die
  // young, with this call.
  const endpoints = ladder.stats.endpoints;
  const indexes = ladder.endpointIndexes;
  for (let i = 0; i < indexes.length; i++) {
    const endpoint = endpoints[indexes[i] as number] as EndpointStats;
    const v = value(endpoint, ladder);
    if (v !== null) emit(ladder.labels, v, endpoint.endpoint ?? '');
  }
}

const NO_LABELS: readonly string[] = [];

/** A single unlabelled series read from the snapshot or the page context. */
export function scalarFamily(
  spec: FamilySpec<(snapshot: Snapshot, context: CollectContext) => number | null>,
): MetricFamily {
  return {
    name: spec.name,
    type: spec.type,
    help: spec.help,
    labels: NO_LABELS,
    collect(snapshot, emit, context) {
      const v = spec.value(snapshot, context);
      if (v !== null) emit(NO_LABELS, v);
    },
  };
}
