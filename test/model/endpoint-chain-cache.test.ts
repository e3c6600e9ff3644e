// A parse with the last parse's KUBE-SEP cache (endpoint-chain-cache.ts) skips the KUBE-SEP chains it
// knows byte for byte, and must give exactly the model of a parse without it: on every fixture and real
// dump, after the rules changes kube-proxy makes, and on restore-style inputs where a skipped chain is
// declared again, flushed, deleted or continued later.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDump } from '../../src/iptables/parse-dump.js';
import { replaceOneEndpoint } from '../../src/bench/replace-endpoint.js';
import { generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import { createChainFolding } from '../../src/model/chain-folding.js';
import { cachedRead, chainRuns, plainModel } from '../support/cached-read.js';
import { DUMP_FILES } from '../support/dump-files.js';
import { ENTRY, HEAD, JUMPS, RESTORE_STYLE_CASES, sep } from '../support/restore-style-cases.js';

/** Runs of the chains this file's cache answers for: the most a parse can skip. */
const sepRuns = (text: string): number => chainRuns(text, /KUBE-SEP-\S+/);

describe('a parse with the last parse’s KUBE-SEP cache gives the plain model', () => {
  for (const file of DUMP_FILES) {
    it(file.split('/').slice(-2).join('/'), () => {
      const text = readFileSync(file, 'utf8');
      for (const family of ['ipv4', 'ipv6'] as const) {
        const plain = plainModel(text, family);
        const first = cachedRead(text, undefined, family);
        expect(first.model).toStrictEqual(plain);
        expect(first.folded.reusedEndpointChains).toBe(0);
        // The same output again (as after a miss that changed something elsewhere), whole and in 7-byte pieces.
        const again = cachedRead(text, first.folded.caches, family);
        expect(again.model).toStrictEqual(plain);
        const pieces = cachedRead(text, first.folded.caches, family, 7);
        expect(pieces.model).toStrictEqual(plain);
        expect(pieces.folded.reusedEndpointChains).toBe(again.folded.reusedEndpointChains);
        // The KUBE-SEP chains are skipped, save those with a line the parser skips or warns about.
        if (parseDump(text).skipped.length === 0) expect(again.folded.reusedEndpointChains).toBe(sepRuns(text));
        else expect(again.folded.reusedEndpointChains).toBeLessThanOrEqual(sepRuns(text));
        // A cache made by a parse that used one answers as well.
        expect(cachedRead(text, again.folded.caches, family).folded.reusedEndpointChains).toBe(again.folded.reusedEndpointChains);
      }
    });
  }

  it('skips every KUBE-SEP chain of a generated output, and the dump’s findings are the same', () => {
    const text = generateBulkRuleset({ services: 40, endpointsPerService: 3, seed: 7 });
    const first = cachedRead(text, undefined);
    const again = cachedRead(text, first.folded.caches);
    expect(again.folded.reusedEndpointChains).toBe(120);
    expect(again.folded.caches.endpoints.size).toBe(120);
    expect(again.model).toStrictEqual(plainModel(text));
  });
});

describe('after a rules change', () => {
  const base = generateBulkRuleset({ services: 30, endpointsPerService: 4, seed: 3 });
  const baseCache = cachedRead(base, undefined).folded.caches;

  it('one endpoint replaced (a new KUBE-SEP chain, the ladder rewritten): the other chains come from the cache', () => {
    const changed = replaceOneEndpoint(base);
    const read = cachedRead(changed.text, baseCache);
    expect(read.model).toStrictEqual(plainModel(changed.text));
    expect(read.folded.reusedEndpointChains).toBe(119);
    const endpoint = read.model.ladders.flatMap((l) => l.endpoints).find((e) => e.chain === changed.to);
    expect(endpoint?.endpoint).toMatch(/:8081$/);
  });

  it('a KUBE-SEP chain whose rules changed under the same name is parsed, not answered from the cache', () => {
    const first = /-A (KUBE-SEP-[A-Z2-7]{16}) -p tcp .*--to-destination (\S+):8080/.exec(base);
    expect(first).not.toBeNull();
    const [line, chain, ip] = first as unknown as [string, string, string];
    const text = base.replace(line, line.replace(`${ip}:8080`, `${ip}:9090`));
    const read = cachedRead(text, baseCache);
    expect(read.model).toStrictEqual(plainModel(text));
    expect(read.model.ladders.flatMap((l) => l.endpoints).find((e) => e.chain === chain)?.endpoint).toBe(`${ip}:9090`);
    expect(read.folded.reusedEndpointChains).toBe(119);
  });

  it('services removed and added', () => {
    const fewer = generateBulkRuleset({ services: 20, endpointsPerService: 4, seed: 3 });
    const more = generateBulkRuleset({ services: 45, endpointsPerService: 4, seed: 3 });
    // The same seed: the first services are the base's.
    for (const [text, reused] of [
      [fewer, 80],
      [more, 120],
    ] as const) {
      const read = cachedRead(text, baseCache);
      expect(read.model).toStrictEqual(plainModel(text));
      expect(read.folded.reusedEndpointChains).toBe(reused);
    }
  });

  it('comments dropped (kube-proxy above 1,000 endpoints): every KUBE-SEP chain differs, and each is parsed', () => {
    const text = generateBulkRuleset({ services: 30, endpointsPerService: 4, seed: 3, comments: false });
    const read = cachedRead(text, baseCache);
    expect(read.model).toStrictEqual(plainModel(text));
    expect(read.folded.reusedEndpointChains).toBe(0);
  });
});

describe('restore-style and odd inputs, with a cache that knows their KUBE-SEP chains', () => {
  const layout = RESTORE_STYLE_CASES['iptables-save layout'] as string;
  // Knows KUBE-SEP-ONE, -TWO and -OLD as the layout writes them.
  const cache = cachedRead(layout, undefined).folded.caches;
  // Knows KUBE-SEP-ONE as 10.0.0.7, the rules the cases replace (declared again, flushed, deleted).
  const oldCache = cachedRead(`${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.7')}${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`, undefined).folded.caches;
  const lossy = `-A KUBE-SEP-ONE -p tcp -m comment --comment "ns/svc:http" -m tcp -j DNAT [unsupported revision]\n`;
  const cases: Record<string, string> = {
    ...RESTORE_STYLE_CASES,
    'SEP chain in two runs, the second after another chain': `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.1')}${sep('KUBE-SEP-TWO', '10.0.0.2')}${sep('KUBE-SEP-ONE', '10.0.0.9')}COMMIT\n`,
    'SEP chain whose run the cache knows, repeated': `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.1')}${sep('KUBE-SEP-TWO', '10.0.0.2')}${sep('KUBE-SEP-ONE', '10.0.0.1')}COMMIT\n`,
    'SEP chain parsed, then a run of it the cache knows': `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.1').split('\n')[0]}\n${sep('KUBE-SEP-TWO', '10.0.0.2')}${sep('KUBE-SEP-ONE', '10.0.0.1')}COMMIT\n`,
    'SEP chain followed by one whose name begins with its name': `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.1')}${sep('KUBE-SEP-ONEX', '10.0.0.5')}${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
    'SEP chain whose only rules are a lossy DNAT': `${HEAD}${ENTRY}${JUMPS}${lossy}${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
    'SEP rule written --append first, then a run the cache knows': `${HEAD}${ENTRY}${JUMPS}--append KUBE-SEP-ONE -p tcp -m tcp -j DNAT --to-destination 10.0.0.5:8080\n${sep('KUBE-SEP-TWO', '10.0.0.2')}${sep('KUBE-SEP-ONE', '10.0.0.1')}COMMIT\n`,
    'SEP rule with a malformed counter': `${HEAD}${ENTRY}${JUMPS}[1:x] ${sep('KUBE-SEP-ONE', '10.0.0.1')}${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
    'counters on every line': `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.1')}${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`.replace(/^-A /gm, '[12:720] -A '),
    // 21 digits: the parser's counters take at most 20, so the line is skipped as malformed, in a run the cache knows.
    'a SEP rule whose counter is too long': `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.1')}${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`
      .replace(/^-A /gm, '[12:720] -A ')
      .replace('[12:720] -A KUBE-SEP-ONE -p tcp', '[123456789012345678901:720] -A KUBE-SEP-ONE -p tcp'),
  };
  for (const [name, text] of Object.entries(cases)) {
    it(name, () => {
      const plain = plainModel(text);
      for (const known of [cache, oldCache]) {
        for (const chunkSize of [0, 5]) expect(cachedRead(text, known, 'ipv4', chunkSize).model, `${chunkSize}`).toStrictEqual(plain);
      }
    });
  }

  it('the cases skip what they should', () => {
    const reused = (name: string) => cachedRead(cases[name] as string, cache).folded.reusedEndpointChains;
    expect(reused('iptables-save layout')).toBe(3);
    // The second run of KUBE-SEP-ONE resumes from the cached info: its first DNAT target counts.
    expect(plainModel(cases['SEP chain in two runs, the second after another chain'] as string).ladders[0]?.endpoints.map((e) => e.endpoint)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    expect(reused('SEP chain in two runs, the second after another chain')).toBe(2);
    // A chain's run after one of its runs in this dump (skipped or parsed) is parsed, also when the cache knows it.
    expect(reused('SEP chain whose run the cache knows, repeated')).toBe(2);
    expect(reused('SEP chain parsed, then a run of it the cache knows')).toBe(1);
    // KUBE-SEP-ONEX's lines do not continue KUBE-SEP-ONE's run: that run is the one the cache knows.
    expect(reused('SEP chain followed by one whose name begins with its name')).toBe(2);
    // A KUBE-SEP rule outside a run: nothing after it is skipped.
    expect(reused('SEP rule written --append first, then a run the cache knows')).toBe(0);
    expect(reused('counters on every line')).toBe(2);
    // The rules that stop counting were answered from the cache: the chain then reads as one without rules.
    for (const name of ['SEP chain declared again after its rules', 'SEP chain flushed after its rules', 'SEP chain deleted after its rules']) {
      const read = cachedRead(cases[name] as string, oldCache);
      expect(read.folded.reusedEndpointChains, name).toBe(2);
      expect(read.model.ladders[0]?.endpoints.map((e) => e.endpoint)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    }
  });

  it('a chain in two runs is recorded from its first run only (the fold after the second holds both)', () => {
    const twoRuns = cachedRead(cases['SEP chain in two runs, the second after another chain'] as string, undefined).folded.caches;
    const secondAlone = `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.9')}${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`;
    const read = cachedRead(secondAlone, twoRuns);
    expect(read.model).toStrictEqual(plainModel(secondAlone));
    expect(read.model.ladders[0]?.endpoints[0]?.endpoint).toBe('10.0.0.9:8080');
    expect(read.folded.reusedEndpointChains).toBe(1);
  });

  it('counters of skipped lines still make a dump with counters', () => {
    const text = `${HEAD}${sep('KUBE-SEP-ONE', '10.0.0.1')}COMMIT\n`.replace(/^-A /gm, '[3:180] -A ');
    const folding = createChainFolding(cache);
    const dump = parseDump(text, folding.parserOptions);
    expect(folding.finish().reusedEndpointChains).toBe(1);
    expect(dump.hasCounters).toBe(true);
  });
});
