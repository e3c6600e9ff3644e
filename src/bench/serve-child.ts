/**
 * The exporter of the serve benchmark, in its own process so that it runs with the image's node
 * environment (serve.ts starts it with IMAGE_NODE_ENV): runExporter with --source.file on a dump. It
 * prints `{"port":N}` once the first sample's page is served, then answers commands on stdin, one JSON
 * line each: `{"op":"sample"}` takes one sample with the event loop monitored and answers what it
 * measured of it (ServeChildSample). When stdin ends, it closes the exporter and exits.
 * Usage: node dist/bench/serve-child.js DUMP
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseExporterFlags } from '../cli/flags.js';
import { silentLogger } from '../logger-types.js';
import { runExporter, type ExporterHandle } from '../run-exporter.js';
import type { MonitoredSample } from './serve.js';

/** What the exporter's process measures of a MonitoredSample (the scraping process measures the GETs). */
export interface ServeChildSample extends Omit<MonitoredSample, 'maxGetDuringSampleMs' | 'getsDuringSample'> {
  /** The adaptive interval the sampler chose from the file read's cost (a file has no child CPU). */
  readonly sampleIntervalSeconds: number;
}

async function monitoredSample(handle: ExporterHandle): Promise<ServeChildSample> {
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
  };
}

async function main(dumpPath: string): Promise<void> {
  const invocation = parseExporterFlags(
    ['--source.file', dumpPath, '--web.listen-address', '127.0.0.1:0', '--sample.interval', '1h', '--sample.max-age', '2h', '--window', '3h', '--kube.enabled=false', '--log.level', 'error'],
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
    const command = JSON.parse(line) as { op: string };
    if (command.op !== 'sample') throw new Error(`serve-child: unknown command ${line}`);
    send(await monitoredSample(handle));
  }
  await handle.close();
}

const dumpPath = process.argv[2];
if (dumpPath === undefined) {
  process.stderr.write('usage: serve-child.js DUMP\n');
  process.exitCode = 2;
} else {
  main(dumpPath).catch((error: unknown) => {
    process.stderr.write(`serve-child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
