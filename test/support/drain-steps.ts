import type { Slices } from '../../src/slices.js';

/** Runs a sliced computation to its end: its value, and how many checkpoints (yields) it passed on the way. */
export function drainSteps<T>(steps: Slices<T>): { value: T; checkpoints: number } {
  let checkpoints = 0;
  for (;;) {
    const next = steps.next();
    if (next.done === true) return { value: next.value, checkpoints };
    checkpoints++;
  }
}
