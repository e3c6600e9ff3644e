/**
 * The real exporter (runExporter with --source.file) on a generated dump: time to serve /metrics with
 * every per-endpoint series, the series count, and how long the event loop is blocked while a sample
 * is processed (perf_hooks monitorEventLoopDelay, plus /metrics requests sent during the sample).
 *
 * Three processes. The exporter runs in its own (serve-child.ts) with the image's node environment
 * (IMAGE_NODE_ENV: its heap caps decide how often and how long the garbage collector pauses). The
 * timed requests come from another, as Prometheus's would: a client in the exporter's own process
 * would spend the exporter's event loop on receiving 35-120 MiB per scrape, and that time would be
 * counted against the exporter, in the GET times and in the loop blocks. This process only directs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Agent, get } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { IMAGE_NODE_ENV } from './image-env.js';
import { withRulesChange } from './replace-endpoint.js';
import type { ServeChildSample } from './serve-child.js';
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
  /** Slowest plain /metrics response among those sent back to back during the sample (every other one). */
  readonly maxGetDuringSampleMs: number;
  readonly getsDuringSample: number;
  /** The same for the gzip ones (the others: what Prometheus asks for). */
  readonly maxGzipGetDuringSampleMs: number;
  readonly gzipGetsDuringSample: number;
  /** How the read was taken (parsed, refreshed, reparsed), as the exporter counted it. */
  readonly readKind: string;
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
  /**
   * The second sample, after one endpoint was replaced in the file (replace-endpoint.ts): a scan-only
   * read that misses, then the file read again and parsed (`reparsed`), as on a node whose rules
   * kube-proxy just rewrote.
   */
  readonly parsed: MonitoredSample;
  /** The third (the rules unchanged since the second: a refreshed read). */
  readonly refreshed: MonitoredSample;
  /** The adaptive interval the sampler chose from the save's CPU (here the stand-in's, next to nothing). */
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
// It reads as a Go client (Prometheus) or curl does: into one reused buffer (net's `onread`), counting
// the body's bytes against its Content-Length. Node's http client makes a Buffer and emits an event per
// read; at 35 MiB a page it took ~3 times as long as curl to receive the same response (46–55 ms
// against 15–24 ms on a 35 MiB stand-in, docs/benchmarks.md), so the GET times were the client's.
// Commands on stdin, one JSON line each, answered with one JSON line: {op:'seq',n,gzip} times n GETs
// one after the other; {op:'loop'} starts GETs back to back, plain and gzip in turn, {op:'stop'} ends them
// and sends the times of each kind.
const SCRAPER = `
const net = require('node:net');
const port = Number(process.env.KBE_BENCH_PORT);
const buffer = Buffer.alloc(1 << 20);
let socket = null;
let pending = null;
const settle = (error) => {
  const p = pending;
  pending = null;
  if (error === null) p.resolve(performance.now() - p.started);
  else p.reject(error);
};
const onBytes = (n, bytes) => {
  const p = pending;
  if (p === null) return;
  p.bytes += n;
  if (p.need < 0) {
    p.head += bytes.toString('latin1', 0, Math.min(n, 4096));
    const end = p.head.indexOf('\\r\\n\\r\\n');
    if (end < 0) return;
    const head = p.head.slice(0, end);
    if (!head.startsWith('HTTP/1.1 200 ')) return settle(new Error('GET /metrics: ' + head.split('\\r\\n')[0]));
    const length = /\\r\\ncontent-length: *(\\d+)/i.exec(head);
    if (length === null) return settle(new Error('GET /metrics: no Content-Length'));
    p.need = end + 4 + Number(length[1]);
  }
  // GETs go one at a time: bytes past the response would mean it was misread.
  if (p.bytes > p.need) settle(new Error('GET /metrics: ' + (p.bytes - p.need) + ' bytes more than the response'));
  else if (p.bytes === p.need) settle(null);
};
// The server closes an idle keep-alive connection after a while: a new one for the next GET.
const connection = () => {
  if (socket !== null) return socket;
  const s = net.connect({ host: '127.0.0.1', port, onread: { buffer, callback: onBytes } });
  s.on('error', () => {});
  s.on('close', () => {
    if (socket === s) socket = null;
    if (pending !== null) settle(new Error('GET /metrics: the connection closed mid-response'));
  });
  return (socket = s);
};
const once = (gzip) => new Promise((resolve, reject) => {
  pending = { started: performance.now(), head: '', need: -1, bytes: 0, resolve, reject };
  connection().write('GET /metrics HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n' + (gzip ? 'Accept-Encoding: gzip\\r\\n' : '') + '\\r\\n');
});
const send = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let looping = false;
let loop = Promise.resolve({ times: [], gzipTimes: [] });
require('node:readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'seq') {
    const times = [];
    for (let i = 0; i < cmd.n; i++) times.push(await once(cmd.gzip));
    send({ times });
  } else if (cmd.op === 'loop') {
    looping = true;
    loop = (async () => {
      const times = [];
      const gzipTimes = [];
      for (let i = 0; looping; i++) (i % 2 === 0 ? times : gzipTimes).push(await once(i % 2 === 1));
      return { times, gzipTimes };
    })();
    send({ times: [] });
  } else if (cmd.op === 'stop') {
    looping = false;
    send(await loop);
  }
});
process.stdin.on('end', () => { if (socket !== null) socket.end(); });
`;

/** A child process that answers each JSON line written to its stdin with one JSON line. */
interface LineChild {
  /** The next line it prints (without a command: its first, unprompted one). */
  next<T>(command?: object): Promise<T>;
  /** Ends its stdin and resolves once it exited (rejects on a failure exit). */
  close(): Promise<void>;
}

function startLineChild(name: string, args: readonly string[], env: NodeJS.ProcessEnv): LineChild {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, args, { env });
  child.stderr.pipe(process.stderr);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async next<T>(command?: object): Promise<T> {
      if (command !== undefined) child.stdin.write(`${JSON.stringify(command)}\n`);
      const answer = await answers.next();
      if (answer.done === true) throw new Error(`bench: the ${name} child exited (${String(await exited)})`);
      return JSON.parse(answer.value) as T;
    },
    async close() {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`bench: the ${name} child exited with ${String(code)}`);
    },
  };
}

type ScraperCommand = { op: 'seq'; n: number; gzip: boolean } | { op: 'loop' } | { op: 'stop' };

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
  return withRulesChange('kbe-serve-', dumpPath, (work, changed) => serveAndMeasure(work, changed, gets));
}

async function serveAndMeasure(dumpPath: string, changedPath: string, gets: number): Promise<ServeResult> {
  const script = fileURLToPath(new URL('./serve-child.js', import.meta.url));
  // No flags of this process (npm run bench runs it with --expose-gc): the image's environment only.
  const exporter = startLineChild('exporter', [script, dumpPath, changedPath], { ...process.env, ...IMAGE_NODE_ENV });
  let scraper: LineChild | null = null;
  try {
    const { port } = await exporter.next<{ port: number }>();
    const first = await fetchPage(port);
    const counts = countSeries(first);
    const active = startLineChild('scraping', ['-e', SCRAPER], { ...process.env, KBE_BENCH_PORT: String(port) });
    scraper = active;
    const scrapeBoth = (command: ScraperCommand): Promise<{ times: number[]; gzipTimes?: number[] }> => active.next(command);
    const scrape = async (command: ScraperCommand): Promise<number[]> => (await scrapeBoth(command)).times;
    const times = await scrape({ op: 'seq', n: gets, gzip: false });
    const gzipTimes = await scrape({ op: 'seq', n: gets, gzip: true });

    // Scrapes run back to back from before the sample starts until after its page is served.
    const slowest = (times: readonly number[]): number => (times.length === 0 ? Number.NaN : Math.max(...times));
    const monitored = async (change: boolean): Promise<ServeChildSample & MonitoredSample> => {
      await scrape({ op: 'loop' });
      const sample = await exporter.next<ServeChildSample>({ op: 'sample', change });
      const { times: plain, gzipTimes: gzip = [] } = await scrapeBoth({ op: 'stop' });
      return {
        ...sample,
        maxGetDuringSampleMs: slowest(plain),
        getsDuringSample: plain.length,
        maxGzipGetDuringSampleMs: slowest(gzip),
        gzipGetsDuringSample: gzip.length,
      };
    };
    const parsed = await monitored(true);
    const refreshed = await monitored(false);
    return {
      get: spread(times),
      getGzip: spread(gzipTimes),
      pageBytes: Buffer.byteLength(first),
      series: counts.series,
      kubeBalanceSeries: counts.kubeBalance,
      endpointSeries: counts.endpoint,
      parsed,
      refreshed,
      sampleIntervalSeconds: refreshed.sampleIntervalSeconds,
    };
  } finally {
    await scraper?.close();
    await exporter.close();
  }
}
