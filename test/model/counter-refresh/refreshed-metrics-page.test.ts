// End to end, every metric: the file source with the counter refresh (refreshed reads, counters as
// arrays, the analysis's same-ladders path) and without it (every read parsed) must publish the same
// /metrics page after every sample, on every fixture and real dump with counters, through growth, a
// counter reset and a change of rules. Only the figures about how a read was taken may differ.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { replaceOneEndpoint } from '../../../src/bench/replace-endpoint.js';
import { createMetricsPage } from '../../../src/metrics/metrics-page.js';
import { Sampler } from '../../../src/sampler.js';
import type { Clock } from '../../../src/sampler/clock.js';
import { createFileSource } from '../../../src/source/file-sample-source.js';
import { DUMP_FILES } from '../../support/dump-files.js';

// How a read was taken and how long it took: the only lines that may differ.
const READ_FIGURES = /^kube_balance_(sample_reads_total|save_duration_seconds|sample_duration_seconds)\b/;

const dir = mkdtempSync(join(tmpdir(), 'kbe-refreshed-page-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withPackets(text: string, f: (packets: number, index: number) => number): string {
  let index = 0;
  return text.replace(/^\[(\d+):(\d+)\]/gm, (_m, p: string, b: string) => `[${f(Number(p), index++)}:${b}]`);
}

/**
 * Same rules growing twice, a rewrite restarting the counters lower, growth, then other rules (a new
 * line), growth; then one endpoint replaced (the parse keeps every other ladder of the last model,
 * ladder-reuse.ts), growth, and a line more at the top (every ladder kept, every line moved), growth.
 */
function outputs(text: string): string[] {
  const a = withPackets(text, (p, i) => p + (i % 5) + 1);
  const b = withPackets(a, (p, i) => p + ((i * 7) % 11) + 20);
  const c = withPackets(b, (p, i) => p + 3 * (i % 4));
  const reset = withPackets(c, (p, i) => (i % 2 === 0 ? 1 : Math.floor(p / 4)));
  const d = withPackets(reset, (p, i) => p + 40 * (i % 3));
  const changed = `${d}# a line more: other rules\n`;
  const e = withPackets(changed, (p) => p + 9);
  const replaced = withPackets(/KUBE-SEP-[A-Z2-7]{16}/.test(e) ? replaceOneEndpoint(e).text : e, (p, i) => p + (i % 3));
  const shifted = `# a line more at the top\n${withPackets(replaced, (p, i) => p + 5 + (i % 7))}`;
  return [text, a, b, c, reset, d, changed, e, replaced, withPackets(replaced, (p, i) => p + 2 + (i % 5)), shifted, withPackets(shifted, (p, i) => p + 1 + (i % 4))];
}

function pageMaker(path: string, refreshCounters: boolean): { sample(nowMs: number): Promise<string>; reads(): string[] } {
  let nowMs = 0;
  const clock: Clock = { now: () => nowMs, setTimeout: () => 0, clearTimeout: () => {} };
  const sampler = new Sampler({ source: createFileSource({ path, maxBytes: 1 << 24, refreshCounters }), intervalSeconds: 10, maxAgeSeconds: 600, clock });
  const page = createMetricsPage({ windowSeconds: 300, version: '0.1.0', revision: 'test', nodejsVersion: 'v20.0.0', registry: new Registry() });
  let lastPage = '';
  return {
    async sample(at: number): Promise<string> {
      nowMs = at;
      await sampler.sampleNow();
      page.update(sampler.snapshot);
      lastPage = await page.render();
      return lastPage
        .split('\n')
        .filter((line) => line !== '' && !READ_FIGURES.test(line))
        .sort()
        .join('\n');
    },
    reads: () => lastPage.split('\n').filter((line) => line.startsWith('kube_balance_sample_reads_total{')),
  };
}

describe('the /metrics page with and without the counter refresh', () => {
  const files = DUMP_FILES.filter((f) => /^\[\d+:\d+\] -A KUBE-SVC-/m.test(readFileSync(f, 'utf8')));

  it('there are dumps with counters to compare on', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  for (const file of files) {
    it(file.split('/').slice(-2).join('/'), async () => {
      const refreshedPath = join(dir, 'refreshed.txt');
      const parsedPath = join(dir, 'parsed.txt');
      const refreshed = pageMaker(refreshedPath, true);
      const parsed = pageMaker(parsedPath, false);
      let nowMs = 1_700_000_000_000;
      for (const text of outputs(readFileSync(file, 'utf8'))) {
        writeFileSync(refreshedPath, text);
        writeFileSync(parsedPath, text);
        expect(await refreshed.sample(nowMs)).toEqual(await parsed.sample(nowMs));
        nowMs += 30_000;
      }
      // The case under test happened: several reads were refreshed.
      expect(refreshed.reads().some((line) => /read="refreshed"\} [3-9]/.test(line))).toBe(true);
    });
  }
});
