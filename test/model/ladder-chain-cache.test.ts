// A parse with the last parse's ladder cache (ladder-chain-cache.ts) resumes the ladder chains
// (KUBE-SVC/SVL/XLB) it knows byte for byte from templates, with this output's lines and counters, and
// must give exactly the model of a parse without it: on every fixture and real dump (counters added),
// after the rules changes kube-proxy makes, with counters and lines moved, with session affinity, and
// on restore-style inputs. Where a template cannot be exact, the chain is parsed or the build stops.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDump } from '../../src/iptables/parse-dump.js';
import { replaceOneEndpoint } from '../../src/bench/replace-endpoint.js';
import { generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import { buildServiceModel } from '../../src/model/build-service-model.js';
import { createChainFolding } from '../../src/model/chain-folding.js';
import { cachedRead, chainRuns, plainModel } from '../support/cached-read.js';
import { DUMP_FILES } from '../support/dump-files.js';
import { ENTRY, HEAD, JUMPS, MASQ, RESTORE_STYLE_CASES, SEPS, sep } from '../support/restore-style-cases.js';

/** Every `-A` line given a `[packets:bytes]` prefix that differs per line and per `salt`. */
function counted(text: string, salt = 0): string {
  let n = 0;
  return text.replace(/^(?:\[\d+:\d+\] )?-A /gm, () => {
    n++;
    const packets = (n * 7919 + salt * 104729) % 100003;
    return `[${packets}:${packets * 60}] -A `;
  });
}

/** Runs of the chains this file's cache answers for: the most a parse can skip. */
const ladderRuns = (text: string): number => chainRuns(text, /KUBE-(?:SVC|SVL|XLB)-\S+/);

describe('a parse with the last parse’s ladder cache gives the plain model', () => {
  for (const file of DUMP_FILES) {
    it(file.split('/').slice(-2).join('/'), () => {
      const original = readFileSync(file, 'utf8');
      const text = counted(original);
      // Other counters and every line one further down: a template takes both from the new output.
      const recounted = `# a comment line\n${counted(original, 1)}`;
      for (const family of ['ipv4', 'ipv6'] as const) {
        const first = cachedRead(text, undefined, family);
        expect(first.model).toStrictEqual(plainModel(text, family));
        expect(first.folded.reusedLadderChains).toBe(0);
        for (const chunkSize of [0, 7]) {
          const again = cachedRead(recounted, first.folded.caches, family, chunkSize);
          expect(again.model, `${chunkSize}`).toStrictEqual(plainModel(recounted, family));
          expect(again.folded.reusedLadderChains).toBeLessThanOrEqual(ladderRuns(text));
        }
        // A cache made by a parse that resumed chains answers as well.
        const again = cachedRead(recounted, first.folded.caches, family);
        const third = cachedRead(text, again.folded.caches, family);
        expect(third.model).toStrictEqual(plainModel(text, family));
        expect(third.folded.reusedLadderChains).toBe(again.folded.reusedLadderChains);
      }
    });
  }

  it('resumes the chains a template reproduces, and parses the others', () => {
    const resumed = (name: string) => {
      const text = counted(readFileSync(DUMP_FILES.find((f) => f.endsWith(name)) as string, 'utf8'));
      return cachedRead(text, cachedRead(text, undefined).folded.caches).folded.reusedLadderChains;
    };
    expect(resumed('model/current-layout-overall.txt')).toBe(5);
    expect(resumed('model/unnamed-port-affinity-etp-local.txt')).toBe(2);
    expect(resumed('model/session-affinity-counters.txt')).toBe(1);
    expect(resumed('real-dumps/01-k8s-1.6era-jijisa-bind-affinity-externalip.txt')).toBe(3);
    expect(resumed('real-dumps/02-k8s-1.23-kind-ericpuwang.txt')).toBe(6);
    // The KUBE-XLB chain's jump to KUBE-SVC stays in the dump, which a resumed run would not give it.
    expect(resumed('model/pre-1.24-xlb.txt')).toBe(1);
    // `iptables -S -v` style: each rule's `-c` counters win over the prefix, which a template reads.
    expect(resumed('real-dumps/09-robric-k3s-2024-etp-local-iptables-S-v-counters.txt')).toBe(0);
  });

  it('resumes every ladder chain of a generated output, with this output’s counters', () => {
    const text = generateBulkRuleset({ services: 40, endpointsPerService: 3, seed: 7 });
    const first = cachedRead(text, undefined);
    const other = generateBulkRuleset({ services: 40, endpointsPerService: 3, seed: 8 });
    // Same rules, other counters (the seed draws the counters only).
    expect(other.replace(/\[\d+:\d+\]/g, '')).toBe(text.replace(/\[\d+:\d+\]/g, ''));
    const again = cachedRead(other, first.folded.caches);
    expect(again.folded.reusedLadderChains).toBe(ladderRuns(text));
    expect(again.folded.reusedLadderChains).toBeGreaterThanOrEqual(40);
    expect(again.model).toStrictEqual(plainModel(other));
    expect(again.model.ladders.map((l) => l.connections)).not.toEqual(first.model.ladders.map((l) => l.connections));
  });

  it('with session affinity: the affinity rules’ lines and counters come from the new output', () => {
    const withAffinity = (seed: number) =>
      generateBulkRuleset({ services: 30, endpointsPerService: 4, seed }).replace(
        /^(\[\d+:\d+\] -A (KUBE-SVC-\w+) )(-m comment --comment "[^"]+" )?-m statistic --mode random --probability [\d.]+ -j (KUBE-SEP-\w+)$/gm,
        (line: string, prefix: string, _chain: string, comment: string | undefined, sepChain: string) =>
          `${prefix}${comment ?? ''}-m recent --name ${sepChain} --mask 255.255.255.255 --rsource --rcheck --seconds 10800 --reap -j ${sepChain}\n${line}`,
      );
    const first = cachedRead(withAffinity(1), undefined);
    const text = withAffinity(2);
    const again = cachedRead(text, first.folded.caches);
    expect(again.folded.reusedLadderChains).toBe(ladderRuns(text));
    const plain = plainModel(text);
    expect(plain.ladders.some((l) => l.sessionAffinity !== null && l.endpoints.some((e) => (e.affinityConnections ?? 0) > 0))).toBe(true);
    expect(again.model).toStrictEqual(plain);
  });
});

describe('after a rules change', () => {
  const base = generateBulkRuleset({ services: 30, endpointsPerService: 4, seed: 3 });
  const baseCaches = cachedRead(base, undefined).folded.caches;

  it('one endpoint replaced: the rewritten ladder is parsed, the others resumed', () => {
    const changed = replaceOneEndpoint(base);
    const read = cachedRead(changed.text, baseCaches);
    expect(read.model).toStrictEqual(plainModel(changed.text));
    expect(read.folded.reusedLadderChains).toBe(ladderRuns(base) - 1);
    // The next parse resumes the rewritten ladder too: this build recorded it.
    const next = cachedRead(changed.text, read.folded.caches);
    expect(next.folded.reusedLadderChains).toBe(ladderRuns(base));
    expect(next.model).toStrictEqual(plainModel(changed.text));
  });

  it('services removed and added', () => {
    for (const services of [20, 45]) {
      const text = generateBulkRuleset({ services, endpointsPerService: 4, seed: 3 });
      const read = cachedRead(text, baseCaches);
      expect(read.model).toStrictEqual(plainModel(text));
      expect(read.folded.reusedLadderChains).toBe(ladderRuns(services < 30 ? text : base));
    }
  });

  it('without `[packets:bytes]` prefixes (nothing to take counters from) every ladder chain is parsed', () => {
    const bare = base.replace(/^\[\d+:\d+\] /gm, '');
    const read = cachedRead(bare, baseCaches);
    expect(read.folded.reusedLadderChains).toBe(0);
    expect(read.model).toStrictEqual(plainModel(bare));
    // iptables -S -v style: counters inside the rule (`-c p b`), which a skipped line would not give.
    const inline = bare.replace(/^(-A KUBE-SVC-\S+ .*?)( -j KUBE-SEP-\S+)$/gm, '$1 -c 5 300$2');
    const inlineRead = cachedRead(inline, cachedRead(inline.replace(/^-A /gm, '[1:60] -A '), undefined).folded.caches);
    expect(inlineRead.folded.reusedLadderChains).toBe(0);
    expect(inlineRead.model).toStrictEqual(plainModel(inline));
  });

  it('a blank line inside a run: that chain is not recorded (its rules are no longer a line apart), the others are', () => {
    const ladder = /^\[\d+:\d+\] -A (KUBE-SVC-\S+) .*$/m.exec(base);
    expect(ladder).not.toBeNull();
    const gapped = base.replace(`${(ladder as RegExpExecArray)[0]}\n`, `${(ladder as RegExpExecArray)[0]}\n\n`);
    const first = cachedRead(gapped, undefined);
    const again = cachedRead(gapped, first.folded.caches);
    expect(again.model).toStrictEqual(plainModel(gapped));
    expect(again.folded.reusedLadderChains).toBe(ladderRuns(base) - 1);
    // Recorded without the gap, resumed with it: each rule's line is its line in this output.
    const resumed = cachedRead(gapped, baseCaches);
    expect(resumed.folded.reusedLadderChains).toBe(ladderRuns(base));
    expect(resumed.model).toStrictEqual(plainModel(gapped));
  });
});

describe('restore-style inputs, with a cache that knows their ladder chain', () => {
  const layout = counted(RESTORE_STYLE_CASES['iptables-save layout'] as string);
  const caches = cachedRead(layout, undefined).folded.caches;
  const cases: Record<string, string> = {
    ...Object.fromEntries(Object.entries(RESTORE_STYLE_CASES).map(([name, text]) => [name, counted(text)])),
    'ladder chain in two runs': counted(`${HEAD}${ENTRY}${MASQ}${JUMPS}${SEPS}-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "ns/svc:http -> 10.0.0.7:8080" -j KUBE-SEP-OLD\nCOMMIT\n`),
    'ladder chain flushed after the run the cache knows': counted(`${HEAD}${ENTRY}${MASQ}${JUMPS}-F KUBE-SVC-AAAAAAAAAAAAAAAA\n${SEPS}COMMIT\n`),
    'a ladder rule written --append first': counted(`${HEAD}${ENTRY}--append KUBE-SVC-BBBBBBBBBBBBBBBB -j KUBE-SEP-OLD\n${MASQ}${JUMPS}${SEPS}COMMIT\n`),
  };
  for (const [name, text] of Object.entries(cases)) {
    it(name, () => {
      const plain = plainModel(text);
      for (const chunkSize of [0, 5]) expect(cachedRead(text, caches, 'ipv4', chunkSize).model, `${chunkSize}`).toStrictEqual(plain);
    });
  }

  it('the cases resume what they should', () => {
    const reused = (name: string) => cachedRead(cases[name] as string, caches).folded.reusedLadderChains;
    expect(reused('iptables-save layout')).toBe(1);
    // The second run continues the resumed fold: an unconditional jump came before, so it is unreachable.
    expect(reused('ladder chain in two runs')).toBe(1);
    expect(cachedRead(cases['ladder chain in two runs'] as string, caches).model.ladders[0]?.unreachableRules).toBe(1);
    // Resumed, then flushed: the chain reads as one without rules.
    expect(reused('ladder chain flushed after the run the cache knows')).toBe(1);
    expect(cachedRead(cases['ladder chain flushed after the run the cache knows'] as string, caches).model.ladders[0]?.endpoints).toEqual([]);
    // A ladder rule outside a run: nothing after it is resumed.
    expect(reused('a ladder rule written --append first')).toBe(0);
  });
});

describe('a resumed read continued by a later run of its chain', () => {
  it('gets the fingerprint of the ladder it ends with, not the template’s', () => {
    const [conditional, last] = JUMPS.split('\n') as [string, string];
    // The cache knows the chain with its conditional jump alone: a ladder that has not ended.
    const caches = cachedRead(counted(`${HEAD}${ENTRY}${MASQ}${conditional}\n${SEPS}COMMIT\n`), undefined).folded.caches;
    const twoRuns = counted(`${HEAD}${ENTRY}${MASQ}${conditional}\n${SEPS}${last}\nCOMMIT\n`);
    const read = cachedRead(twoRuns, caches);
    expect(read.folded.reusedLadderChains).toBe(1);
    expect(read.model.ladders[0]?.endpoints.map((e) => e.chain)).toEqual(['KUBE-SEP-ONE', 'KUBE-SEP-TWO']);
    expect(read.model).toStrictEqual(plainModel(twoRuns));
  });
});

describe('a template that cannot give an endpoint', () => {
  it('stops the build with an error naming the chains, and the next parse reads every ladder chain', () => {
    const known = counted(`${HEAD}${ENTRY}${MASQ}${JUMPS}${SEPS}COMMIT\n`);
    const caches = cachedRead(known, undefined).folded.caches;
    // KUBE-SEP-TWO loses its DNAT target: only the ladder rule's comment says where it goes.
    const noDnat = counted(`${HEAD}${ENTRY}${MASQ}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.1')}-A KUBE-SEP-TWO -s 10.0.0.2/32 -m comment --comment "ns/svc:http" -j KUBE-MARK-MASQ\n${sep('KUBE-SEP-OLD', '10.0.0.7')}COMMIT\n`);
    expect(plainModel(noDnat).ladders[0]?.endpoints.map((e) => e.endpoint)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    const folding = createChainFolding(caches);
    const dump = parseDump(noDnat, folding.parserOptions);
    const folded = folding.finish();
    expect(folded.reusedLadderChains).toBe(1);
    expect(() => buildServiceModel(dump, 'ipv4', { ...folded, releaseFolds: true })).toThrow(
      /^model: KUBE-SVC-AAAAAAAAAAAAAAAA \(line \d+\) was read from the last parse's cache, which keeps no comment of the rule that jumps to KUBE-SEP-TWO, and KUBE-SEP-TWO has no DNAT target now/,
    );
    const next = cachedRead(noDnat, folded.caches);
    expect(next.folded.reusedLadderChains).toBe(0);
    expect(next.model).toStrictEqual(plainModel(noDnat));
  });
});
