/**
 * The exporter of the serve benchmark, in its own process so that it runs with the image's node
 * environment (serve.ts starts it with IMAGE_NODE_ENV): runExporter reading a dump as on a node, through
 * the live source and a stand-in iptables-legacy-save that prints DUMP (stand-in-save.ts). It
 * prints `{"port":N}` once the first sample's page is served, then answers commands on stdin, one JSON
 * line each: `{"op":"sample"}` takes one sample with the event loop monitored and answers what it
 * measured of it (ServeChildSample); `{"op":"sample","change":true}` first renames CHANGED over DUMP
 * (the rules change, replace-endpoint.ts). When stdin ends, it closes the exporter and exits.
 * Usage: node dist/bench/serve-child.js DUMP [CHANGED]
 */
import { renameSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseExporterFlags } from '../cli/flags.js';
import { silentLogger } from '../logger-types.js';
import { runExporter, type ExporterHandle } from '../run-exporter.js';
import type { MonitoredSample } from './serve.js';
import { applyV8Flags } from '../v8-flags.js';
import { installStandInSave } from './stand-in-save.js';

/** What the exporter's process measures of a MonitoredSample (the scraping process measures the GETs). */
export interface ServeChildSample extends Omit<MonitoredSample, 'maxGetDuringSampleMs' | 'getsDuringSample' | 'maxGzipGetDuringSampleMs' | 'gzipGetsDuringSample'> {
  /** The adaptive interval the sampler chose from the save's CPU (here the stand-in's, next to nothing). */
  readonly sampleIntervalSeconds: number;
  /** How the sample's read was taken (kube_balance_sample_reads_total's `read`). */
  readonly readKind: string;
}

/** Reads so far by kind, over the families. */
function readCounts(handle: ExporterHandle): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kinds of Object.values(handle.sampler.snapshot.readsTotal ?? {})) {
    for (const [kind, n] of Object.entries(kinds)) counts.set(kind, (counts.get(kind) ?? 0) + n);
  }
  return counts;
}

async function monitoredSample(handle: ExporterHandle): Promise<ServeChildSample> {
  const readsBefore = readCounts(handle);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const started = performance.now();
  let published = Number.NaN;
  const renderLoop = monitorEventLoopDelay({ resolution: 10 });
  const unsubscribe = handle.sampler.subscribe(() => {
    published = performance.now();
    renderLoop.enable();
  });
  const snapshot = await handle.sampler.sampleNow();
  unsubscribe();
  await handle.pageRendered();
  const rendered = performance.now();
  loop.disable();
  renderLoop.disable();
  return {
    sampleMs: rendered - started,
    pageRenderMs: rendered - published,
    maxLoopBlockMs: loop.max / 1e6,
    maxLoopBlockDuringRenderMs: renderLoop.max / 1e6,
    sampleIntervalSeconds: snapshot?.sampleIntervalSeconds ?? Number.NaN,
    readKind: [...readCounts(handle)].filter(([kind, n]) => n > (readsBefore.get(kind) ?? 0)).map(([kind]) => kind).join('+') || 'none',
  };
}

async function main(dumpPath: string, changedPath: string | undefined): Promise<void> {
  // As the exporter's bin (cli.ts) does first.
  applyV8Flags();
  installStandInSave(dumpPath);
  // The mode, backend and family fixed: nothing but the stand-in runs (no detection on this machine's own tables).
  const invocation = parseExporterFlags(
    [
      '--proxy.mode=iptables',
      '--iptables.backend=legacy',
      '--iptables.families=ipv4',
      '--web.listen-address=127.0.0.1:0',
      '--sample.interval=1h',
      '--sample.max-age=2h',
      '--window=3h',
      '--kube.enabled=false',
      '--log.level=error',
    ],
    {},
  );
  if (invocation.kind !== 'run') throw new Error('bench: exporter flags did not parse to a run');
  const handle = await runExporter(invocation.config, { logger: silentLogger });
  // start() took the first sample; wait for it and its page.
  await new Promise<void>((resolve) => {
    if (handle.sampler.hasData) resolve();
    const unsubscribe = handle.sampler.subscribe(() => {
      unsubscribe();
      resolve();
    });
  });
  await handle.pageRendered();
  const send = (line: object): boolean => process.stdout.write(`${JSON.stringify(line)}\n`);
  send({ port: handle.address.port });
  for await (const line of createInterface({ input: process.stdin })) {
    const command = JSON.parse(line) as { op: string; change?: boolean };
    if (command.op !== 'sample') throw new Error(`serve-child: unknown command ${line}`);
    if (command.change === true) {
      if (changedPath === undefined) throw new Error('serve-child: a change asked for without a CHANGED file');
      renameSync(changedPath, dumpPath);
    }
    send(await monitoredSample(handle));
  }
  await handle.close();
}

const [dumpPath, changedPath] = process.argv.slice(2);
if (dumpPath === undefined) {
  process.stderr.write('usage: serve-child.js DUMP [CHANGED]\n');
  process.exitCode = 2;
} else {
  main(dumpPath, changedPath).catch((error: unknown) => {
    process.stderr.write(`serve-child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
