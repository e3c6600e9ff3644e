/**
 * The whole pipeline on fixture dumps: file source → parser → model → analysis (three samples:
 * growth, then a kube-proxy rewrite of one service) → metrics page. The page is compared with a
 * golden file (UPDATE_GOLDEN=1 rewrites it) and checked by the real `promtool check metrics`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetricsPage } from '../../src/metrics/metrics-page.js';
import { Sampler } from '../../src/sampler.js';
import type { Clock } from '../../src/sampler/clock.js';
import { createFileSource } from '../../src/source/file-sample-source.js';

const fixture = (path: string): string => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const GOLDEN = fixture('pipeline/metrics-page.prom');
const BASE = readFileSync(fixture('cli/current-layout-counters.txt'), 'utf8');

/** Scales the packet counter of every ladder and SEP rule: more new connections, same rules. */
function grown(text: string, factor: number): string {
  return text.replace(/^\[(\d+):(\d+)\] (-A KUBE-(?:SVC|SVL|SEP)-)/gm, (_m, p: string, b: string, rest: string) => `[${Number(p) * factor}:${Number(b) * factor}] ${rest}`);
}

/** kube-proxy rewrote default/web's ladder: its counters restarted from zero and are small again. */
function rewrittenWeb(text: string): string {
  return text.replace(/^\[(\d+):(\d+)\] (-A KUBE-SVC-CDGGSHYLG3RE2FKL .*-j KUBE-SEP-.*)$/gm, (_m, _p, _b, rest: string) => `[3:180] ${rest}`);
}

const dir = mkdtempSync(join(tmpdir(), 'kbe-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function renderPipeline(): Promise<string> {
  const path = join(dir, 'dump.txt');
  let nowMs = 1_700_000_000_000;
  const clock: Clock = { now: () => nowMs, setTimeout: () => 0, clearTimeout: () => {} };
  const sampler = new Sampler({ source: createFileSource({ path, maxBytes: 1 << 20 }), intervalSeconds: 10, maxAgeSeconds: 120, clock });
  const page = createMetricsPage({ windowSeconds: 300, version: '0.1.0', revision: 'golden', nodejsVersion: 'v20.0.0', registry: new Registry() });
  for (const text of [BASE, grown(BASE, 3), rewrittenWeb(grown(BASE, 3))]) {
    writeFileSync(path, text);
    await sampler.sampleNow();
    nowMs += 10_000;
  }
  page.update(sampler.snapshot);
  // Reading the file is timed with the real clock: the one value that differs between runs.
  return (await page.render()).replace(/^(kube_balance_save_duration_seconds\{[^}]*\}) .*$/gm, '$1 0');
}

describe('fixture dumps in, whole /metrics page out', () => {
  it('matches the golden page (sorted lines)', async () => {
    const text = await renderPipeline();
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(GOLDEN, text);
    const sorted = (t: string) => t.split('\n').filter((l) => l !== '').sort();
    expect(sorted(text)).toEqual(sorted(readFileSync(GOLDEN, 'utf8')));
  });

  it('counts the rewrite as a reset and keeps the counters monotonic', async () => {
    const text = await renderPipeline();
    const web = 'namespace="default",service="web",port="http",protocol="tcp",ip_family="ipv4",policy="cluster"';
    // 120 → 360 (growth), then a reset to 3: 360 + 3, not 3 and not 360 - 357.
    expect(text).toContain(`kube_balance_endpoint_connections_total{${web},endpoint="10.244.1.5:8080"} 363`);
    expect(text).toContain(`kube_balance_service_resets_total{${web}} 1`);
    expect(text).toContain('kube_balance_resets_total 1');
  });

  it('passes promtool check metrics', async () => {
    if (!existsSync('/usr/bin/promtool')) throw new Error('promtool missing: apt-get install prometheus');
    const result = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: await renderPipeline(), encoding: 'utf8' });
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: '' });
  });
});
