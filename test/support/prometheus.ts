/**
 * A real Prometheus (Debian's /usr/bin/prometheus) for tests: loopback only, temp storage, generated
 * config scraping the given targets every second and loading the given rule files; query helpers over
 * its HTTP API. `stop()` always kills it and removes its directory (also on process exit).
 *
 * With `namespace`, Prometheus runs inside that network namespace (`ip netns exec NS prometheus …`,
 * listening on the namespace's own 127.0.0.1) and every HTTP request to it goes through a small
 * request pump started in the same namespace (`namespaceTransport`), since the test process itself
 * lives in the host namespace: nothing crosses namespaces over the network.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface ScrapeTarget {
  /** host:port */
  readonly address: string;
  /** Target labels (e.g. node), like a relabelled Kubernetes target. */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface ScrapeJob {
  readonly job: string;
  readonly targets: readonly ScrapeTarget[];
  readonly metricsPath?: string;
  /** Keep the exposition's own labels on conflicts (as deploy/components' monitors do). Default true. */
  readonly honorLabels?: boolean;
}

export interface PrometheusOptions {
  readonly jobs: readonly ScrapeJob[];
  readonly ruleFiles?: readonly string[];
  /** Scrape and rule evaluation interval (default 1s). */
  readonly interval?: string;
  readonly binary?: string;
  /** How long to wait for /-/ready (default 30s). */
  readonly startTimeoutMs?: number;
  /**
   * Run Prometheus inside this network namespace (`ip netns exec`); unless `transport` is given,
   * HTTP requests go through a `namespaceTransport` in the same namespace (stopped with Prometheus).
   */
  readonly namespace?: string;
  /** Port on 127.0.0.1 to listen on (default: a port free on the host's loopback). */
  readonly port?: number;
  /** How HTTP GETs reach Prometheus (default: `fetch` from this process, or the namespace's pump). */
  readonly transport?: HttpTransport;
  /** Rule evaluation interval when it should differ from `interval`. */
  readonly evaluationInterval?: string;
}

/** A plain HTTP GET as the tests need it: status and body text. */
export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

/** Performs HTTP GETs somewhere (this process, or a helper inside a network namespace). */
export interface HttpTransport {
  get(url: string, timeoutMs?: number): Promise<HttpResponse>;
  /** Releases what the transport holds (a helper process); idempotent. */
  close(): Promise<void>;
}

/** GETs from this process with fetch (Prometheus on the host's loopback). */
export function fetchTransport(): HttpTransport {
  return {
    async get(url, timeoutMs = 30_000) {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, body: await res.text() };
    },
    close: async () => {},
  };
}

/**
 * A long-lived request pump inside a network namespace: `ip netns exec NS node -e …` reads one JSON
 * request per line on stdin (`{id, url, timeoutMs}`), fetches it inside the namespace and answers one
 * JSON line on stdout. One process for every query (no process start per request).
 */
const PUMP_SOURCE = String.raw`
import { createInterface } from 'node:readline';
const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let req;
  try { req = JSON.parse(line); } catch { return; }
  let out;
  try {
    const res = await fetch(req.url, { signal: AbortSignal.timeout(req.timeoutMs) });
    out = { id: req.id, status: res.status, body: await res.text() };
  } catch (error) {
    out = { id: req.id, error: String((error && error.message) || error) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
rl.on('close', () => process.exit(0));
`;

export function namespaceTransport(namespace: string, nodeBinary: string = process.execPath): HttpTransport {
  installExitHook();
  const child = spawn('ip', ['netns', 'exec', namespace, nodeBinary, '--input-type=module', '-e', PUMP_SOURCE], { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  const pending = new Map<number, { resolve: (r: HttpResponse) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let stderr = '';
  let exited: string | null = null;
  child.stdin?.on('error', () => {});
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-2000);
  });
  const failAll = (why: string) => {
    for (const p of pending.values()) p.reject(new Error(`request pump in ${namespace} ${why}: ${stderr.trim()}`));
    pending.clear();
  };
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`;
    live.delete(child);
    failAll(exited);
  });
  child.once('error', (err) => {
    exited = `failed to start: ${err.message}`;
    live.delete(child);
    failAll(exited);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let msg: { id: number; status?: number; body?: string; error?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    const p = pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(new Error(msg.error));
    else p.resolve({ status: msg.status ?? 0, body: msg.body ?? '' });
  });
  let closed = false;
  return {
    get(url, timeoutMs = 30_000) {
      if (exited !== null) return Promise.reject(new Error(`request pump in ${namespace} ${exited}: ${stderr.trim()}`));
      const id = nextId++;
      return new Promise<HttpResponse>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.stdin?.write(`${JSON.stringify({ id, url, timeoutMs })}\n`);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      if (exited !== null) return;
      const done = new Promise<void>((res) => child.once('exit', () => res()));
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await done;
      clearTimeout(timer);
    },
  };
}

export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface PrometheusAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing' | 'inactive';
  readonly value: string;
}

export interface RuleGroupStatus {
  readonly name: string;
  readonly file: string;
  readonly rules: readonly { readonly name: string; readonly type: 'recording' | 'alerting'; readonly health: string; readonly lastError?: string; readonly query: string }[];
}

export class PrometheusApiError extends Error {
  readonly code = 'E_PROMETHEUS_API';
  constructor(
    message: string,
    readonly path: string,
    readonly status: number,
  ) {
    super(`${path}: ${message} (HTTP ${status})`);
    this.name = 'PrometheusApiError';
  }
}

export interface PrometheusHandle {
  readonly url: string;
  readonly dir: string;
  /** GET /api/v1/<path> and return `data`; throws PrometheusApiError when status != success. */
  api<T>(path: string, params?: Record<string, string>): Promise<T>;
  /** Instant query; vector results as samples, a scalar as one sample without labels. */
  query(expr: string, time?: number): Promise<Sample[]>;
  rules(): Promise<RuleGroupStatus[]>;
  alerts(): Promise<PrometheusAlert[]>;
  /** Polls `fn` until it returns a value other than undefined (or throws after timeoutMs). */
  waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** Last lines of Prometheus' own log (for failure messages). */
  logTail(): string;
  stop(): Promise<void>;
}

/** A free loopback port (bound then released: Prometheus binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export function renderConfig(options: PrometheusOptions): string {
  const interval = options.interval ?? '1s';
  const lines = ['global:', `  scrape_interval: ${interval}`, `  scrape_timeout: ${interval}`, `  evaluation_interval: ${options.evaluationInterval ?? interval}`];
  const rules = options.ruleFiles ?? [];
  if (rules.length > 0) lines.push('rule_files:', ...rules.map((f) => `  - ${JSON.stringify(resolve(f))}`));
  lines.push('scrape_configs:');
  for (const job of options.jobs) {
    lines.push(
      `  - job_name: ${JSON.stringify(job.job)}`,
      `    honor_labels: ${job.honorLabels ?? true}`,
      `    metrics_path: ${JSON.stringify(job.metricsPath ?? '/metrics')}`,
      '    static_configs:',
    );
    for (const t of job.targets) {
      lines.push(`      - targets: [${JSON.stringify(t.address)}]`);
      const labels = Object.entries(t.labels ?? {});
      if (labels.length > 0) lines.push(`        labels: {${labels.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')}}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test process dies without running its afterAll: never leave Prometheus behind.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-balance-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, renderConfig(options));
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const log: string[] = [];
  installExitHook();
  const prometheusArgs = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ];
  const binary = options.binary ?? 'prometheus';
  // `ip netns exec` execs the command: the child's pid is Prometheus itself.
  const child =
    options.namespace === undefined
      ? spawn(binary, prometheusArgs, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('ip', ['netns', 'exec', options.namespace, binary, ...prometheusArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  const transport = options.transport ?? (options.namespace === undefined ? fetchTransport() : namespaceTransport(options.namespace));
  live.add(child);
  const keep = (chunk: Buffer) => {
    log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | null = null;
  const exitedPromise = new Promise<void>((res) => {
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      live.delete(child);
      res();
    });
    child.once('error', (err) => {
      exited = `failed to start: ${err.message}`;
      live.delete(child);
      res();
    });
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await transport.close().catch(() => {});
    if (exited === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitedPromise;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const logTail = () => log.slice(-20).join('\n');

  async function api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const qs = new URLSearchParams(params).toString();
    const res = await transport.get(`${url}/api/v1/${path}${qs === '' ? '' : `?${qs}`}`);
    let body: { status: string; data?: T; error?: string; errorType?: string };
    try {
      body = JSON.parse(res.body) as typeof body;
    } catch {
      throw new PrometheusApiError(`not JSON: ${res.body.slice(0, 200)}`, path, res.status);
    }
    if (body.status !== 'success') throw new PrometheusApiError(`${body.errorType ?? 'error'}: ${body.error ?? 'unknown'}`, path, res.status);
    return body.data as T;
  }

  async function query(expr: string, time?: number): Promise<Sample[]> {
    const data = await api<{ resultType: string; result: unknown }>('query', { query: expr, ...(time === undefined ? {} : { time: String(time) }) });
    if (data.resultType === 'scalar') return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
    if (data.resultType !== 'vector') throw new Error(`${expr}: unexpected ${data.resultType} result`);
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown = null;
    for (;;) {
      if (exited !== null) throw new Error(`prometheus ${exited} while waiting for ${what}\n${logTail()}`);
      try {
        const v = await fn();
        if (v !== undefined) return v;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${lastError === null ? '' : `: ${String(lastError)}`}\n${logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  const handle: PrometheusHandle = {
    url,
    dir,
    api,
    query,
    rules: async () => (await api<{ groups: RuleGroupStatus[] }>('rules')).groups,
    alerts: async () => (await api<{ alerts: PrometheusAlert[] }>('alerts')).alerts,
    waitFor,
    logTail,
    stop,
  };
  try {
    await waitFor(
      '/-/ready',
      async () => {
        const res = await transport.get(`${url}/-/ready`, 5_000).catch(() => null);
        return res !== null && res.status >= 200 && res.status < 300 ? true : undefined;
      },
      options.startTimeoutMs ?? 30_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return handle;
}
