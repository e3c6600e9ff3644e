// The parser's byte-level fast path must read every input exactly as the reference path (tokenize + parseRule).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDump } from '../../src/iptables/parse-dump.js';
import type { ParsedDump } from '../../src/iptables/types.js';
import { generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import { REAL_DUMPS_DIR } from '../support/real-dumps-dir.js';

/** Plain data: Maps become entries, so toEqual compares every table, chain and rule field. */
function plain(dump: ParsedDump): unknown {
  return {
    ...dump,
    tables: [...dump.tables].map(([name, table]) => [name, [...table.chains].map(([chainName, chain]) => [chainName, chain])]),
  };
}

function expectSameReading(text: string | Uint8Array): void {
  const fast = parseDump(text);
  const reference = parseDump(text, { fastPath: false });
  expect(plain(fast)).toEqual(plain(reference));
}

const FIXTURE_DIRS = ['../fixtures/iptables', '../fixtures/model', '../fixtures/cli'].map((d) => fileURLToPath(new URL(d, import.meta.url)));
const REAL_DUMPS = REAL_DUMPS_DIR;

describe('DumpParser fast path', () => {
  // A missing directory throws (readdirSync): the fast path must not pass on fewer inputs than it claims.
  const files = [...FIXTURE_DIRS, REAL_DUMPS]
    .flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.txt')).map((f) => join(dir, f)));

  it.each(files)('reads %s like the reference path', (file) => {
    expectSameReading(readFileSync(file));
  });

  it('reads a generated ruleset (with and without comments) like the reference path', () => {
    expectSameReading(generateBulkRuleset({ services: 60, endpointsPerService: 4, nodePortEvery: 3, seed: 7 }));
    expectSameReading(generateBulkRuleset({ services: 30, endpointsPerService: 2, comments: false, seed: 3 }));
  });

  it.each([
    ['quotes joined to a word', '-A KUBE-SVC-X -m comment --comment x"y z" -j KUBE-SEP-A'],
    ['escaped quotes', '-A KUBE-SVC-X -m comment --comment "a \\"b\\" c" -j KUBE-SEP-A'],
    ['an unbalanced quote', '-A KUBE-SVC-X -m comment --comment "abc -j KUBE-SEP-A'],
    ['non-ASCII comment', '-A KUBE-SVC-X -m comment --comment "ns/caf\u00e9:http" -j KUBE-SEP-A'],
    ['pre-1.4.3 negation', '-A KUBE-SVC-X -s ! 10.0.0.0/8 -d 10.96.0.1/32 -j KUBE-MARK-MASQ'],
    ['a missing value', '-A KUBE-SVC-X -p'],
    ['inline counters', '-A KUBE-SVC-X -c 12 720 -j KUBE-SEP-A'],
    ['bad inline counters', '-A KUBE-SVC-X -c 12 x -j KUBE-SEP-A'],
    ['a stray word', '-A KUBE-SVC-X oops -j KUBE-SEP-A'],
    ['lossy DNAT', '-A KUBE-SEP-A -p tcp -m tcp -j DNAT [unsupported revision]'],
    ['a garbled DNAT address', '-A KUBE-SEP-A -p tcp -j DNAT --to-destination 10.0.0.1'],
    ['an IPv6 DNAT address', '-A KUBE-SEP-A -p tcp -j DNAT --to-destination [fd00::1]:80'],
    ['affinity', '-A KUBE-SVC-X -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-A --mask 255.255.255.255 --rsource -j KUBE-SEP-A'],
    ['negated dport', '-A KUBE-SVC-X -p TCP -m tcp ! --dport 80 -j RETURN'],
    ['unknown flags with negative numbers', '-A X -m foo --bar -1 -2 --baz -j ACCEPT'],
    ['a 20-digit counter', '[12345678901234567890:99999999999999999999] -A X -j ACCEPT'],
    ['a chain name starting with a dash', '-A -X -j ACCEPT'],
    ['two comments', '-A X -m comment --comment a -m comment --comment "b c" -j ACCEPT'],
    ['a bad probability', '-A X -m statistic --mode random --probability 2 -j ACCEPT'],
    ['an empty quoted token', '-A X -m comment --comment "" -j ACCEPT'],
    ['a comment longer than a cache slot', `-A X -m comment --comment "${'ns/'.padEnd(90, 'x')}" -j ACCEPT`],
    ...[
      '[fd00::1]:80', '[]:80', '[fd00::1]:', '[fd00::1]80', '[a]:123456789012345678901', '10.0.0.1:', ':80', '10.0.0.1:8o',
      '1.2.3.4567:80', '1.2.3:80', '1.2.3.4.5:80', '1..2.3:80', '.1.2.3:80', '1.2.3.:80', '01.2.3.4:080', 'a.b.c.d:80',
      '10.0.0.1:80:90', '10.0.0.1:12345678901234567890', '10.0.0.1:123456789012345678901',
    ].map((d): [string, string] => [`DNAT to ${d}`, `-A KUBE-SEP-A -p tcp -j DNAT --to-destination ${d}`]),
  ])('reads %s like the reference path', (_name, line) => {
    expectSameReading(`*nat\n:X - [0:0]\n:KUBE-SVC-X - [0:0]\n:KUBE-SEP-A - [0:0]\n${line}\n[3:180] ${line}\nCOMMIT\n`);
    expectSameReading(`${line}\n`);
  });

  it('shares nothing wrong between tables and blocks (chain names, cached values)', () => {
    const block = (table: string, ip: string) =>
      `*${table}\n:X - [0:0]\n:KUBE-SVC-X - [0:0]\n-A X -d ${ip}/32 -m comment --comment "c ${table}" -j KUBE-SVC-X\n-A KUBE-SVC-X -j X\nCOMMIT\n`;
    expectSameReading(`${block('filter', '10.0.0.1')}${block('nat', '10.0.0.2')}${block('nat', '10.0.0.3')}${block('filter', '10.0.0.1')}`);
    // Rules after COMMIT go to the implicit nat table, whichever table came last.
    expectSameReading(`${block('filter', '10.0.0.1')}-A X -j ACCEPT\n-A KUBE-SVC-X -j X\n`);
    expectSameReading(`${block('nat', '10.0.0.1')}-X X\n-A X -j ACCEPT\n:X - [0:0]\n-A X -j RETURN\n-F X\n-A X -j DROP\n`);
  });

  it('tells apart names and values with the same hash', () => {
    // Same length and the same 32-bit FNV-1a hash: the fast path's tables must compare the bytes.
    const [a, b] = ['KUBE-SEP-11L5Y9', 'KUBE-SEP-11PJC0'];
    const text = `*nat\n:${a} - [0:0]\n:${b} - [0:0]\n-A ${a} -m comment --comment "${b}" -j ${b}\n-A ${b} -m comment --comment "${a}" -j ${a}\n-A X -d ${a} -j ${b}\n-A X -d ${b} -j ${a}\nCOMMIT\n`;
    expectSameReading(text);
    const chain = parseDump(text).tables.get('nat')?.chains.get(a);
    expect(chain?.rules.map((r) => [r.chain, r.comment, r.target])).toEqual([[a, b, b]]);
  });

  it('reads many distinct chain names and values (tables grow, caches evict) like the reference path', () => {
    const lines = ['*nat'];
    for (let i = 0; i < 2000; i++) lines.push(`:KUBE-SEP-${i.toString(36).toUpperCase().padStart(16, 'Q')} - [0:0]`);
    for (let i = 0; i < 2000; i++) {
      const chain = `KUBE-SEP-${i.toString(36).toUpperCase().padStart(16, 'Q')}`;
      lines.push(`[${i}:${i * 60}] -A ${chain} -s 10.${i >> 8}.${i & 255}.1/32 -m comment --comment "ns-${i % 97}/svc:p${i % 13}" -j KUBE-MARK-MASQ`);
      lines.push(`-A ${chain} -p tcp -m comment --comment "ns-${i % 97}/svc:p${i % 13}" -m tcp -j DNAT --to-destination 10.${i >> 8}.${i & 255}.1:${i}`);
      lines.push(`-A KUBE-SVC-X -m statistic --mode random --probability 0.${i} -j ${chain}`);
    }
    lines.push('COMMIT', '');
    expectSameReading(lines.join('\n'));
  });

  it.each([
    [':PREROUTING ACCEPT [1:60]'],
    [':X - [0:0]'],
    [':X\t-  [5:300]'],
    [':X'],
    [': X - [0:0]'],
    [':X - [a:0]'],
    [':X - [0:0] extra words'],
    [':X\u000b- [0:0]'],
  ])('reads chain header %j like the reference path', (header) => {
    expectSameReading(`*nat\n${header}\n-A X -j ACCEPT\nCOMMIT\n`);
  });
});

describe('DumpParser onRule', () => {
  it('sees every rule, also those keepChain drops, in input order', () => {
    const text = generateBulkRuleset({ services: 5, endpointsPerService: 2, seed: 2 });
    const seen: string[] = [];
    const dump = parseDump(text, { keepChain: (_t, chain) => !chain.startsWith('KUBE-SEP-'), onRule: (table, rule) => seen.push(`${table} ${rule.chain} ${rule.line}`) });
    const all = parseDump(text);
    const expected = [...all.tables.get('nat')?.chains.values() ?? []].flatMap((c) => c.rules).sort((a, b) => a.line - b.line).map((r) => `nat ${r.chain} ${r.line}`);
    expect(seen).toEqual(expected);
    expect([...dump.tables.get('nat')?.chains.values() ?? []].filter((c) => c.name.startsWith('KUBE-SEP-')).every((c) => c.rules.length === 0)).toBe(true);
  });
});
