// The benchmark's naive baseline and our parser read the same generated ruleset the same way, so
// timing one against the other compares equal work.
import { describe, expect, it } from 'vitest';
import { parseNaive } from '../../src/bench/naive-parser.js';
import { advanceModel, parseChunked } from '../../src/bench/pipeline.js';
import { parseDump } from '../../src/iptables/parse-dump.js';
import { generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import { buildServiceModel } from '../../src/model/build-service-model.js';

const S = generateBulkRuleset({ services: 100, endpointsPerService: 3, seed: 1 });

describe('naive baseline parser', () => {
  it('agrees with DumpParser on per-chain rule counts and counters for a generated S ruleset', () => {
    const naive = parseNaive(S);
    const ours = parseDump(S);
    const naiveNat = naive.tables.get('nat');
    const ourNat = ours.tables.get('nat');
    expect(naiveNat).toBeDefined();
    expect(ourNat).toBeDefined();
    expect([...(naiveNat?.keys() ?? [])].sort()).toEqual([...(ourNat?.chains.keys() ?? [])].sort());
    let rules = 0;
    for (const [name, chain] of naiveNat ?? []) {
      const ourRules = ourNat?.chains.get(name)?.rules ?? [];
      expect(chain.rules.length, name).toBe(ourRules.length);
      expect(chain.rules.map((r) => [r.packets, r.bytes, r.target]), name).toEqual(ourRules.map((r) => [r.counters?.packets, r.counters?.bytes, r.target]));
      rules += ourRules.length;
    }
    expect(rules).toBeGreaterThan(1000);
    expect(naive.tables.get('nat')?.get('KUBE-SERVICES')?.rules[0]?.options['--comment']).toBe(ourNat?.chains.get('KUBE-SERVICES')?.rules[0]?.comment);
  });

  it('agrees whether our parser gets the text whole or in 64 KiB Buffer chunks, as the benchmark feeds it', () => {
    const whole = parseDump(S);
    const chunked = parseChunked(Buffer.from(S));
    expect([...chunked.tables.get('nat')?.chains.values() ?? []]).toEqual([...whole.tables.get('nat')?.chains.values() ?? []]);
  });

  it('advances every endpoint counter for the steady-state analysis step', () => {
    const model = buildServiceModel(parseDump(S), 'ipv4');
    const later = advanceModel(model, 7);
    const ladder = model.ladders.find((l) => l.connections !== null);
    const advanced = later.ladders.find((l) => l.key === ladder?.key);
    expect(advanced?.connections).toBe((ladder?.connections ?? 0) + 7 * (ladder?.endpoints.length ?? 0));
    expect(advanced?.endpoints.map((e) => e.connections)).toEqual(ladder?.endpoints.map((e) => (e.connections ?? 0) + 7));
  });
});
