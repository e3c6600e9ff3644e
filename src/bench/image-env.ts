/**
 * The environment the image gives node (Dockerfile `ENV`, checked by test/deploy/dockerfile.test.ts):
 * the benchmark's exporter processes (memory.ts, serve.ts) run with it, so it measures what ships.
 *
 * - `--max-old-space-size=512`, `--max-semi-space-size=4`: what node picks by itself in a pod with the
 *   default 1 GiB limit (V8 sizes its heap from the memory it sees: half of it for the old space, a
 *   128th of that per semi-space, up to 4 GiB and 16 MiB on big machines like the benchmark VM's
 *   24 GiB), fixed so that a larger limit does not let garbage pile up further and the benchmark runs
 *   as the pod does. A parsed read of 20,000 services x 10 endpoints has up to ~160 MiB of live heap
 *   (~200 before its model build freed the folds as it went, ~240 while the page kept a label array
 *   and text per endpoint, ~300 before the ladder chains were folded while parsing, when an old space
 *   of 256 MiB ran out and 320 held with 7 s of GC per sample), so 512 leaves it a margin of ~3. At
 *   ~240, 384 peaked 50 MiB lower at the same CPU but lowered the ruleset size at which the heap runs
 *   out by a quarter: kept at 512 (docs/benchmarks.md, "What the remaining targets need"). A larger
 *   semi-space (8, 16 MiB) was measured too: fewer full collections and ~20% less CPU, but no lower
 *   peak and ~30 MiB more steady RSS at 16.
 * - glibc malloc (ArrayBuffers, zlib): at most 2 arenas for libuv's threads, and every allocation of
 *   128 KiB or more mapped on its own and returned on free (by default the threshold rises with each
 *   large free, after which freed megabytes stay in the heap).
 */
export const IMAGE_NODE_ENV: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--max-old-space-size=512 --max-semi-space-size=4',
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};
