/**
 * The exporter's long-lived parts (sampler, metrics page, source), held from a module-level Set while
 * it runs, so that V8's concurrent marking can reach them.
 *
 * V8 starts a full collection's marking from the heap's roots without the stack: the stack and the
 * main thread's handles are visited only in the final, stop-the-world pause (V8's
 * `IncrementalMarking::MarkRoots` skips them). While a sample runs, its async functions are on the
 * stack, and an async function that is running is reachable only from there; its awaiting callers
 * hang off its promise, and so does whatever they hold. When marking started in the middle of a
 * sample and nothing else reached the sampler, the background threads found ~12 MB of the ~90 MB
 * live, and the final pause marked the rest: 147–173 ms at 20,000 services × 10 endpoints, against
 * 10–35 ms when the state is reachable otherwise (docs/benchmarks.md, the 18:05 reading: "The memory
 * benchmark's long blocks were its own state"). The HTTP server's handlers happen to reach the
 * sampler and the page; this makes it not depend on that.
 */
const held = new Set<readonly object[]>();

/** Holds `parts` until the returned function is called (idempotent; it keeps no reference after). */
export function holdWhileRunning(...parts: object[]): () => void {
  let holding: readonly object[] | null = parts;
  held.add(holding);
  return () => {
    if (holding === null) return;
    held.delete(holding);
    holding = null;
  };
}

/** How many holdings are open (tests: an exporter that closed holds nothing). */
export function openHoldings(): number {
  return held.size;
}
