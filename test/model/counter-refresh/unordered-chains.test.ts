// kube-proxy writes KUBE-SERVICES and KUBE-NODEPORTS in a new order at every sync (unordered-chains.ts).
// The structure digest ignores that order, which is exact only if the model does not depend on it:
// on every fixture, real dump and a generated cluster, an output with those rules shuffled within
// their runs (and new counters) has the digest of the original, parses to the same model, and a
// refresh from the original gives what parsing it gives. Any other change still changes the digest.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDump } from '../../../src/iptables/parse-dump.js';
import type { IpFamily } from '../../../src/iptables/types.js';
import { generateBulkRuleset } from '../../../src/lab/ruleset/bulk.js';
import { mulberry32 } from '../../../src/lab/mulberry32.js';
import { buildServiceModel } from '../../../src/model/build-service-model.js';
import { CounterRefresher } from '../../../src/model/counter-refresh/counter-refresher.js';
import { StructureScanner, type StructureScan } from '../../../src/model/counter-refresh/structure-scanner.js';
import { lineKindOf, RuleOrder } from '../../../src/model/counter-refresh/unordered-chains.js';
import { DUMP_FILES } from '../../support/dump-files.js';

function scan(text: string): StructureScan {
  const scanner = new StructureScanner();
  scanner.push(Buffer.from(text, 'utf8'));
  return scanner.end();
}

function kindOf(line: string): RuleOrder {
  const bytes = Buffer.from(line, 'utf8');
  return lineKindOf(bytes, 0, bytes.length);
}

/** `text` with the rules of each run of KUBE-SERVICES or KUBE-NODEPORTS rules in a random order; also how many runs had two different lines. */
function shuffleUnordered(text: string, seed: number): { text: string; shuffledRuns: number } {
  const random = mulberry32(seed);
  const lines = text.split('\n');
  let shuffledRuns = 0;
  for (let start = 0; start < lines.length; ) {
    const kind = kindOf(lines[start] as string);
    let end = start + 1;
    while (end < lines.length && kind !== RuleOrder.Kept && kindOf(lines[end] as string) === kind) end++;
    if (end - start > 1) {
      const run = lines.slice(start, end);
      if (new Set(run).size > 1) shuffledRuns++;
      for (let i = run.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [run[i], run[j]] = [run[j] as string, run[i] as string];
      }
      lines.splice(start, run.length, ...run);
    }
    start = end;
  }
  return { text: lines.join('\n'), shuffledRuns };
}

/** Every packet counter raised (by line), as a later output of the same rules. */
function laterCounters(text: string): string {
  let index = 0;
  return text.replace(/^\[(\d+):(\d+)\]/gm, (_m, p: string, b: string) => `[${Number(p) + (index++ % 5) * 3}:${b}]`);
}

function familyOf(text: string): IpFamily {
  return /-j DNAT --to-destination \[/.test(text) ? 'ipv6' : 'ipv4';
}

const inputs: { name: string; text: string }[] = [
  ...DUMP_FILES.map((file) => ({ name: file.split('/').slice(-2).join('/'), text: readFileSync(file, 'utf8') })),
  { name: 'generated, 400 services (every 3rd with a NodePort)', text: generateBulkRuleset({ services: 400, endpointsPerService: 3, seed: 4, nodePortEvery: 3 }) },
];

describe('KUBE-SERVICES and KUBE-NODEPORTS in another order (a kube-proxy sync)', () => {
  it('the inputs hold such runs to shuffle', () => {
    const shuffled = inputs.filter((input) => shuffleUnordered(input.text, 1).shuffledRuns > 0);
    expect(shuffled.length).toBeGreaterThanOrEqual(10);
    expect(inputs.filter((input) => input.text.includes('\n-A KUBE-NODEPORTS ') || input.text.includes('] -A KUBE-NODEPORTS ')).length).toBeGreaterThanOrEqual(5);
  });

  for (const input of inputs) {
    it(`${input.name}: same digest, same model, and a refresh gives what a parse gives`, () => {
      const original = scan(input.text);
      const ipFamily = familyOf(input.text);
      const model = buildServiceModel(parseDump(input.text), ipFamily);
      for (const seed of [1, 2, 3]) {
        const { text } = shuffleUnordered(input.text, seed);
        expect(scan(text).digest).toBe(original.digest);
        expect(buildServiceModel(parseDump(text), ipFamily)).toStrictEqual(model);
      }
    });
  }

  it('a refresh after the sync gives what parsing the new output gives (counters moved with their rules)', async () => {
    for (const input of inputs) {
      const before = scan(input.text);
      if (before.notReusable !== null) continue;
      const ipFamily = familyOf(input.text);
      const refresher = new CounterRefresher();
      await refresher.parsed(before, parseDump(input.text), ipFamily);
      if (!refresher.scanOnly) continue;
      const after = laterCounters(shuffleUnordered(input.text, 7).text);
      const refreshed = await refresher.refresh(scan(after));
      expect(refreshed, input.name).not.toBeNull();
      const parsed = buildServiceModel(parseDump(after), ipFamily);
      expect(refreshed?.model.ladders, input.name).toStrictEqual(parsed.ladders);
      expect(refreshed?.model.warnings, input.name).toStrictEqual(parsed.warnings);
    }
  });
});

describe('what still changes the digest', () => {
  const base = [
    '*nat',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-A - [0:0]',
    '[1:60] -A KUBE-SERVICES -d 10.0.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A',
    '[2:60] -A KUBE-SERVICES -d 10.0.0.2/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-B',
    '[3:60] -A KUBE-SERVICES -d 10.0.0.3/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-C',
    '[4:60] -A KUBE-NODEPORTS -p tcp -m tcp --dport 30001 -j KUBE-EXT-A',
    '[5:60] -A KUBE-NODEPORTS -p tcp -m tcp --dport 30002 -j KUBE-EXT-B',
    '[6:60] -A KUBE-SVC-A -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-1',
    '[7:60] -A KUBE-SVC-A -j KUBE-SEP-2',
    '[8:60] -A KUBE-SERVICES -d 10.0.0.4/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-D',
    'COMMIT',
    '',
  ];
  const digest = (lines: readonly string[]): string => scan(lines.join('\n')).digest;
  const swap = (lines: readonly string[], i: number, j: number): string[] => {
    const copy = [...lines];
    [copy[i], copy[j]] = [copy[j] as string, copy[i] as string];
    return copy;
  };

  it('holds still for a reorder within a run and for new counters', () => {
    expect(digest(swap(base, 4, 6))).toBe(digest(base));
    expect(digest(swap(base, 7, 8))).toBe(digest(base));
    expect(digest(base.map((l) => l.replace(/^\[\d+:/, '[9:')))).toBe(digest(base));
  });

  it('moves for a changed, duplicated or moved rule, and for a reorder elsewhere', () => {
    const changed = [...base];
    changed[5] = (changed[5] as string).replace('10.0.0.2', '10.0.0.9');
    const duplicated = [...base];
    duplicated[5] = duplicated[4] as string;
    const cases: Record<string, string[]> = {
      'a rule of the run changed': changed,
      'a rule duplicated in place of another': duplicated,
      'a rule swapped across KUBE-SERVICES and KUBE-NODEPORTS': swap(base, 6, 7),
      'a rule moved to another run of its chain': swap(base, 4, 11),
      'a ladder reordered': swap(base, 9, 10),
      'a run moved behind a header': [...base.slice(0, 3), ...base.slice(4, 7), base[3] as string, ...base.slice(7)],
      'the chain of a rule renamed': base.map((l) => l.replace('-A KUBE-NODEPORTS -p tcp -m tcp --dport 30002', '-A KUBE-NODEPORTX -p tcp -m tcp --dport 30002')),
    };
    for (const [name, lines] of Object.entries(cases)) expect(digest(lines), name).not.toBe(digest(base));
  });
});
