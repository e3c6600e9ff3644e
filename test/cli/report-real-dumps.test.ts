// `report` on the real kube-proxy dumps in ../shared/real-dumps: it reads every one (exit 0) and its JSON agrees
// with the hand-checked readings. The model's own test (test/real-dumps.test.ts) checks the details.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { ReportJson } from '../../src/cli/report-json.js';
import { REAL_DUMPS_DIR } from '../support/real-dumps-dir.js';
import { runCaptured } from './cli-io.js';

const DUMPS_DIR = REAL_DUMPS_DIR;

interface Expected {
  services: Array<{
    service: string;
    chain: string;
    clusterIP: string;
    endpoints: Array<{ endpoint: string | null; chain: string; probability: number; packets?: number | null; affinityPackets?: number | null }>;
  }>;
}

const cases = readdirSync(DUMPS_DIR)
  .filter((f) => f.endsWith('.expected.json'))
  .sort()
  .map((f) => ({ base: f.slice(0, -'.expected.json'.length), expected: JSON.parse(readFileSync(DUMPS_DIR + f, 'utf8')) as Expected }));

function printedName(s: ReportJson['servicePorts'][number]): string | null {
  if (s.namespace === null || s.service === null) return null;
  return `${s.namespace}/${s.service}${s.port === '' || s.port === null ? '' : `:${s.port}`}`;
}

describe('report on real dumps', () => {
  test('the shared dumps are there', () => {
    expect(cases.length).toBeGreaterThanOrEqual(4);
  });

  describe.each(cases)('$base', ({ base, expected }) => {
    const path = `${DUMPS_DIR}${base}.txt`;

    test('the table report reads it (exit 0), listing skipped lines on stderr only', async () => {
      const result = await runCaptured(['report', '--input', path]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/service port ladders? \(ipv4\)\.\n/);
      for (const line of result.stderr.trimEnd().split('\n').filter((l) => l !== '')) {
        expect(line).toMatch(/^(?:line \d+: skipped \([a-z-]+\): |warning: |\.\.\. and \d+ more)/);
      }
    });

    test('the JSON agrees with the hand-checked reading', async () => {
      const result = await runCaptured(['report', '--input', path, '--format=json']);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as ReportJson;
      const byChain = new Map(report.servicePorts.map((s) => [s.chain, s]));
      for (const want of expected.services) {
        const got = byChain.get(want.chain);
        expect(got, want.chain).toBeDefined();
        if (got === undefined) continue;
        // Pre-1.19 unnamed ports print as `ns/svc:`; the JSON's port is '' for both spellings.
        expect(printedName(got), want.chain).toBe(want.service.replace(/:$/, ''));
        expect(got.clusterIP, want.chain).toBe(want.clusterIP);
        expect(got.endpoints.map((e) => [e.chain, e.endpoint])).toEqual(want.endpoints.map((e) => [e.chain, e.endpoint]));
        want.endpoints.forEach((w, i) => {
          const e = got.endpoints[i];
          if (e === undefined) return;
          if (i === want.endpoints.length - 1 && w.probability === 1) expect(e.probability).toBeNull();
          else expect(e.probability).toBeCloseTo(w.probability, 10);
          if (w.packets !== undefined) {
            // `packets` in the readings is the random-choice jump; `connections` adds the affinity jumps.
            const random = e.connections === null ? null : e.connections - (e.affinityConnections ?? 0);
            expect(random, `${w.chain} connections`).toBe(w.packets);
          }
        });
      }
    });
  });
});
