/** Small statistics and formatting helpers for the benchmark tables. */

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n };
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[n - 1] as number, n };
}

/** `1,234 ms` / `12.3 ms` / `0.42 ms`. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return `${Math.round(value).toLocaleString('en-US')} ms`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

/** `median (min–max)`. */
export function msSpread(s: Spread | undefined): string {
  if (s === undefined || s.n === 0) return 'n/a';
  return s.n === 1 ? ms(s.median) : `${ms(s.median)} (${ms(s.min)}–${ms(s.max)})`;
}

export function mib(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : 'n/a';
}

/** `0.42×` of `reference`; n/a without one. */
export function ratio(value: number, reference: number | undefined): string {
  if (reference === undefined || !Number.isFinite(reference) || reference <= 0 || !Number.isFinite(value)) return 'n/a';
  return `${(value / reference).toFixed(2)}×`;
}

export function count(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

/** Runs `fn` `runs` times (after `warmup` uncounted runs), each after a GC, returning each run's wall milliseconds and the last result. */
export function timeRuns<T>(runs: number, fn: () => T, warmup = 1): { times: number[]; result: T } {
  const times: number[] = [];
  let result: T | undefined;
  // Uncounted warm-up runs: the figures are for a process that has sampled before (JIT-compiled code).
  for (let i = 0; i < warmup; i++) {
    gc();
    result = fn();
  }
  result = undefined;
  for (let i = 0; i < runs; i++) {
    gc();
    const start = performance.now();
    result = fn();
    times.push(performance.now() - start);
  }
  return { times, result: result as T };
}

/** Per run, the sum of the stages' times (each stage timed by timeRuns with the same `runs`): a whole sample's time per run. */
export function runTotals(...stages: readonly (readonly number[])[]): number[] {
  const first = stages[0] ?? [];
  return first.map((_, i) => stages.reduce((sum, stage) => sum + (stage[i] ?? 0), 0));
}

/** global.gc when node runs with --expose-gc (npm run bench does), else a no-op. */
export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
