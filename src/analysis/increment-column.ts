/** Window columns: what every endpoint's total grew by in one sample, packed as narrow as the values allow. */

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
  const n = increments.length;
  let over8 = 0;
  let over16 = 0;
  let over32 = 0;
  for (let i = 0; i < n; i++) {
    const v = increments[i] as number;
    if (fits(v, U8)) continue;
    over8++;
    if (fits(v, U16)) continue;
    over16++;
    if (!fits(v, U32)) over32++;
  }
  const costs = [n + ESCAPE_COST * over8, 2 * n + ESCAPE_COST * over16, 4 * n + ESCAPE_COST * over32, 8 * n];
  const best = costs.indexOf(Math.min(...costs));
  if (best === 3) return { timeSeconds, values: Float64Array.from(increments), escape: Number.NaN, wide: null };
  const max = best === 0 ? U8 : best === 1 ? U16 : U32;
  const values = best === 0 ? new Uint8Array(n) : best === 1 ? new Uint16Array(n) : new Uint32Array(n);
  let wide: Map<number, number> | null = null;
  for (let i = 0; i < n; i++) {
    const v = increments[i] as number;
    if (fits(v, max)) {
      values[i] = v;
    } else {
      values[i] = max;
      (wide ??= new Map()).set(i, v);
    }
  }
  return { timeSeconds, values, escape: max, wide };
}

/** The increment at position `i` of a column. */
export function incrementAt(column: IncrementColumn, i: number): number {
  const v = column.values[i] ?? 0;
  return v === column.escape ? (column.wide?.get(i) ?? 0) : v;
}
