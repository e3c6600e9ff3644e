// DumpParserOptions.ruleRuns (rule-runs.ts): the parser holds each run of a gated chain's rules, hashes
// it, and parses it only when the gate declines to skip it; line numbers and findings stay as without it.
import { describe, expect, it } from 'vitest';
import { DumpParser, parseDump } from '../../src/iptables/parse-dump.js';
import type { RuleRunGate } from '../../src/iptables/rule-runs.js';
import type { Rule } from '../../src/iptables/types.js';

describe('DumpParser: held runs of a gated chain’s rules', () => {
  const text = `*nat\n:A - [0:0]\n:GATE-X - [0:0]\n[1:60] -A A -j GATE-X\n[2:120] -A GATE-X -s 10.0.0.1/32 -j MARK\n[3:180] -A GATE-X -j DNAT --to-destination 10.0.0.1:80\n-A GATE-Y -j RETURN\n[4:240] -A A -j RETURN\nCOMMIT\n`;
  /** Parses `text` with a gate on GATE-*: `skip` decides; returns the rules seen and the runs parsed. */
  function run(skip: boolean, chunkSize: number, skips = true) {
    const rules: Rule[] = [];
    const runs: string[] = [];
    const offered: string[] = [];
    const gate: RuleRunGate = {
      prefix: Buffer.from('GATE-'),
      skips,
      skip: (n1, n2, c1, c2) => {
        offered.push(`${n1}/${n2}/${c1}/${c2}`);
        return skip;
      },
      parsing: () => undefined,
      parsed: (n1, n2, c1, c2, clean) => void runs.push(`${n1}/${n2}/${c1}/${c2}/${clean}`),
    };
    const parser = new DumpParser({ ruleRuns: [gate], onRule: (_table, rule) => void rules.push(rule) });
    const bytes = Buffer.from(text);
    if (chunkSize <= 0) parser.push(bytes);
    else for (let i = 0; i < bytes.length; i += chunkSize) parser.push(bytes.subarray(i, i + chunkSize));
    const dump = parser.end();
    return { rules, runs, offered, dump };
  }

  it('a skipped run reaches neither onRule nor the dump; the lines after it keep their numbers', () => {
    const plain = run(false, 0);
    const skipped = run(true, 0);
    expect(plain.rules.map((r) => `${r.chain}@${r.line}`)).toEqual(['A@4', 'GATE-X@5', 'GATE-X@6', 'GATE-Y@7', 'A@8']);
    expect(skipped.rules.map((r) => `${r.chain}@${r.line}`)).toEqual(['A@4', 'A@8']);
    expect(skipped.dump.tables.get('nat')?.chains.get('GATE-X')?.rules).toEqual([]);
    expect(skipped.dump.lineCount).toBe(plain.dump.lineCount);
    // Two runs offered (GATE-X, GATE-Y); the parsed ones are reported clean.
    expect(plain.offered).toHaveLength(2);
    expect(plain.runs.every((r) => r.endsWith('/true'))).toBe(true);
  });

  it('hashes a run the same in any chunking, with or without holding it, and ignores its counters', () => {
    const whole = run(false, 0);
    for (const chunkSize of [1, 3, 17]) expect(run(false, chunkSize).runs).toEqual(whole.runs);
    expect(run(false, 0, false).runs).toEqual(whole.runs);
    const recounted = text.replace('[2:120]', '[99:5940]');
    const parser = (t: string) => {
      const runs: string[] = [];
      const gate: RuleRunGate = { prefix: Buffer.from('GATE-'), skips: true, skip: () => false, parsing: () => undefined, parsed: (n1, n2, c1, c2) => void runs.push(`${n1}/${n2}/${c1}/${c2}`) };
      parseDump(t, { ruleRuns: [gate] });
      return runs;
    };
    expect(parser(recounted)).toEqual(parser(text));
    expect(parser(text.replace('10.0.0.1:80', '10.0.0.1:81'))[0]).not.toBe(parser(text)[0]);
  });

  it('a run with a line the parser skips is not clean', () => {
    const odd = text.replace('-j DNAT --to-destination 10.0.0.1:80', '-j DNAT [unsupported revision]');
    const gate: RuleRunGate & { clean: boolean[] } = { prefix: Buffer.from('GATE-'), skips: true, skip: () => false, parsing: () => undefined, parsed: (_1, _2, _3, _4, clean) => void gate.clean.push(clean), clean: [] };
    parseDump(odd, { ruleRuns: [gate] });
    expect(gate.clean).toEqual([false, true]);
  });

  it('skip sees each held line’s number and prefix packets; a run says whether every line had a prefix, and whether a rule’s own -c won', () => {
    const seen: string[] = [];
    const gate = (prefix: string, skip: boolean): RuleRunGate => ({
      prefix: Buffer.from(prefix),
      skips: true,
      skip: (_n1, _n2, _c1, _c2, held) => {
        seen.push(`${prefix} skip ${held.lineNumbers.slice(0, held.lines).join(',')} packets ${held.packets.slice(0, held.lines).join(',')} all ${held.allCounted}`);
        return skip;
      },
      parsing: () => undefined,
      parsed: (_n1, _n2, _c1, _c2, _clean, held) => void seen.push(`${prefix} parsed all ${held.allCounted} inline ${held.inlineCounters}`),
    });
    const input = `*nat\n[2:120] -A GATE-X -j MARK\n\n[3:180] -A GATE-X -j DNAT --to-destination 10.0.0.1:80\n[4:240] -A OTHER-Y -j RETURN\n-A OTHER-Y -j RETURN -c 9 540\n[5:300] -A OTHER-Y -c 9 540 -j RETURN\nCOMMIT\n`;
    parseDump(input, { ruleRuns: [gate('GATE-', true), gate('OTHER-', false)] });
    expect(seen).toEqual([
      // A blank line does not end a run; each line keeps its own number.
      'GATE- skip 2,4 packets 2,3 all true',
      'OTHER- skip 5,6,7 packets 4,-1,5 all false',
      'OTHER- parsed all false inline true',
    ]);
    const plain: string[] = [];
    const rules: number[] = [];
    parseDump(`*nat\n[4:240] -A OTHER-Y -j RETURN\n[5:300] -A OTHER-Y -j RETURN\nCOMMIT\n`, {
      ruleRuns: [{ ...gate('OTHER-', false), parsed: (_n1, _n2, _c1, _c2, _clean, held) => void plain.push(`${held.allCounted} ${held.inlineCounters}`) }],
      onRule: (_t, rule) => void rules.push(rule.counters?.packets ?? -1),
    });
    expect(plain).toEqual(['true false']);
    expect(rules).toEqual([4, 5]);
  });
});
