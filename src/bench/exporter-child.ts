/**
 * An exporter-like process for the memory benchmark: N consecutive samples of one dump file (streamed
 * into DumpParser as Buffers, like a child's stdout) → model → analysis → metrics page update, with no
 * HTTP. Prints one JSON line per sample (RSS, heap, durations) and a final line with peak RSS.
 * Usage: node --expose-gc dist/bench/exporter-child.js DUMP SAMPLES
 */
import { createReadStream } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { analyze, DEFAULT_ANALYSIS_OPTIONS } from '../analysis/analyze.js';
import type { AnalysisState } from '../analysis/types.js';
import { DumpParser } from '../iptables/parse-dump.js';
import { buildServiceModel } from '../model/build-service-model.js';
import { createMetricsPage } from '../metrics/metrics-page.js';
import { buildSnapshot, zeroErrors } from '../sampler/snapshot-build.js';

export interface ChildSampleLine {
  readonly kind: 'sample';
  readonly index: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly externalBytes: number;
  readonly parseMs: number;
  readonly modelMs: number;
  readonly analysisMs: number;
  readonly renderMs: number;
  readonly pageBytes: number;
}

export interface ChildDoneLine {
  readonly kind: 'done';
  readonly maxRssBytes: number;
  /** Largest event-loop delay seen while sampling (ms): the longest synchronous stretch. */
  readonly maxLoopBlockMs: number;
}

async function readDump(path: string): Promise<{ dump: ReturnType<DumpParser['end']>; bytes: number }> {
  const parser = new DumpParser();
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
    bytes += (chunk as Buffer).length;
    parser.push(chunk as Buffer);
  }
  return { dump: parser.end(), bytes };
}

async function main(): Promise<void> {
  const [path, samplesText] = process.argv.slice(2);
  if (path === undefined) throw new Error('usage: exporter-child DUMP SAMPLES');
  const samples = Number(samplesText ?? 100);
  const page = createMetricsPage({ windowSeconds: 300, version: 'bench', revision: 'bench', includeNamespaces: null, excludeNamespaces: null, includeServices: null, excludeServices: null });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let state: AnalysisState | undefined;
  for (let index = 0; index < samples; index++) {
    const t0 = performance.now();
    const { dump, bytes } = await readDump(path);
    const t1 = performance.now();
    const model = buildServiceModel(dump, 'ipv4');
    const t2 = performance.now();
    const step = analyze(state, [model], 1_000 + index * 10, DEFAULT_ANALYSIS_OPTIONS);
    state = step.state;
    const t3 = performance.now();
    const snapshot = buildSnapshot({
      lastSuccessTimestamp: 1_000 + index * 10,
      timestamp: 1_000 + index * 10,
      allFamiliesOk: true,
      stale: false,
      sampleDurationSeconds: (t3 - t0) / 1000,
      sampleIntervalSeconds: 10,
      families: [{ ipFamily: 'ipv4', backend: 'file', ok: true, error: null, skipped: dump.skipped, warnings: dump.warnings, outputBytes: bytes, durationSeconds: (t1 - t0) / 1000 }],
      analysis: step.result,
      errorsTotal: zeroErrors(),
      resetsTotal: 0,
      skippedTotal: {},
      samplesTotal: index + 1,
    });
    page.update(snapshot);
    const t4 = performance.now();
    const pageBytes = (await page.render()).length;
    // Let the event loop turn once, as between samples, so timers and the monitor see it.
    await new Promise((resolve) => setImmediate(resolve));
    const memory = process.memoryUsage();
    const line: ChildSampleLine = {
      kind: 'sample',
      index,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      externalBytes: memory.external + memory.arrayBuffers,
      parseMs: t1 - t0,
      modelMs: t2 - t1,
      analysisMs: t3 - t2,
      renderMs: t4 - t3,
      pageBytes,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  loop.disable();
  const done: ChildDoneLine = { kind: 'done', maxRssBytes: process.resourceUsage().maxRSS * 1024, maxLoopBlockMs: loop.max / 1e6 };
  process.stdout.write(`${JSON.stringify(done)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exitCode = 1;
});
