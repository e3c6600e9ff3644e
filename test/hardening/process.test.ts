/**
 * Whole-process faults on the BUILT exporter: SIGTERM while iptables-save runs, an iptables-save that
 * prints without end (memory stays bounded), and a scrape storm during a slow sample.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IPV4_DUMP } from '../source/dump-texts.js';
import { buildCli, startExporterProcess, type ExporterProcess } from './support/built-cli.js';
import { eventually } from './support/exporter-config.js';
import { createFaultShims, type FaultShims } from './support/fault-shims.js';
import { scrape } from './support/scrape.js';

const NFT_IPV4 = ['--iptables.backend=nft', '--iptables.families=ipv4'];

let cli: string;
beforeAll(async () => {
  cli = await buildCli();
}, 180_000);

let shims: FaultShims;
let exporter: ExporterProcess | null = null;
afterEach(() => {
  exporter?.kill('SIGKILL');
  exporter = null;
  shims?.remove();
});

function processState(pid: number): 'gone' | 'zombie' | 'running' {
  const status = `/proc/${pid}/status`;
  if (!existsSync(status)) return 'gone';
  const state = /^State:\s+(\S)/m.exec(readFileSync(status, 'utf8'))?.[1];
  return state === 'Z' ? 'zombie' : 'running';
}

describe('SIGTERM during a sample', () => {
  /** Starts the exporter with a save that never ends and sends SIGTERM while it runs. */
  async function sigtermDuringSave(): Promise<{ exit: { code: number | null; signal: NodeJS.Signals | null }; child: number; logs: string }> {
    shims = createFaultShims();
    shims.set('default', 'hang');
    // A timeout far longer than the test: the exit cannot be the timeout doing the work.
    exporter = startExporterProcess(cli, [...NFT_IPV4, '--sample.timeout=1h', '--sample.interval=1h', '--sample.max-age=2h', '--window=2h'], shims.env);
    await exporter.base;
    await eventually(() => shims.hangPid() !== null);
    const child = shims.hangPid() ?? 0;
    expect(processState(child)).toBe('running');
    exporter.kill('SIGTERM');
    const exit = await exporter.exited;
    return { exit, child, logs: exporter.logs() };
  }

  it('the exporter stops and its running iptables-save is killed (no orphan left running)', async () => {
    const { child, logs } = await sigtermDuringSave();
    expect(processState(child)).not.toBe('running');
    expect(logs).toMatch(/msg="shutting down" signal=SIGTERM/);
  });

  // BUG (src/cli/main.ts, not owned here): processShutdownSignal() removes its SIGTERM/SIGINT listeners
  // on the first signal. execa (cleanup: true) registers signal-exit, whose listener re-raises the
  // signal when it finds itself the only listener left (node_modules/signal-exit/dist/mjs/index.js);
  // so whenever a save is in flight, the first SIGTERM kills the exporter with signal SIGTERM
  // (exit 143): "shutting down" is logged, the graceful close never runs. Verified: keeping main.ts's
  // listeners registered (and exiting on a second signal explicitly) makes this test pass.
  // Dying before reaping also leaves the killed child a zombie when PID 1 does not reap (as here).
  // Minimal input: any in-flight iptables-save (shim mode `hang`) + one SIGTERM.
  it('exits 0 after a graceful stop, having reaped its child (no zombie)', async () => {
    const { exit, logs, child } = await sigtermDuringSave();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(processState(child)).toBe('gone');
    expect(logs).toMatch(/msg=stopped/);
    expect(logs).not.toMatch(/level=error/);
  });
});

describe('iptables-save prints gigabytes', () => {
  it('is killed at --sample.max-output-bytes; RSS stays bounded; the exporter keeps serving and says why', async () => {
    shims = createFaultShims();
    shims.set('default', 'flood');
    exporter = startExporterProcess(cli, [...NFT_IPV4, '--sample.max-output-bytes=64MiB', '--sample.interval=1h', '--sample.max-age=2h', '--window=2h'], shims.env);
    const base = await exporter.base;
    await eventually(async () => ((await scrape(base)).samplesTotal ?? 0) >= 1, 100);
    const page = await scrape(base);
    expect(page.up).toBe(0);
    expect(page.errors.save).toBe(1);
    expect(exporter.logs()).toMatch(/level=error msg="sample failed: no data yet".*code=OUTPUT_TOO_LARGE/);
    expect(exporter.logs()).toMatch(/printed more than 67108864 bytes: killed/);
    // `yes` would print forever; what the exporter held is bounded by the cap (measured ~260 MiB peak:
    // the parsed rules of 64 MiB of rule lines plus the runtime), nowhere near "gigabytes".
    const peak = exporter.peakRssBytes();
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(512 * 2 ** 20);
    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
  });
});

/** GET on a fresh connection; resolves to the status, or 'error' — never hangs past the exporter's own timeouts. */
function getStatus(url: string): Promise<number | 'error'> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve('error'));
    });
    req.on('error', () => resolve('error'));
    req.end();
  });
}

describe('scrape storm during a slow sample', () => {
  it('answers all 200 concurrent scrapes (200 or 503 over --web.max-requests) while the sample runs, which then completes', async () => {
    shims = createFaultShims();
    const good = shims.file('good.txt', IPV4_DUMP);
    shims.set('default', `dump:${good}`);
    exporter = startExporterProcess(cli, [...NFT_IPV4, '--web.max-requests=40', '--sample.interval=1s', '--sample.max-cpu=1'], shims.env);
    const base = await exporter.base;
    await eventually(async () => ((await scrape(base)).samplesTotal ?? 0) >= 1, 50);

    // The next save sleeps 3 s before printing: wait until it has started, then storm.
    shims.set('default', `slow:3:${good}`);
    const started = shims.calls().length;
    await eventually(() => shims.calls().length > started, 20);
    const before = (await scrape(base)).samplesTotal ?? 0;

    const statuses = await Promise.all(Array.from({ length: 200 }, () => getStatus(`${base}/metrics`)));
    const counts = statuses.reduce<Record<string, number>>((acc, s) => ({ ...acc, [String(s)]: (acc[String(s)] ?? 0) + 1 }), {});
    expect(Object.keys(counts).filter((s) => s !== '200' && s !== '503'), JSON.stringify(counts)).toEqual([]);
    expect(counts['200'] ?? 0).toBeGreaterThan(0);
    // All of them were answered while the slow sample was still running.
    expect((await scrape(base)).samplesTotal).toBe(before);

    await eventually(async () => ((await scrape(base)).samplesTotal ?? 0) > before, 100);
    const after = await scrape(base);
    expect(after.up).toBe(1);
    expect(after.errors).toMatchObject({ save: 0, parse: 0, render: 0 });
    expect(exporter.logs()).not.toMatch(/level=error/);
  });
});
