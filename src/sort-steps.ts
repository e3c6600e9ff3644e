/** A stable merge sort that yields every few thousand moves, for sorting 20,000 ladders without holding the event loop. */
import type { Slices } from './slices.js';

const MOVES_PER_STEP = 4096;

/**
 * Sorts `items` in place, in the same order as `items.sort(compare)` (both are stable, so a consistent
 * comparator determines the result), yielding between runs of about MOVES_PER_STEP element moves.
 */
export function* sortSteps<T>(items: T[], compare: (a: T, b: T) => number): Slices<void> {
  const n = items.length;
  if (n < 2) return;
  let from = items.slice();
  let to = new Array<T>(n);
  let moves = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let left = 0; left < n; left += 2 * width) {
      const mid = Math.min(left + width, n);
      const right = Math.min(left + 2 * width, n);
      let i = left;
      let j = mid;
      let k = left;
      // Runs already in order are copied as they are: one comparison instead of up to a merge's, so
      // that an input already sorted (a model's ladders, which the page sorts again) or sorted but for
      // a few items at its end (ladder-reuse.ts) costs about n comparisons, not n log n.
      if (j < right && compare(from[j - 1] as T, from[j] as T) <= 0) {
        for (; k < right; k++) to[k] = from[k] as T;
      } else {
        // `<= 0` takes from the left run on ties: stable.
        while (i < mid && j < right) to[k++] = compare(from[i] as T, from[j] as T) <= 0 ? (from[i++] as T) : (from[j++] as T);
        while (i < mid) to[k++] = from[i++] as T;
        while (j < right) to[k++] = from[j++] as T;
      }
      moves += right - left;
      if (moves >= MOVES_PER_STEP) {
        moves = 0;
        yield;
      }
    }
    [from, to] = [to, from];
  }
  for (let i = 0; i < n; i++) items[i] = from[i] as T;
}
