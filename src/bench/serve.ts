/**
 * The real exporter (runExporter with --source.file) on a generated dump: time to serve /metrics with
 * every per-endpoint series, the series count, and how long the event loop is blocked while a sample
 * is processed (perf_hooks monitorEventLoopDelay, plus /metrics requests sent during the sample).
 *
 * The timed requests come from a child process, as Prometheus's would: a client in the exporter's own
 * process would spend the exporter's event loop on receiving 35-120 MiB per scrape, and that time would
 * be counted against the exporter, in the GET times and in the loop blocks.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Agent, get } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseExporterFlags } from '../cli/flags.js';
import { silentLogger } from '../logger-types.js';
import { runExporter } from '../run-exporter.js';
import { spread, type Spread } from './stats.js';

/** One sample taken with the event loop monitored and scrapes arriving back to back meanwhile. */
export interface MonitoredSample {
  /** Through the sampler (file read, parse or scan, model, analysis) until its page is served. */
  readonly sampleMs: number;
  /** Of sampleMs: from the sampler publishing the snapshot to its page being swapped in (rendered in slices). */
  readonly pageRenderMs: number;
  /** Longest event-loop delay during the sample, page render included. */
  readonly maxLoopBlockMs: number;
  /**
   * Of those, the longest while the page was rendered in slices (publication to swap; the first slice,
   * which runs inside the sampler's publish, is only in maxLoopBlockMs).
   */
  readonly maxLoopBlockDuringRenderMs: number;
  /** Slowest /metrics response among those sent back to back during the sample. */
  readonly maxGetDuringSampleMs: number;
  readonly getsDuringSample: number;
}

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
  /** The second sample (a parsed read: the first and second reads of a file both parse). */
  readonly parsed: MonitoredSample;
  /** The third (the rules are unchanged since the second: a refreshed read). */
  readonly refreshed: MonitoredSample;
  /** The adaptive interval the sampler chose from the file read's cost (a file has no child CPU). */
  readonly sampleIntervalSeconds: number;
}

/** The page once, in this process (before anything is timed), to count its series. */
function fetchPage(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const agent = new Agent();
    const request = get({ host: '127.0.0.1', port, path: '/metrics', agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        agent.destroy();
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

// The scraping child: one keep-alive connection; each GET timed to its last byte, the body discarded.
// Commands on stdin, one JSON line each, answered with one JSON line: {op:'seq',n,gzip} times n GETs
// one after the other; {op:'loop'} starts GETs back to back, {op:'stop'} ends them and sends their times.
const SCRAPER = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const port = Number(process.env.KBE_BENCH_PORT);
const once = (gzip) => new Promise((resolve, reject) => {
  const started = performance.now();
  const req = http.get({ host: '127.0.0.1', port, path: '/metrics', agent, headers: gzip ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
    res.on('data', () => {});
    res.on('end', () => resolve(performance.now() - started));
    res.on('error', reject);
  });
  req.on('error', reject);
});
const send = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let looping = false;
let loop = Promise.resolve([]);
require('node:readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'seq') {
    const times = [];
    for (let i = 0; i < cmd.n; i++) times.push(await once(cmd.gzip));
    send({ times });
  } else if (cmd.op === 'loop') {
    looping = true;
    loop = (async () => { const times = []; while (looping) times.push(await once(false)); return times; })();
    send({ times: [] });
  } else if (cmd.op === 'stop') {
    looping = false;
    send({ times: await loop });
  }
});
process.stdin.on('end', () => { agent.destroy(); });
`;

interface Scraper {
  request(command: { op: 'seq'; n: number; gzip: boolean } | { op: 'loop' } | { op: 'stop' }): Promise<number[]>;
  close(): void;
}

function startScraper(port: number): Scraper {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['-e', SCRAPER], { env: { ...process.env, KBE_BENCH_PORT: String(port) } });
  child.stderr.pipe(process.stderr);
  const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async request(command) {
      child.stdin.write(JSON.stringify(command) + '\n');
      const answer = await answers.next();
      if (answer.done === true) throw new Error('bench: the scraping child exited');
      return (JSON.parse(answer.value) as { times: number[] }).times;
    },
    close() {
      child.stdin.end();
    },
  };
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
  let scraper: Scraper | null = null;
  try {
    // start() took the first sample; wait for it and its page.
    await new Promise<void>((resolve) => {
      if (handle.sampler.hasData) resolve();
      const unsubscribe = handle.sampler.subscribe(() => {
        unsubscribe();
        resolve();
      });
    });
    await handle.pageRendered();
    const port = handle.address.port;
    const first = await fetchPage(port);
    const counts = countSeries(first);
    scraper = startScraper(port);
    const times = await scraper.request({ op: 'seq', n: gets, gzip: false });
    const gzipTimes = await scraper.request({ op: 'seq', n: gets, gzip: true });

    const monitored = async (): Promise<{ sample: MonitoredSample; interval: number }> => {
      const active = scraper as Scraper;
      const loop = monitorEventLoopDelay({ resolution: 10 });
      await active.request({ op: 'loop' });
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
      const during = await active.request({ op: 'stop' });
      return {
        sample: {
          sampleMs: rendered - started,
          pageRenderMs: rendered - published,
          maxLoopBlockMs: loop.max / 1e6,
          maxLoopBlockDuringRenderMs: renderLoop.max / 1e6,
          maxGetDuringSampleMs: during.length === 0 ? Number.NaN : Math.max(...during),
          getsDuringSample: during.length,
        },
        interval: snapshot?.sampleIntervalSeconds ?? Number.NaN,
      };
    };
    const parsed = await monitored();
    const refreshed = await monitored();
    return {
      get: spread(times),
      getGzip: spread(gzipTimes),
      pageBytes: Buffer.byteLength(first),
      series: counts.series,
      kubeBalanceSeries: counts.kubeBalance,
      endpointSeries: counts.endpoint,
      parsed: parsed.sample,
      refreshed: refreshed.sample,
      sampleIntervalSeconds: refreshed.interval,
    };
  } finally {
    scraper?.close();
    await handle.close();
  }
}
