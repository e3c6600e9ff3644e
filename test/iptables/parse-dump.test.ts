import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DumpParser, type DumpParserOptions, parseDump } from '../../src/iptables/parse-dump.js';
import type { ParsedDump } from '../../src/iptables/types.js';

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/iptables/${name}`, import.meta.url)), 'utf8');

const rulesOf = (dump: ParsedDump, chain: string, table = 'nat') => dump.tables.get(table)?.chains.get(chain)?.rules ?? [];

describe('parseDump', () => {
  it('reads iptables-save -c output: chains, policy counters, rule counters', () => {
    const dump = parseDump(fixture('save-with-counters.txt'));
    expect([...dump.tables.keys()]).toEqual(['nat']);
    expect(dump.hasCounters).toBe(true);
    expect(dump.truncated).toBe(false);
    expect(dump.skipped).toEqual([]);
    const nat = dump.tables.get('nat');
    expect(nat?.chains.get('PREROUTING')?.policyCounters).toEqual({ packets: 120, bytes: 7200 });
    expect(nat?.chains.get('KUBE-SVC-X')?.policyCounters).toBeNull();
    const svc = rulesOf(dump, 'KUBE-SVC-X');
    expect(svc.map((r) => [r.line, r.target, r.counters?.packets])).toEqual([
      [19, 'KUBE-MARK-MASQ', 0],
      [20, 'KUBE-SEP-A', 61],
      [21, 'KUBE-SEP-B', 59],
    ]);
    expect(rulesOf(dump, 'KUBE-SEP-B')[1]?.dnatDestination).toBe('10.244.2.6:8080');
  });

  it('reads kube-proxy restore input: unnormalised order, no /32, -X deletes a chain', () => {
    const dump = parseDump(fixture('restore-input-unnormalised.txt'));
    const services = rulesOf(dump, 'KUBE-SERVICES');
    expect(services[0]).toMatchObject({ destination: { address: '172.30.0.41', negated: false }, dport: 80, protocol: 'tcp' });
    expect(dump.tables.get('nat')?.chains.has('KUBE-SEP-OLD')).toBe(false);
    expect(dump.hasCounters).toBe(false);
  });

  it('keeps the legacy/nft mismatch warning', () => {
    const dump = parseDump(fixture('nft-with-legacy-warning.txt'));
    expect(dump.warnings.join('\n')).toMatch(/iptables-legacy tables present/);
    expect(dump.skipped).toEqual([]);
  });

  it('marks a dump cut short without COMMIT as truncated', () => {
    const dump = parseDump(fixture('truncated.txt'));
    expect(dump.truncated).toBe(true);
    expect(dump.warnings.join('\n')).toMatch(/truncated/);
  });

  it('skips junk and bad lines with their line numbers and keeps going', () => {
    const dump = parseDump(fixture('junk-between-rules.txt'));
    expect(dump.skipped.map((s) => [s.line, s.reason])).toEqual([
      [1, 'not-iptables'],
      [4, 'not-iptables'],
      [5, 'malformed-rule'],
      [7, 'malformed-rule'],
      [8, 'malformed-chain'],
      [9, 'unsupported-command'],
      [11, 'not-iptables'],
    ]);
    expect(rulesOf(dump, 'KUBE-SVC-X').map((r) => r.target)).toEqual(['KUBE-SEP-B']);
    expect(dump.truncated).toBe(false);
  });

  it('reads headerless excerpts as the nat table', () => {
    const dump = parseDump('-A KUBE-SVC-X -m comment --comment "a/b:c -> 1.2.3.4:80" -j KUBE-SEP-A\n');
    expect(rulesOf(dump, 'KUBE-SVC-X')).toHaveLength(1);
    expect(dump.warnings[0]).toMatch(/without a \*table header/);
  });

  it('lets a re-declared chain replace its earlier listing (iptables -S before and after a change)', () => {
    const text = ['-N KUBE-EXT-X', '-A KUBE-EXT-X -c 0 0 -j KUBE-SVC-X', '-N KUBE-EXT-X', '-A KUBE-EXT-X -c 3 180 -j KUBE-SVL-X'].join('\n');
    const dump = parseDump(text);
    expect(rulesOf(dump, 'KUBE-EXT-X').map((r) => r.target)).toEqual(['KUBE-SVL-X']);
    expect(dump.hasCounters).toBe(true);
  });

  it('lets a repeated table block replace the earlier one', () => {
    const block = (target: string) => `*nat\n:KUBE-SVC-X - [0:0]\n-A KUBE-SVC-X -j ${target}\nCOMMIT\n`;
    const dump = parseDump(block('KUBE-SEP-OLD') + block('KUBE-SEP-NEW'));
    expect(rulesOf(dump, 'KUBE-SVC-X').map((r) => r.target)).toEqual(['KUBE-SEP-NEW']);
    expect(dump.warnings.join('\n')).toMatch(/appears again/);
  });

  it('reports lossy rules and still keeps them', () => {
    const dump = parseDump('*nat\n:KUBE-SEP-A - [0:0]\n-A KUBE-SEP-A -p tcp -m tcp -j DNAT [unsupported revision]\nCOMMIT\n');
    expect(dump.skipped).toEqual([{ line: 3, reason: 'lossy-rule', excerpt: '-A KUBE-SEP-A -p tcp -m tcp -j DNAT [unsupported revision]' }]);
    expect(rulesOf(dump, 'KUBE-SEP-A')[0]?.lossy).toBe(true);
  });

  it('gives the same result for any chunking of the input (streaming)', () => {
    const text = fixture('save-with-counters.txt') + fixture('junk-between-rules.txt').replace('*nat', '*filter');
    const whole = parseDump(text);
    for (const size of [1, 7, 64, 4096]) {
      const parser = new DumpParser();
      for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size));
      expect(parser.end()).toEqual(whole);
    }
  });

  it('handles CRLF line endings and a last line without newline', () => {
    const dump = parseDump('*nat\r\n:KUBE-SVC-X - [0:0]\r\n[1:60] -A KUBE-SVC-X -j KUBE-SEP-A\r\nCOMMIT');
    expect(rulesOf(dump, 'KUBE-SVC-X')[0]?.counters).toEqual({ packets: 1, bytes: 60 });
    expect(dump.truncated).toBe(false);
    expect(dump.skipped).toEqual([]);
  });

  it('keeps only the chains keepChain selects, but still counts their lines', () => {
    const dump = parseDump(fixture('save-with-counters.txt'), { keepChain: (_t, c) => c.startsWith('KUBE-SVC-') });
    expect(rulesOf(dump, 'KUBE-SVC-X')).toHaveLength(3);
    expect(rulesOf(dump, 'KUBE-SEP-A')).toHaveLength(0);
    expect(dump.lineCount).toBe(23);
  });

  it('with dropDeclarations, leaves the dropped chains out of the dump; onRulesReplaced reports their declarations, -F and -X', () => {
    const text = [
      '*filter',
      ':KUBE-SEP-A - [0:0]',
      'COMMIT',
      '*nat',
      ':PREROUTING ACCEPT [3:180]',
      ':KUBE-SVC-X - [0:0]',
      ':KUBE-SEP-A - [0:0]',
      '-A KUBE-SVC-X -j KUBE-SEP-A',
      '-A KUBE-SEP-A -j DNAT --to-destination 10.0.0.1:80',
      '-N KUBE-SEP-A',
      // -P of a dropped chain declares nothing: in the dump it would be one declared empty at most.
      '-P KUBE-SEP-A ACCEPT',
      '-P KUBE-SEP-B ACCEPT',
      '-X KUBE-SEP-A',
      '-F KUBE-SEP-A',
      'COMMIT',
      '',
    ].join('\n');
    const keepChain = (table: string, chain: string) => table !== 'nat' || !chain.startsWith('KUBE-SEP-');
    /** `text` parsed with `options`, and each onRulesReplaced as `table chain line`. */
    const replacing = (options: DumpParserOptions): { dump: ParsedDump; replaced: string[] } => {
      const replaced: string[] = [];
      const parser = new DumpParser({ ...options, onRulesReplaced: (table, chain) => replaced.push(`${table} ${chain ?? '*'} ${parser.lines}`) });
      parser.push(text);
      return { dump: parser.end(), replaced };
    };
    for (const fastPath of [true, false]) {
      const { dump, replaced } = replacing({ fastPath, keepChain, dropDeclarations: true });
      // The dropped chain's declarations, -X and -F (the dump holds nothing of it to tell whether rules
      // came before); not its -P, nor the filter table's declaration of a chain of that name.
      expect(replaced).toEqual(['nat KUBE-SEP-A 7', 'nat KUBE-SEP-A 10', 'nat KUBE-SEP-A 13', 'nat KUBE-SEP-A 14']);
      // Declared into the dump instead (empty), the dropped chain is reported the same, once each time.
      expect(replacing({ fastPath, keepChain }).replaced).toEqual(replaced);
      expect([...(dump.tables.get('nat')?.chains.keys() ?? [])]).toEqual(['PREROUTING', 'KUBE-SVC-X']);
      expect(dump.tables.get('nat')?.chains.get('PREROUTING')?.policyCounters).toEqual({ packets: 3, bytes: 180 });
      expect(rulesOf(dump, 'KUBE-SVC-X').map((r) => r.target)).toEqual(['KUBE-SEP-A']);
      expect(dump.tables.get('filter')?.chains.has('KUBE-SEP-A')).toBe(true);
      expect(dump.skipped).toEqual([]);
      // Without it, keepChain drops rules only: the chains stay declared, empty.
      const kept = parseDump(text, { fastPath, keepChain });
      expect([...(kept.tables.get('nat')?.chains.keys() ?? [])]).toEqual(['PREROUTING', 'KUBE-SVC-X', 'KUBE-SEP-B']);
      expect(parseDump(text.replace('-X KUBE-SEP-A', ''), { fastPath, keepChain }).tables.get('nat')?.chains.get('KUBE-SEP-A')?.declaredAt).toBe(10);
    }
  });

  it('with droppedPrefix, counts the dropped chains declared before a nat block\'s first command, and reports the rest', () => {
    const text = [
      '*nat',
      ':KUBE-SEP-A - [0:0]',
      ':KUBE-SVC-X - [0:0]',
      ':KUBE-SEP-B - [0:0]',
      '-A KUBE-SEP-A -j DNAT --to-destination 10.0.0.1:80',
      ':KUBE-SEP-A - [0:0]',
      'COMMIT',
      ':KUBE-SEP-B - [0:0]',
      '*filter',
      ':KUBE-SEP-C - [0:0]',
      'COMMIT',
      ':KUBE-SEP-A - [0:0]',
      '*nat',
      ':KUBE-SEP-C - [0:0]',
      ':KUBE-SEP - [0:0]',
      '-F KUBE-SEP-C',
      ':KUBE-SEP-D - [0:0]',
      'COMMIT',
      '',
    ].join('\n');
    const keepChain = (table: string, chain: string) => table !== 'nat' || !chain.startsWith('KUBE-SEP-');
    const read = (fastPath: boolean) => {
      const events: string[] = [];
      const parser = new DumpParser({
        fastPath,
        keepChain,
        dropDeclarations: true,
        droppedPrefix: Buffer.from('KUBE-SEP-'),
        onDroppedDeclaration: (table) => events.push(`counted ${table} ${parser.lines}`),
        onRulesReplaced: (table, chain) => events.push(`replaced ${table} ${chain ?? '*'} ${parser.lines}`),
      });
      parser.push(text);
      return { dump: parser.end(), events };
    };
    const fast = read(true);
    // Counted: the first block's declarations before its first command, and the second nat block's
    // (the table listed again replaced every chain's rules first). Reported: a declaration after a
    // command, those after COMMIT without a header (into the nat table read so far, also after a
    // filter block without commands), the -F.
    expect(fast.events).toEqual([
      'counted nat 2',
      'counted nat 4',
      'replaced nat KUBE-SEP-A 6',
      'replaced nat KUBE-SEP-B 8',
      'replaced nat KUBE-SEP-A 12',
      'replaced nat * 13',
      'counted nat 14',
      'replaced nat KUBE-SEP-C 16',
      'replaced nat KUBE-SEP-D 17',
    ]);
    // The reference path reports every declaration: the counted ones replace nothing there either.
    const reference = read(false);
    expect(reference.events.filter((e) => !['replaced nat KUBE-SEP-A 2', 'replaced nat KUBE-SEP-B 4', 'replaced nat KUBE-SEP-C 14'].includes(e))).toEqual(fast.events.filter((e) => !e.startsWith('counted')));
    expect(reference.dump).toStrictEqual(fast.dump);
    // `:KUBE-SEP` is not a dropped chain (keepChain keeps it): declared into the dump either way.
    expect([...(fast.dump.tables.get('nat')?.chains.keys() ?? [])]).toEqual(['KUBE-SEP']);
    expect(fast.dump.skipped).toEqual([]);
  });

  it('with keepRule, leaves a rule out but keeps its chain; onRulesReplaced says when read rules stop counting', () => {
    const text = [
      '-A KUBE-SVC-X -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-X -j KUBE-SEP-A',
      '-A KUBE-SVC-Y -j KUBE-SEP-B',
      '-F KUBE-SVC-X',
      '-X KUBE-SVC-Y',
      '-X KUBE-SVC-UNKNOWN',
      '-N KUBE-SVC-X',
      '*nat',
      ':KUBE-SVC-Z - [0:0]',
      ':KUBE-SVC-Z - [0:0]',
      '-A KUBE-SVC-Z -j KUBE-SEP-C',
      ':KUBE-SVC-Z - [0:0]',
      'COMMIT',
      '*nat',
      'COMMIT',
      '',
    ].join('\n');
    for (const fastPath of [true, false]) {
      const seen: string[] = [];
      const replaced: string[] = [];
      const dump = parseDump(text, {
        fastPath,
        onRule: (_table, rule) => seen.push(rule.target ?? ''),
        keepRule: (_table, rule) => rule.target?.startsWith('KUBE-SEP-') !== true,
        onRulesReplaced: (table, chain) => replaced.push(`${table} ${chain ?? '*'}`),
      });
      expect(seen).toEqual(['KUBE-MARK-MASQ', 'KUBE-SEP-A', 'KUBE-SEP-B', 'KUBE-SEP-C']);
      // -F and -X of chains the dump holds (not of unknown ones), a declaration of a chain it holds, a
      // table listed again (the headerless lines were read as nat).
      expect(replaced).toEqual(['nat KUBE-SVC-X', 'nat KUBE-SVC-Y', 'nat KUBE-SVC-X', 'nat *', 'nat KUBE-SVC-Z', 'nat KUBE-SVC-Z', 'nat *']);
      // A declaration after left-out rules replaces rules, and says so, as after kept ones.
      expect(dump.warnings.filter((w) => w.includes('KUBE-SVC-Z declared again'))).toHaveLength(1);
    }
    const excerpt = parseDump('-A KUBE-SVC-Y -j KUBE-SEP-B\n', { keepRule: () => false });
    expect(excerpt.tables.get('nat')?.chains.get('KUBE-SVC-Y')).toMatchObject({ declaredAt: null, rules: [] });
  });

  it('gives every chain its own rules once it has one: declared empty, flushed, appended to (empty chains share one array)', () => {
    const text = [
      '*nat',
      ':KUBE-SEP-A - [0:0]',
      ':KUBE-SEP-B - [0:0]',
      ':KUBE-SEP-C - [0:0]',
      '-A KUBE-SEP-A -j DNAT --to-destination 10.0.0.1:80',
      '-A KUBE-SEP-C -j DNAT --to-destination 10.0.0.3:80',
      '-F KUBE-SEP-C',
      '-A KUBE-SEP-B -j DNAT --to-destination 10.0.0.2:80',
      '-F KUBE-SEP-B',
      '-A KUBE-SEP-B -j DNAT --to-destination 10.0.0.4:80',
      '-F KUBE-SEP-D',
      'COMMIT',
      '',
    ].join('\n');
    for (const fastPath of [true, false]) {
      const dump = parseDump(text, { fastPath });
      expect(dump.skipped).toEqual([]);
      expect(rulesOf(dump, 'KUBE-SEP-A').map((r) => r.dnatDestination)).toEqual(['10.0.0.1:80']);
      expect(rulesOf(dump, 'KUBE-SEP-B').map((r) => r.dnatDestination)).toEqual(['10.0.0.4:80']);
      expect(rulesOf(dump, 'KUBE-SEP-C')).toEqual([]);
      // Kept-nothing chains (a folded read's KUBE-SEP chains) read as empty, and stay apart.
      const folded = parseDump(text, { fastPath, keepChain: (_t, c) => c !== 'KUBE-SEP-A' });
      expect(rulesOf(folded, 'KUBE-SEP-A')).toEqual([]);
      expect(rulesOf(folded, 'KUBE-SEP-B').map((r) => r.dnatDestination)).toEqual(['10.0.0.4:80']);
      expect(rulesOf(folded, 'KUBE-SEP-C')).toEqual([]);
    }
  });

  it('skips a line longer than MAX_LINE_BYTES as it streams, then reads on', () => {
    const parser = new DumpParser();
    const junk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 40; i++) parser.push(junk); // 2.5 MiB without a newline
    parser.push('\n*nat\n:KUBE-SVC-X - [0:0]\n[1:60] -A KUBE-SVC-X -j KUBE-SEP-A\nCOMMIT\n');
    const dump = parser.end();
    expect(dump.skipped).toEqual([{ line: 1, reason: 'not-iptables', excerpt: 'x'.repeat(120) }]);
    expect(rulesOf(dump, 'KUBE-SVC-X').map((r) => r.line)).toEqual([4]);
    expect(dump.lineCount).toBe(5);
  });

  it('bounds the listed skipped lines on garbage input', () => {
    const dump = parseDump('garbage\n'.repeat(20_000));
    expect(dump.skipped).toHaveLength(10_000);
    expect(dump.warnings.join('\n')).toMatch(/20000 lines skipped/);
  });
});
