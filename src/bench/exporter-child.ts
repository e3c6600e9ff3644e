/**
 * An exporter-like process for the memory benchmark: N consecutive samples of one dump file through
 * the exporter's own pieces — the file source (counter refresh on, as the exporter runs), the Sampler
 * (model, analysis, 10 s apart on its clock) and the metrics page rendered with schedule() — with no
 * HTTP. Prints one JSON line per sample (RSS, heap, durations, how the read was taken) and a final
 * line with peak RSS. Usage: node --expose-gc dist/bench/exporter-child.js DUMP SAMPLES
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseExporterFlags } from '../cli/flags.js';
import { createMetricsPage } from '../metrics/metrics-page.js';
import { Sampler } from '../sampler.js';
import type { Clock } from '../sampler/clock.js';
import { createFileSource } from '../source/file-sample-source.js';
import type { FamilyRead } from '../source/sample-source.js';

export interface ChildSampleLine {
  readonly kind: 'sample';
  readonly index: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly externalBytes: number;
  /** Read (parse or scan) + model + analysis, as the sampler ran them. */
  readonly sampleMs: number;
  /** Until the page showing this sample was swapped in. */
  readonly renderMs: number;
  readonly pageBytes: number;
  /** parsed | refreshed | reparsed (FamilyReadOk.readKind). */
  readonly readKind: string;
}

export interface ChildDoneLine {
  readonly kind: 'done';
  readonly maxRssBytes: number;
  /** Largest event-loop delay seen while sampling (ms): the longest synchronous stretch. */
  readonly maxLoopBlockMs: number;
}

/** The sampler's clock, moved by hand: samples are 10 s apart for the analysis window, not in real time. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000;
  return {
    now: () => now,
    setTimeout: () => null,
    clearTimeout: () => undefined,
    advance(ms) {
      now += ms;
    },
  };
}

async function main(): Promise<void> {
  const [path, samplesText] = process.argv.slice(2);
  if (path === undefined) throw new Error('usage: exporter-child DUMP SAMPLES');
  const samples = Number(samplesText ?? 100);
  const fileSource = createFileSource({ path });
  let readKind = '';
  const source = async (signal: AbortSignal): Promise<readonly FamilyRead[]> => {
    const reads = await fileSource(signal);
    readKind = reads.map((r) => (r.ok ? (r.readKind ?? 'parsed') : 'failed')).join(',');
    return reads;
  };
  const clock = manualClock();
  const sampler = new Sampler({ source, clock, intervalSeconds: 10 });
  // The exporter's defaults (series budget included), as runExporter builds the page.
  const flags = parseExporterFlags([], {});
  if (flags.kind !== 'run') throw new Error('bench: default flags did not parse to a run');
  const page = createMetricsPage({ ...flags.config.metrics, windowSeconds: flags.config.windowSeconds, version: 'bench', revision: 'bench' });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  for (let index = 0; index < samples; index++) {
    clock.advance(10_000);
    const t0 = performance.now();
    const snapshot = await sampler.sampleNow();
    const t1 = performance.now();
    if (snapshot === null) throw new Error('sample aborted');
    await page.schedule(snapshot);
    const t2 = performance.now();
    // Its size from the cached parts: render() would join them into one 70 MB Buffer and string per
    // sample, garbage a scrape by Prometheus (renderParts, written part by part) never makes.
    const pageBytes = (await page.renderParts(false)).reduce((n, part) => n + part.length, 0);
    // Let the event loop turn once, as between samples, so timers and the monitor see it.
    await new Promise((resolve) => setImmediate(resolve));
    const memory = process.memoryUsage();
    const line: ChildSampleLine = {
      kind: 'sample',
      index,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      externalBytes: memory.external + memory.arrayBuffers,
      sampleMs: t1 - t0,
      renderMs: t2 - t1,
      pageBytes,
      readKind,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  loop.disable();
  await page.close();
  await sampler.stop();
  const done: ChildDoneLine = { kind: 'done', maxRssBytes: process.resourceUsage().maxRSS * 1024, maxLoopBlockMs: loop.max / 1e6 };
  process.stdout.write(`${JSON.stringify(done)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exitCode = 1;
});
