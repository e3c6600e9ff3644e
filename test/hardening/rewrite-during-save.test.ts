/**
 * Fault (issue 8): kube-proxy rewriting chains during a save. The BUILT exporter samples every second
 * on the lab's node while a loop rewrites shop/web's and shop/checkout's chains back to back (so
 * rewrites land while iptables-save runs), light traffic goes to Services that are never rewritten, and
 * a scraper reads /metrics every 200 ms. A save never returns a half-written ruleset: nothing is
 * skipped, no sample fails, counters never go down, the untouched Services' counters equal the traffic
 * exactly, and the rewrites are seen as resets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExporterHandle } from '../../src/lab/exporter-process.js';
import { rewriteService } from '../../src/lab/kube-proxy-sim.js';
import type { Lab } from '../../src/lab/lab.js';
import { driveTraffic, mergeCounts, type TrafficRequest } from '../../src/lab/traffic.js';
import { labAvailable } from '../support/lab-env.js';
import { parseExposition, type ParsedFamily } from '../metrics/parse-exposition.js';
import { counterSeries, startLabExporter } from './support/lab-exporter.js';

const LOOP_MS = 20_000;
const REWRITTEN = ['shop/web', 'shop/checkout'] as const;
/** Services that are never rewritten: their counters must match the traffic exactly. */
const UNTOUCHED: ReadonlyArray<TrafficRequest & { port: string }> = [
  { service: 'kube-system/dns', port: 'dns', count: 10, concurrency: 4 },
  { service: 'shop/web6', port: 'http', count: 6, from: 'node', concurrency: 3 },
];
/** Before the loop, so the first rewrite of each rewritten Service zeroes non-zero counters (a visible reset). */
const PRELOAD: ReadonlyArray<TrafficRequest> = [
  { service: 'shop/web', count: 12, from: 'node', concurrency: 4 },
  { service: 'shop/checkout', port: 'http', count: 12, from: 'node', concurrency: 4 },
];

type Series = Map<string, number>;
const COUNTERS = ['kube_balance_endpoint_connections_total', 'kube_balance_service_connections_total'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!labAvailable)('fault: kube-proxy rewriting chains during a save', () => {
  let lab: Lab;
  let exporter: ExporterHandle;

  beforeAll(async () => {
    ({ lab, exporter } = await startLabExporter());
  }, 240_000);
  afterAll(async () => {
    await exporter?.stop();
    await lab?.teardown();
  }, 60_000);

  const page = async (): Promise<Map<string, ParsedFamily>> => parseExposition((await exporter.get('/metrics')).body);
  const single = (p: Map<string, ParsedFamily>, name: string): number => p.get(name)?.samples[0]?.value ?? 0;
  /** Two more completed samples: the last one started after everything before this call. */
  const settle = async (): Promise<void> => {
    const start = single(await page(), 'kube_balance_samples_total');
    while (single(await page(), 'kube_balance_samples_total') < start + 2) await sleep(250);
  };

  it('no skipped lines, no errors, monotonic counters, exact counts for untouched Services, resets seen', async () => {
    const violations: string[] = [];

    for (const w of PRELOAD) {
      const r = await driveTraffic(lab, w);
      if (r.failures > 0) violations.push(`preload ${w.service}: ${r.failures} failures (${r.errors.slice(0, 3).join('; ')})`);
    }
    await settle();
    const resetsBefore = single(await page(), 'kube_balance_resets_total');

    const deadline = Date.now() + LOOP_MS;
    let done = false;
    let rewrites = 0;
    let scrapes = 0;
    let trafficRounds = 0;
    const truth = new Map<string, Map<string, number>>();

    const rewriter = async (): Promise<void> => {
      while (Date.now() < deadline) {
        await rewriteService(lab, REWRITTEN[rewrites % REWRITTEN.length] as string);
        rewrites++;
      }
    };

    const traffic = async (): Promise<void> => {
      while (Date.now() < deadline) {
        const results = await Promise.all(UNTOUCHED.map((w) => driveTraffic(lab, w).then((r) => ({ w, r }))));
        for (const { w, r } of results) {
          if (r.failures > 0) violations.push(`traffic to ${w.service}:${w.port}: ${r.failures} failures (${r.errors.slice(0, 3).join('; ')})`);
          const id = `${w.service}|${w.port}`;
          truth.set(id, mergeCounts(truth.get(id) ?? new Map(), r.counts));
        }
        trafficRounds++;
        await sleep(300);
      }
    };

    const scraper = async (): Promise<void> => {
      let previous: Series = new Map();
      while (!done) {
        const { status, body } = await exporter.get('/metrics');
        scrapes++;
        if (status !== 200) {
          violations.push(`scrape ${scrapes}: status ${status}`);
        } else {
          const current = counterSeries(parseExposition(body), COUNTERS);
          for (const [key, value] of current) {
            const before = previous.get(key);
            if (before !== undefined && value < before) violations.push(`scrape ${scrapes}: ${key} went ${before} -> ${value}`);
          }
          previous = current;
        }
        await sleep(200);
      }
    };

    const scraping = scraper();
    try {
      await Promise.all([rewriter(), traffic()]);
      await settle();
    } finally {
      done = true;
      await scraping;
    }

    expect(violations).toEqual([]);
    expect(rewrites, 'rewrites in the loop').toBeGreaterThan(20);
    expect(trafficRounds).toBeGreaterThan(5);
    // A scrape runs `ip netns exec` into the node and takes a few hundred ms itself: ~2 a second.
    expect(scrapes).toBeGreaterThan(20);

    const final = await page();
    expect(single(final, 'kube_balance_up')).toBe(1);
    const errors = final.get('kube_balance_sample_errors_total')?.samples ?? [];
    for (const s of errors) expect(s.value, `errors at stage ${s.labels.stage}`).toBe(0);
    const skipped = final.get('kube_balance_rules_skipped_total')?.samples ?? [];
    expect(skipped.length, 'kube_balance_rules_skipped_total series').toBeGreaterThan(0);
    for (const s of skipped) expect(s.value, `rules skipped: ${s.labels.reason}`).toBe(0);
    expect(single(final, 'kube_balance_resets_total'), 'resets seen').toBeGreaterThan(resetsBefore);
    expect(exporter.logs()).not.toMatch(/level=error/);

    for (const w of UNTOUCHED) {
      const [namespace, name] = w.service.split('/') as [string, string];
      const counted = new Map<string, number>();
      for (const s of final.get('kube_balance_endpoint_connections_total')?.samples ?? []) {
        if (s.labels.namespace !== namespace || s.labels.service !== name || s.labels.port !== w.port) continue;
        const endpoint = s.labels.endpoint as string;
        counted.set(endpoint, (counted.get(endpoint) ?? 0) + s.value);
      }
      const expected = truth.get(`${w.service}|${w.port}`) ?? new Map<string, number>();
      expect([...expected.values()].reduce((a, b) => a + b, 0), `${w.service}:${w.port} traffic sent`).toBeGreaterThan(0);
      // Every endpoint either side, an absent one as 0 (an endpoint the traffic never reached is exported at 0).
      const keys = [...new Set([...counted.keys(), ...expected.keys()])].sort();
      expect(counted.size, `${w.service}:${w.port} endpoints exported`).toBeGreaterThan(0);
      expect(Object.fromEntries(keys.map((k) => [k, counted.get(k) ?? 0])), `${w.service}:${w.port} per endpoint`).toEqual(
        Object.fromEntries(keys.map((k) => [k, expected.get(k) ?? 0])),
      );
    }
  }, 150_000);
});
