/** Window columns: what every endpoint's total grew by in one sample, packed as narrow as the values allow. */
import { runToEnd, type Slices } from '../slices.js';

/**
 * One sample of the window: per endpoint, ladder after ladder (at the ladders' `at` offsets of that
 * sample), what its reset-corrected total grew by since the ladder's previous sample, or its whole
 * total when it joined. Cumulative totals need 8 bytes each; these are counts of new connections over
 * one interval, which fit a byte or two nearly always. A value the array cannot hold exactly (too
 * large, fractional, negative, -0) is stored as `escape` with the value itself in `wide`, so a few
 * busy endpoints do not widen the whole column. Never written after the sample that created it.
 */
export interface IncrementColumn {
  readonly timeSeconds: number;
  readonly values: Uint8Array | Uint16Array | Uint32Array | Float64Array;
  /** The array's largest value marks an escaped entry (NaN, never equal, in a Float64Array). */
  readonly escape: number;
  readonly wide: ReadonlyMap<number, number> | null;
}

// Bytes an escaped entry costs in a Map (entry, bucket share, boxed key or value), roughly.
const ESCAPE_COST = 40;
const U8 = 0xff;
const U16 = 0xffff;
const U32 = 0xffffffff;

/** Whether `v` fits an unsigned array whose largest value `max` is reserved as the escape mark. */
function fits(v: number, max: number): boolean {
  return v >= 0 && v < max && Number.isInteger(v) && !Object.is(v, -0);
}

/** Packs `increments` (read, not kept) into the narrowest array that, with escapes, costs the fewest bytes. */
export function packIncrements(timeSeconds: number, increments: Float64Array): IncrementColumn {
  return runToEnd(packIncrementsInSteps(timeSeconds, increments, Math.max(1, increments.length)));
}

/**
 * packIncrements with a checkpoint (a `yield`) after every `stepValues` values of each of its two
 * passes, for analyzeInSlices: one sample's column is every endpoint (200k at 20,000 services × 10
 * endpoints), and a start-up sample packs it before V8 has optimised the loops, ~30 ms in one go,
 * into which a garbage collection could fall (a 118 ms block, measured). The loops are plain
 * functions called per step: V8 optimises a loop there, not one inside a generator.
 */
export function* packIncrementsInSteps(timeSeconds: number, increments: Float64Array, stepValues: number): Slices<IncrementColumn> {
  const n = increments.length;
  const over: Oversized = { over8: 0, over16: 0, over32: 0 };
  for (let from = 0; from < n; from += stepValues) {
    countOversized(increments, from, Math.min(n, from + stepValues), over);
    yield;
  }
  const { over8, over16, over32 } = over;
  const costs = [n + ESCAPE_COST * over8, 2 * n + ESCAPE_COST * over16, 4 * n + ESCAPE_COST * over32, 8 * n];
  const best = costs.indexOf(Math.min(...costs));
  if (best === 3) return { timeSeconds, values: Float64Array.from(increments), escape: Number.NaN, wide: null };
  const max = best === 0 ? U8 : best === 1 ? U16 : U32;
  const values = best === 0 ? new Uint8Array(n) : best === 1 ? new Uint16Array(n) : new Uint32Array(n);
  let wide: Map<number, number> | null = null;
  for (let from = 0; from < n; from += stepValues) {
    wide = packRange(increments, values, max, from, Math.min(n, from + stepValues), wide);
    yield;
  }
  return { timeSeconds, values, escape: max, wide };
}

/** How many values do not fit each width (each count includes the wider ones'). */
interface Oversized {
  over8: number;
  over16: number;
  over32: number;
}

function countOversized(increments: Float64Array, from: number, to: number, over: Oversized): void {
  let { over8, over16, over32 } = over;
  for (let i = from; i < to; i++) {
    const v = increments[i] as number;
    if (fits(v, U8)) continue;
    over8++;
    if (fits(v, U16)) continue;
    over16++;
    if (!fits(v, U32)) over32++;
  }
  over.over8 = over8;
  over.over16 = over16;
  over.over32 = over32;
}

/** Values `from`–`to` into `values`, escaping what does not fit under `max`; returns the escapes' Map. */
function packRange(
  increments: Float64Array,
  values: Uint8Array | Uint16Array | Uint32Array,
  max: number,
  from: number,
  to: number,
  wide: Map<number, number> | null,
): Map<number, number> | null {
  let escapes = wide;
  for (let i = from; i < to; i++) {
    const v = increments[i] as number;
    if (fits(v, max)) {
      values[i] = v;
    } else {
      values[i] = max;
      (escapes ??= new Map()).set(i, v);
    }
  }
  return escapes;
}

/** The increment at position `i` of a column. */
export function incrementAt(column: IncrementColumn, i: number): number {
  const v = column.values[i] ?? 0;
  return v === column.escape ? (column.wide?.get(i) ?? 0) : v;
}
