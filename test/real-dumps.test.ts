// Real kube-proxy dumps (../shared/real-dumps) against their hand-checked .expected.json readings.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDump } from '../src/iptables/parse-dump.js';
import { buildServiceModel } from '../src/model/build-service-model.js';
import { formatServicePortName } from '../src/model/service-port-name.js';
import type { Ladder } from '../src/model/types.js';
import { REAL_DUMPS_DIR } from './support/real-dumps-dir.js';

const DUMPS_DIR = REAL_DUMPS_DIR;

interface ExpectedEndpoint {
  endpoint: string | null;
  chain: string;
  probability: number;
  packets?: number | null;
  expectedShare: number;
  affinityPackets?: number | null;
}

interface ExpectedService {
  service: string;
  chain: string;
  clusterIP: string;
  endpoints: ExpectedEndpoint[];
  externalIPs?: string[];
  sessionAffinity?: string;
  policy?: string;
}

const cases = readdirSync(DUMPS_DIR)
  .filter((f) => f.endsWith('.expected.json'))
  .sort()
  .map((f) => {
    const base = f.slice(0, -'.expected.json'.length);
    return {
      base,
      text: readFileSync(`${DUMPS_DIR}${base}.txt`, 'utf8'),
      expected: JSON.parse(readFileSync(`${DUMPS_DIR}${f}`, 'utf8')) as { services: ExpectedService[] },
    };
  });

describe('real dumps', () => {
  it('finds the dumps', () => {
    expect(cases.length).toBeGreaterThanOrEqual(4);
  });

  describe.each(cases)('$base', ({ text, expected }) => {
    const model = buildServiceModel(parseDump(text), 'ipv4');
    const byChain = new Map<string, Ladder>(model.ladders.map((l) => [l.chain, l]));

    it.each(expected.services.map((s) => [`${s.service} ${s.chain}`, s] as const))('%s', (_label, want) => {
      const ladder = byChain.get(want.chain);
      expect(ladder, `no ladder for ${want.chain}`).toBeDefined();
      if (ladder === undefined) return;
      expect(ladder.name === null ? null : formatServicePortName(ladder.name)).toBe(want.service);
      expect(ladder.clusterIP).toBe(want.clusterIP);
      if (want.externalIPs !== undefined) expect(ladder.externalIPs).toEqual(want.externalIPs);
      if (want.policy !== undefined) expect(ladder.policy).toBe(want.policy.toLowerCase());
      if (want.sessionAffinity !== undefined) {
        const seconds = /timeout (\d+)s/.exec(want.sessionAffinity)?.[1];
        expect(ladder.sessionAffinity).toEqual({ timeoutSeconds: seconds === undefined ? null : Number(seconds) });
      }
      expect(ladder.endpoints.map((e) => e.chain)).toEqual(want.endpoints.map((e) => e.chain));
      want.endpoints.forEach((w, i) => {
        const got = ladder.endpoints[i];
        if (got === undefined) return;
        const last = i === want.endpoints.length - 1;
        expect(got.endpoint, `${w.chain} endpoint`).toBe(w.endpoint);
        // The expected files write 1.0 for the final unconditional rule; the model says null.
        if (last && w.probability === 1) expect(got.probability, `${w.chain} probability`).toBeNull();
        else expect(got.probability, `${w.chain} probability`).toBeCloseTo(w.probability, 10);
        expect(Math.abs(got.programmedRatio - w.expectedShare), `${w.chain} share`).toBeLessThanOrEqual(1e-6);
        if (w.packets !== undefined) {
          const random = got.connections === null ? null : got.connections - (got.affinityConnections ?? 0);
          expect(random, `${w.chain} packets`).toBe(w.packets);
        }
        if (w.affinityPackets !== undefined) expect(got.affinityConnections, `${w.chain} affinity`).toBe(w.affinityPackets);
      });
    });

    // Ladders the expected file does not list may exist (a referenced KUBE-SVL, say) but must not
    // carry invented endpoints: each endpoint must come from a `-A <ladder> ... -j <SEP>` line of
    // the input, and a non-null address must appear verbatim in the input.
    it('invents no endpoints on ladders the expected file does not list', () => {
      const listed = new Set(expected.services.map((s) => s.chain));
      const lines = text.split('\n');
      for (const ladder of model.ladders) {
        if (listed.has(ladder.chain)) continue;
        for (const e of ladder.endpoints) {
          const line = lines[e.line - 1] ?? '';
          expect(line).toContain(`-A ${ladder.chain} `);
          expect(line).toContain(`-j ${e.chain}`);
          if (e.endpoint !== null) expect(text).toContain(e.endpoint);
        }
      }
    });
  });
});
