/**
 * The V8 settings the exporter runs with, set from inside the process so they hold however it is
 * started (the image, `npm start`, `node dist/cli.js`, the benchmark's children): node accepts none of
 * them in NODE_OPTIONS.
 *
 * `--no-allocation-site-pretenuring`. The exporter allocates in two lifetimes: a parsed read's model,
 * which lives until kube-proxy rewrites rules, and each sample's objects, which die within the sample.
 * V8 watches how many objects from each allocation site survive young-generation collections, and
 * once most do, it allocates at that site straight into the old generation from then on. A parse
 * of a large table teaches it that; the samples after it then fill the old generation with garbage
 * that only a full collection frees. Measured at 20,000 services × 10 endpoints, the memory benchmark's
 * child, 16 samples with one rules change before the ninth, alternated by hand (docs/benchmarks.md):
 * without this, half the runs held the event loop for 100–250 ms in every sample after the change (a
 * mark-compact's final pause each time) and sat at 300–330 MiB of RSS; with it, none did (longest block
 * after the change 24–91 ms, RSS 220–250 MiB), the peak fell from 379–386 to 346–353 MiB, and the runs
 * used less CPU. Young collections now copy the model's objects once before they are promoted, which
 * the same runs include.
 */
import { setFlagsFromString } from 'node:v8';

/** Sets the flags above. The entry points (cli.ts, the benchmark's children) call it first: V8 may not apply a flag set late. */
export function applyV8Flags(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
