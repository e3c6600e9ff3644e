// Folding while parsing (KUBE-SEP chains and the ladder chains' jumps to them, chain-folding.ts) must
// give exactly the model of the plain path (buildServiceModel(parseDump(text))), on every fixture and
// real dump, and on restore-style inputs that declare, flush or delete ladder or KUBE-SEP chains after
// their rules or list the table again.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DumpParser, parseDump } from '../../src/iptables/parse-dump.js';
import type { IpFamily, ParsedDump } from '../../src/iptables/types.js';
import { buildServiceModel } from '../../src/model/build-service-model.js';
import { createChainFolding } from '../../src/model/chain-folding.js';
import { isLadderChain } from '../../src/model/ladder-chain-collector.js';
import { DROPPED_COMMENT } from '../../src/model/ladder-chain.js';
import type { ServiceModel } from '../../src/model/types.js';
import { DUMP_FILES } from '../support/dump-files.js';
import { ENTRY, HEAD, JUMPS, RESTORE_STYLE_CASES, SEP_DECLARED_AGAIN, sep } from '../support/restore-style-cases.js';

function plainModel(text: string, family: IpFamily = 'ipv4'): ServiceModel {
  return buildServiceModel(parseDump(text), family);
}

/**
 * `text` through a folding DumpParser, in `chunkSize`-byte pieces (0: at once). With `releaseFolds`,
 * the build frees the folds as it goes, and they must be empty after it.
 */
function foldedRead(text: string, family: IpFamily, chunkSize: number, fastPath: boolean, releaseFolds = false): { model: ServiceModel; dump: ParsedDump } {
  const folding = createChainFolding();
  const parser = new DumpParser({ ...folding.parserOptions, fastPath });
  const bytes = Buffer.from(text, 'utf8');
  if (chunkSize <= 0) parser.push(bytes);
  else for (let i = 0; i < bytes.length; i += chunkSize) parser.push(bytes.subarray(i, i + chunkSize));
  const dump = parser.end();
  const folded = folding.finish();
  const model = buildServiceModel(dump, family, { ...folded, releaseFolds });
  if (releaseFolds) {
    expect(folded.ladderChains.size).toBe(0);
    expect(folded.endpointChains.size).toBe(0);
  }
  return { model, dump };
}

/** Rules the folded dump still holds that jump from a ladder chain to a KUBE-SEP chain (none expected). */
function keptSepJumps(dump: ParsedDump): number {
  let kept = 0;
  for (const [name, chain] of dump.tables.get('nat')?.chains ?? []) {
    if (!isLadderChain(name)) continue;
    for (const rule of chain.rules) if (rule.target?.startsWith('KUBE-SEP-') === true) kept++;
  }
  return kept;
}

describe('folding while parsing gives the plain model', () => {
  it('finds the fixtures', () => {
    expect(DUMP_FILES.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of DUMP_FILES) {
    it(file.split('/').slice(-2).join('/'), () => {
      const text = readFileSync(file, 'utf8');
      for (const family of ['ipv4', 'ipv6'] as const) {
        const plain = plainModel(text, family);
        const whole = foldedRead(text, family, 0, true);
        expect(whole.model).toStrictEqual(plain);
        expect(keptSepJumps(whole.dump)).toBe(0);
        expect(foldedRead(text, family, 7, false).model).toStrictEqual(plain);
        expect(foldedRead(text, family, 0, true, true).model).toStrictEqual(plain);
      }
    });
  }
});

describe('folding ladder chains: restore-style and odd inputs', () => {
  const cases = RESTORE_STYLE_CASES;

  for (const [name, text] of Object.entries(cases)) {
    it(name, () => {
      let plain = plainModel(text);
      expect(plain.ladders.length).toBeGreaterThan(0);
      const sepDeclaredAgain = plain.warnings.filter((w) => SEP_DECLARED_AGAIN.test(w));
      expect(sepDeclaredAgain.length > 0).toBe(name.startsWith('SEP chain declared again'));
      plain = { ...plain, warnings: plain.warnings.filter((w) => !SEP_DECLARED_AGAIN.test(w)) };
      for (const [chunkSize, fastPath, releaseFolds] of [
        [0, true, false],
        [5, false, false],
        [0, true, true],
      ] as const) {
        const { model, dump } = foldedRead(text, 'ipv4', chunkSize, fastPath, releaseFolds);
        expect(model).toStrictEqual(plain);
        expect(keptSepJumps(dump)).toBe(0);
      }
    });
  }

  it('the cases read as a rewrite would: the rules before a declaration, flush, deletion or second table block do not count', () => {
    const endpoints = (name: string) => plainModel(cases[name] as string).ladders.find((l) => l.chain === 'KUBE-SVC-AAAAAAAAAAAAAAAA')?.endpoints.map((e) => e.endpoint);
    for (const name of [
      'ladder chain declared again after its rules',
      'ladder chain flushed after its rules',
      'ladder chain deleted, then its rules again',
      'the nat table listed twice',
      'SEP chain declared again after its rules',
      'SEP chain flushed after its rules',
      'SEP chain deleted after its rules',
      'SEP rules, then a nat block that does not declare the chain',
    ]) {
      expect(endpoints(name), name).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    }
    // The parser's warning for a chain declared again is given although the folded dump held none of its jumps.
    const warned = (name: string) => foldedRead(cases[name] as string, 'ipv4', 0, true).model.warnings.filter((w) => w.includes('KUBE-SVC-AAAAAAAAAAAAAAAA declared again'));
    expect(warned('ladder chain declared again after its rules')).toHaveLength(1);
    expect(warned('iptables-save layout')).toHaveLength(0);
  });

  it('the build keeps only the ladder comments it reads (the first naming one, and those of endpoints without a DNAT target), and marks the others dropped', () => {
    const comments = (text: string) => {
      const folding = createChainFolding();
      const dump = parseDump(text, folding.parserOptions);
      const folded = folding.finish();
      const read = folded.ladderChains.get('KUBE-SVC-AAAAAAAAAAAAAAAA');
      expect(read?.rules.every((r) => r.comment !== null)).toBe(true);
      const model = buildServiceModel(dump, 'ipv4', folded);
      // A second build from the same folds reads the comments left: the same model.
      expect(buildServiceModel(dump, 'ipv4', folded)).toStrictEqual(model);
      expect(model).toStrictEqual(plainModel(text));
      return read?.rules.map((r) => r.comment);
    };
    expect(comments(cases['iptables-save layout'] as string)).toEqual(['ns/svc:http -> 10.0.0.1:8080', DROPPED_COMMENT]);
    // KUBE-SEP-TWO has no rules here: its endpoint can only come from the comment.
    expect(comments(`${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.1')}COMMIT\n`)).toEqual(['ns/svc:http -> 10.0.0.1:8080', 'ns/svc:http -> 10.0.0.2:8080']);
    expect(plainModel(cases['ladder comments the only names'] as string).ladders[0]?.name).toMatchObject({ namespace: 'ns', service: 'svc', port: 'http' });
  });

  it('the folded dump keeps the ladder chains, and of their rules only jumps to service chains; the folding is ready for the next dump', () => {
    const xlb = cases['a local-policy chain without endpoints, and a pre-1.24 KUBE-XLB jumping to KUBE-SVC'] as string;
    const xlbDump = parseDump(xlb, createChainFolding().parserOptions);
    const kept = (dump: ParsedDump, chain: string) => dump.tables.get('nat')?.chains.get(chain)?.rules.map((r) => r.target);
    expect(kept(xlbDump, 'KUBE-XLB-AAAAAAAAAAAAAAAA')).toEqual(['KUBE-SVC-AAAAAAAAAAAAAAAA']);
    expect(kept(xlbDump, 'KUBE-SVL-AAAAAAAAAAAAAAAA')).toEqual([]);
    const text = cases['iptables-save layout'] as string;
    const folding = createChainFolding();
    for (let i = 0; i < 2; i++) {
      const dump = parseDump(text, folding.parserOptions);
      // The masquerade rule is folded (the ladder's cluster IP and port), not kept.
      expect(kept(dump, 'KUBE-SVC-AAAAAAAAAAAAAAAA')).toEqual([]);
      const folded = folding.finish();
      expect(folded.ladderChains.get('KUBE-SVC-AAAAAAAAAAAAAAAA')?.rules.map((r) => r.chain)).toEqual(['KUBE-SEP-ONE', 'KUBE-SEP-TWO']);
      expect(buildServiceModel(dump, 'ipv4', folded)).toStrictEqual(plainModel(text));
    }
  });
});
