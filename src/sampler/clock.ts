/** Time as the sampler sees it, injected so tests drive it by hand. */

export interface Clock {
  /** Wall-clock Unix milliseconds: snapshot timestamps, ages and durations. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
