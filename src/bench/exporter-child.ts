/**
 * An exporter-like process for the memory benchmark: N consecutive samples of one dump file through
 * the exporter's own pieces — a source (counter refresh on, as the exporter runs), the Sampler
 * (model, analysis, 10 s apart on its clock) and the metrics page rendered with schedule(), then one
 * gzip scrape of it as Prometheus makes — with no HTTP. Prints one JSON line per sample (RSS, heap,
 * durations, how the read was taken) and a final line with peak RSS. memory.ts runs it with the
 * image's node environment (IMAGE_NODE_ENV). With CHANGED and AT, the file CHANGED is renamed over
 * DUMP before sample AT (0-based): the rules change once, as in replace-endpoint.ts.
 * SOURCE `live`: the live source, as on a node, reading a stand-in iptables-legacy-save that prints
 * DUMP (stand-in-save.ts); `file`: the file source (`--source.file`).
 * Usage: node dist/bench/exporter-child.js SOURCE DUMP SAMPLES [CHANGED AT]
 */
import { renameSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parseExporterFlags } from '../cli/flags.js';
import { holdWhileRunning } from '../held-while-running.js';
import { createMetricsPage } from '../metrics/metrics-page.js';
import { Sampler } from '../sampler.js';
import type { Clock } from '../sampler/clock.js';
import { createFileSource } from '../source/file-sample-source.js';
import { createLiveSource } from '../source/live-source.js';
import type { FamilyRead, SampleSource } from '../source/sample-source.js';
import { applyV8Flags } from '../v8-flags.js';
import { peakRssBytes } from './peak-rss.js';
import { installStandInSave } from './stand-in-save.js';

/** What the child reads its dump through. */
export type ChildSource = 'live' | 'file';

export interface ChildSampleLine {
  readonly kind: 'sample';
  readonly index: number;
  readonly rssBytes: number;
  /** Peak RSS of the process so far (VmHWM, peak-rss.ts: not getrusage, which counts the parent's RSS at fork). */
  readonly maxRssBytes: number;
  readonly heapUsedBytes: number;
  /** V8 heap memory committed (resident), live objects and garbage not collected yet. */
  readonly heapPhysicalBytes: number;
  /** Memory outside the V8 heap that V8 knows of: Buffers' and other ArrayBuffers' bytes included (`process.memoryUsage().external`). */
  readonly externalBytes: number;
  /** Read (parse or scan) + model + analysis, as the sampler ran them. */
  readonly sampleMs: number;
  /** Until the page showing this sample was swapped in. */
  readonly renderMs: number;
  /** Plain size of the page's kube_balance_* part. */
  readonly pageBytes: number;
  /** What the page holds for it (its deflate blocks; the plain bytes too if something scraped it plain). */
  readonly pageHeldBytes: number;
  /** parsed | refreshed | reparsed (FamilyReadOk.readKind). */
  readonly readKind: string;
  /** Longest event-loop delay seen during this sample and its render (ms). */
  readonly loopBlockMs: number;
}

export interface ChildDoneLine {
  readonly kind: 'done';
  readonly maxRssBytes: number;
  /** Largest event-loop delay seen while sampling (ms): the longest synchronous stretch. */
  readonly maxLoopBlockMs: number;
  /** V8's heap limit as configured (--max-old-space-size and the young generation). */
  readonly heapLimitBytes: number;
  /** CPU time of the whole run (user + system, ms): what heap limits trade memory against. */
  readonly cpuMs: number;
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
  const [sourceKind, path, samplesText, ...changeArgs] = process.argv.slice(2);
  if ((sourceKind !== 'live' && sourceKind !== 'file') || path === undefined || changeArgs.length % 2 !== 0) {
    throw new Error('usage: exporter-child live|file DUMP SAMPLES [CHANGED AT]...');
  }
  const samples = Number(samplesText ?? 100);
  // Before sample AT (0-based), the file CHANGED replaces DUMP.
  const changes = new Map<number, string>();
  for (let i = 0; i < changeArgs.length; i += 2) changes.set(Number(changeArgs[i + 1]), changeArgs[i] as string);
  // As the exporter's bin (cli.ts) does first: this child stands for the exporter's process.
  applyV8Flags();
  // The exporter's defaults (series budget, save limits), as runExporter uses them.
  const flags = parseExporterFlags([], {});
  if (flags.kind !== 'run') throw new Error('bench: default flags did not parse to a run');
  if (sourceKind === 'live') installStandInSave(path);
  const read: SampleSource =
    sourceKind === 'live'
      ? createLiveSource({
          backend: 'legacy',
          families: ['ipv4'],
          timeoutMs: flags.config.sample.timeoutSeconds * 1000,
          maxOutputBytes: flags.config.sample.maxOutputBytes,
        })
      : createFileSource({ path });
  let readKind = '';
  const source = async (signal: AbortSignal): Promise<readonly FamilyRead[]> => {
    const reads = await read(signal);
    readKind = reads.map((r) => (r.ok ? (r.readKind ?? 'parsed') : `failed: ${r.error.message}`)).join(',');
    return reads;
  };
  const clock = manualClock();
  const sampler = new Sampler({ source, clock, intervalSeconds: 10 });
  const page = createMetricsPage({ ...flags.config.metrics, windowSeconds: flags.config.windowSeconds, version: 'bench', revision: 'bench' });
  // As runExporter holds them: without, marking that starts mid-sample leaves ~80 MB to its final pause.
  const release = holdWhileRunning(sampler, page, source);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let maxLoopBlockMs = 0;
  for (let index = 0; index < samples; index++) {
    clock.advance(10_000);
    const changedPath = changes.get(index);
    if (changedPath !== undefined) {
      renameSync(changedPath, path);
      // Renaming over the last file frees its ~100 MB at once, in this thread (74 ms measured at XL):
      // the benchmark's block, not the exporter's. The monitor records it, then forgets it.
      await new Promise((resolve) => setTimeout(resolve, 30));
      loop.reset();
    }
    const t0 = performance.now();
    const snapshot = await sampler.sampleNow();
    const t1 = performance.now();
    if (snapshot === null) throw new Error('sample aborted');
    await page.schedule(snapshot);
    const t2 = performance.now();
    // Prometheus scrapes every page at least once, asking for gzip (what the server writes part by part).
    await page.renderParts(true);
    const { plainBytes: pageBytes, heldBytes: pageHeldBytes } = page.pageSize();
    // Let the event loop turn once, as between samples, so timers and the monitor see it.
    await new Promise((resolve) => setImmediate(resolve));
    const memory = process.memoryUsage();
    // Per sample, so that the report can say which read the longest block came with.
    const loopBlockMs = loop.max / 1e6;
    loop.reset();
    maxLoopBlockMs = Math.max(maxLoopBlockMs, loopBlockMs);
    const line: ChildSampleLine = {
      kind: 'sample',
      index,
      rssBytes: memory.rss,
      maxRssBytes: peakRssBytes('self'),
      heapUsedBytes: memory.heapUsed,
      heapPhysicalBytes: getHeapStatistics().total_physical_size,
      externalBytes: memory.external,
      sampleMs: t1 - t0,
      renderMs: t2 - t1,
      pageBytes,
      pageHeldBytes,
      readKind,
      loopBlockMs,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  loop.disable();
  release();
  await page.close();
  await sampler.stop();
  const usage = process.resourceUsage();
  const done: ChildDoneLine = {
    kind: 'done',
    maxRssBytes: peakRssBytes('self'),
    maxLoopBlockMs,
    heapLimitBytes: getHeapStatistics().heap_size_limit,
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
  };
  process.stdout.write(`${JSON.stringify(done)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exitCode = 1;
});
