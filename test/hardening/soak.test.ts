/**
 * Soak (bounded: ~2.5 min of load, KBE_SOAK_SECONDS to change): the BUILT exporter on the lab's node
 * with continuous traffic, kube-proxy-style chain rewrites and endpoint churn between rounds, and three
 * concurrent scrapers. At the end: no error, RSS flat, every counter monotonic, counters equal to the
 * ground truth.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExporterHandle } from '../../src/lab/exporter-process.js';
import { rewriteService, setEndpoints } from '../../src/lab/kube-proxy-sim.js';
import type { Lab } from '../../src/lab/lab.js';
import { driveTraffic, mergeCounts, type TrafficRequest } from '../../src/lab/traffic.js';
import { labAvailable } from '../support/lab-env.js';
import { parseExposition } from '../metrics/parse-exposition.js';
import { counterSeries, startLabExporter } from './support/lab-exporter.js';

const SOAK_MS = Number(process.env.KBE_SOAK_SECONDS ?? 150) * 1000;
const WORKLOAD: ReadonlyArray<TrafficRequest & { port: string }> = [
  { service: 'shop/web', port: '', count: 40, from: 'node', concurrency: 8 },
  { service: 'shop/checkout', port: 'http', count: 30, from: 'node', concurrency: 8 },
  { service: 'kube-system/dns', port: 'dns', count: 40, concurrency: 8 },
  { service: 'shop/web6', port: 'http', count: 20, from: 'node', concurrency: 4 },
];
/** Churn, one step per round, in a cycle that ends where it started. */
const CHURN: ReadonlyArray<(lab: Lab) => Promise<void>> = [
  (lab) => rewriteService(lab, 'shop/web'),
  (lab) => setEndpoints(lab, 'shop/web', ['web-1', 'web-2']),
  (lab) => rewriteService(lab, 'shop/checkout'),
  (lab) => setEndpoints(lab, 'shop/web', ['web-1', 'web-2', 'web-3']),
];

type Series = Map<string, number>;
const COUNTERS = ['kube_balance_endpoint_connections_total', 'kube_balance_service_connections_total', 'kube_balance_samples_total', 'kube_balance_resets_total'];

function rssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}

describe.skipIf(!labAvailable)('soak: traffic, rewrites, churn and concurrent scrapers', () => {
  let lab: Lab;
  let exporter: ExporterHandle;

  beforeAll(async () => {
    ({ lab, exporter } = await startLabExporter());
  }, 240_000);
  afterAll(async () => {
    await exporter?.stop();
    await lab?.teardown();
  }, 60_000);

  it('no errors, RSS flat, counters monotonic and equal to the ground truth', async () => {
    const truth = new Map<string, Map<string, number>>();
    const deadline = Date.now() + SOAK_MS;
    let done = false;
    const violations: string[] = [];
    let scrapes = 0;

    const scraper = async (id: number): Promise<void> => {
      let previous: Series = new Map();
      while (!done) {
        const { status, body } = await exporter.get('/metrics');
        if (status !== 200) violations.push(`scraper ${id}: status ${status}`);
        const current = counterSeries(parseExposition(body), COUNTERS);
        for (const [key, value] of current) {
          const before = previous.get(key);
          if (before !== undefined && value < before) violations.push(`scraper ${id}: ${key} went ${before} -> ${value}`);
        }
        previous = current;
        scrapes++;
        await new Promise((r) => setTimeout(r, 300));
      }
    };

    const rss: Array<{ at: number; bytes: number }> = [];
    const rssWatcher = async (): Promise<void> => {
      while (!done) {
        rss.push({ at: Date.now(), bytes: rssBytes(exporter.pid) });
        await new Promise((r) => setTimeout(r, 2000));
      }
    };

    const samplesTotal = async (): Promise<number> => {
      const page = parseExposition((await exporter.get('/metrics')).body);
      return page.get('kube_balance_samples_total')?.samples[0]?.value ?? 0;
    };
    /** Two more completed samples: the last one started after everything before this call. */
    const settle = async (): Promise<void> => {
      const start = await samplesTotal();
      while ((await samplesTotal()) < start + 2) await new Promise((r) => setTimeout(r, 250));
    };

    const driver = async (): Promise<number> => {
      let round = 0;
      while (Date.now() < deadline || round % CHURN.length !== 0) {
        const results = await Promise.all(WORKLOAD.map((w) => driveTraffic(lab, w).then((r) => ({ w, r }))));
        for (const { w, r } of results) {
          if (r.failures > 0) violations.push(`traffic to ${w.service}:${w.port}: ${r.failures} failures (${r.errors.slice(0, 3).join('; ')})`);
          const id = `${w.service}|${w.port}`;
          truth.set(id, mergeCounts(truth.get(id) ?? new Map(), r.counts));
        }
        // kube-proxy rewrites zero the kernel counters: only what a sample saw first can be carried over.
        await settle();
        await (CHURN[round % CHURN.length] as (lab: Lab) => Promise<void>)(lab);
        // And a sample must see the rewrite before new traffic outgrows the old counters: a same-rules
        // rewrite followed, within one interval, by more connections per endpoint than before is the
        // documented blind spot of sampling counters (src/analysis/advance-counters.ts), which one CI
        // run hit (2,201 of 2,240). That limit is the sampling's, not what this soak measures.
        await settle();
        round++;
      }
      await settle();
      return round;
    };

    const scrapers = [0, 1, 2].map((i) => scraper(i));
    const watcher = rssWatcher();
    const rounds = await driver();
    done = true;
    await Promise.all([...scrapers, watcher]);

    expect(violations).toEqual([]);
    expect(rounds).toBeGreaterThanOrEqual(CHURN.length);
    expect(scrapes).toBeGreaterThan(30);

    const page = parseExposition((await exporter.get('/metrics')).body);
    expect(page.get('kube_balance_up')?.samples[0]?.value).toBe(1);
    for (const s of page.get('kube_balance_sample_errors_total')?.samples ?? []) expect(s.value, `errors at stage ${s.labels.stage}`).toBe(0);
    expect(exporter.logs()).not.toMatch(/level=error/);
    // The ground truth below was met with the counter refresh at work: reads between rewrites only
    // re-read counters into the last parsed model; rewrites of endpoints were parsed again.
    const reads = new Map<string, number>();
    for (const s of page.get('kube_balance_sample_reads_total')?.samples ?? []) reads.set(s.labels.read ?? '', (reads.get(s.labels.read ?? '') ?? 0) + s.value);
    expect(reads.get('refreshed') ?? 0, 'refreshed reads').toBeGreaterThan(rounds);
    expect((reads.get('parsed') ?? 0) + (reads.get('reparsed') ?? 0), 'parsed reads').toBeGreaterThanOrEqual(3);
    // A local run: 300 refreshed, 20 parsed, 16 reparsed over 32 rounds of churn.
    expect(reads.get('reparsed') ?? 0, 'rewrites caught by a counters-only read').toBeGreaterThan(0);

    // Ground truth: per endpoint for the Services whose endpoint set never changed; the Service total
    // (which keeps what departed endpoints had counted) for shop/web.
    const exported = (service: string, port: string, family: string): Map<string, number> => {
      const [namespace, name] = service.split('/') as [string, string];
      const out = new Map<string, number>();
      for (const s of page.get(family)?.samples ?? []) {
        if (s.labels.namespace !== namespace || s.labels.service !== name || s.labels.port !== port) continue;
        const key = s.labels.endpoint ?? 'total';
        out.set(key, (out.get(key) ?? 0) + s.value);
      }
      return out;
    };
    // The kernel counts a nat rule hit when a flow's first packet passes it, before conntrack confirms
    // the flow: a SYN dropped after the nat hook (a full veth queue on this loaded 2-core machine) and
    // retransmitted is counted twice. One CI run saw exactly that (+1 of 2,240). So the exporter must
    // never count less than the traffic, and more only by such rare retransmissions (1 in 500 here).
    const assertCounted = (what: string, counted: number, sent: number): void => {
      expect(counted, what).toBeGreaterThanOrEqual(sent);
      expect(counted - sent, `${what}: counted ${counted}, sent ${sent}`).toBeLessThanOrEqual(Math.max(2, Math.ceil(sent / 500)));
    };
    for (const w of WORKLOAD) {
      const expected = truth.get(`${w.service}|${w.port}`) ?? new Map<string, number>();
      if (w.service === 'shop/web') {
        const total = [...expected.values()].reduce((a, b) => a + b, 0);
        assertCounted('shop/web total', exported(w.service, w.port, 'kube_balance_service_connections_total').get('total') ?? 0, total);
      } else {
        const counted = exported(w.service, w.port, 'kube_balance_endpoint_connections_total');
        expect([...counted.keys()].sort(), `${w.service}:${w.port} endpoints`).toEqual([...expected.keys()].sort());
        for (const [endpoint, sent] of expected) assertCounted(`${w.service}:${w.port} ${endpoint}`, counted.get(endpoint) ?? 0, sent);
      }
    }

    // RSS flat: after a warm-up third, the last third never exceeds the middle third by more than 25% + 16 MiB.
    const third = Math.floor(rss.length / 3);
    const middle = Math.max(...rss.slice(third, 2 * third).map((r) => r.bytes));
    const last = Math.max(...rss.slice(2 * third).map((r) => r.bytes));
    expect(rss.length).toBeGreaterThan(10);
    expect(last, `RSS ${JSON.stringify(rss.map((r) => Math.round(r.bytes / 2 ** 20)))} MiB`).toBeLessThanOrEqual(middle * 1.25 + 16 * 2 ** 20);
  }, SOAK_MS + 240_000);
});
