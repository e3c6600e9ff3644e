/**
 * The real exporter (runExporter with --source.file) on a generated dump: time to serve /metrics with
 * every per-endpoint series, the series count, and how long the event loop is blocked while a sample
 * is processed (perf_hooks monitorEventLoopDelay, plus /metrics requests sent during the sample).
 */
import { Agent, get } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseExporterFlags } from '../cli/flags.js';
import { silentLogger } from '../logger-types.js';
import { runExporter } from '../run-exporter.js';
import { spread, type Spread } from './stats.js';

export interface ServeResult {
  /** Sequential GET /metrics (no gzip), idle exporter. */
  readonly get: Spread;
  /** Same, with Accept-Encoding: gzip (what Prometheus sends). */
  readonly getGzip: Spread;
  readonly pageBytes: number;
  /** Non-comment lines of the page, and those of kube_balance_* families. */
  readonly series: number;
  readonly kubeBalanceSeries: number;
  /** Per-endpoint series (families with an `endpoint` label). */
  readonly endpointSeries: number;
  /** One whole sample through the sampler (file read + parse + model + analysis + page render). */
  readonly sampleMs: number;
  /** Longest event-loop delay during that sample. */
  readonly maxLoopBlockMs: number;
  /** Slowest /metrics response among those sent back to back during the sample. */
  readonly maxGetDuringSampleMs: number;
  readonly getsDuringSample: number;
  /** The adaptive interval the sampler chose from the file read's cost (a file has no child CPU). */
  readonly sampleIntervalSeconds: number;
}

function fetchPage(agent: Agent, port: number, gzip: boolean): Promise<{ ms: number; body: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = get({ host: '127.0.0.1', port, path: '/metrics', agent, headers: gzip ? { 'accept-encoding': 'gzip' } : {} }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ ms: performance.now() - started, body: gzip ? '' : Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

function countSeries(page: string): { series: number; kubeBalance: number; endpoint: number } {
  let series = 0;
  let kubeBalance = 0;
  let endpoint = 0;
  let start = 0;
  while (start < page.length) {
    let end = page.indexOf('\n', start);
    if (end < 0) end = page.length;
    if (end > start && page.charCodeAt(start) !== 35) {
      series++;
      if (page.startsWith('kube_balance_', start)) {
        kubeBalance++;
        const line = page.slice(start, end);
        if (line.includes(',endpoint="') || line.includes('{endpoint="')) endpoint++;
      }
    }
    start = end + 1;
  }
  return { series, kubeBalance: kubeBalance, endpoint };
}

export async function measureServe(dumpPath: string, gets: number): Promise<ServeResult> {
  const invocation = parseExporterFlags(
    ['--source.file', dumpPath, '--web.listen-address', '127.0.0.1:0', '--sample.interval', '1h', '--sample.max-age', '2h', '--window', '3h', '--kube.enabled=false', '--log.level', 'error'],
    {},
  );
  if (invocation.kind !== 'run') throw new Error('bench: exporter flags did not parse to a run');
  const handle = await runExporter(invocation.config, { logger: silentLogger });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    // start() took the first sample; wait for it.
    await new Promise<void>((resolve) => {
      if (handle.sampler.hasData) resolve();
      const unsubscribe = handle.sampler.subscribe(() => {
        unsubscribe();
        resolve();
      });
    });
    const port = handle.address.port;
    const first = await fetchPage(agent, port, false);
    const counts = countSeries(first.body);
    const times: number[] = [];
    for (let i = 0; i < gets; i++) times.push((await fetchPage(agent, port, false)).ms);
    const gzipTimes: number[] = [];
    for (let i = 0; i < gets; i++) gzipTimes.push((await fetchPage(agent, port, true)).ms);

    // A second sample with the loop monitored and scrapes arriving back to back meanwhile.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    let sampling = true;
    const during: number[] = [];
    const scraper = (async () => {
      while (sampling) during.push((await fetchPage(agent, port, false)).ms);
    })();
    loop.enable();
    const started = performance.now();
    const snapshot = await handle.sampler.sampleNow();
    const sampleMs = performance.now() - started;
    loop.disable();
    sampling = false;
    await scraper;
    return {
      get: spread(times),
      getGzip: spread(gzipTimes),
      pageBytes: Buffer.byteLength(first.body),
      series: counts.series,
      kubeBalanceSeries: counts.kubeBalance,
      endpointSeries: counts.endpoint,
      sampleMs,
      maxLoopBlockMs: loop.max / 1e6,
      maxGetDuringSampleMs: during.length === 0 ? Number.NaN : Math.max(...during),
      getsDuringSample: during.length,
      sampleIntervalSeconds: snapshot?.sampleIntervalSeconds ?? Number.NaN,
    };
  } finally {
    await handle.close();
    agent.destroy();
  }
}
