// The streaming path (KUBE-SEP rules folded while parsing, not kept in the dump) must give exactly the
// model of the plain path (buildServiceModel(parseDump(text))), on every fixture and real dump.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DumpParser, parseDump } from '../../src/iptables/parse-dump.js';
import type { IpFamily } from '../../src/iptables/types.js';
import { buildServiceModel } from '../../src/model/build-service-model.js';
import { readEndpointChain } from '../../src/model/endpoint-chain.js';
import { createEndpointChainCollector } from '../../src/model/endpoint-chain-collector.js';
import type { ServiceModel } from '../../src/model/types.js';
import { createFileSource } from '../../src/source/file-sample-source.js';
import { readDumpFile } from '../../src/source/file-source.js';
import { DUMP_FILES } from '../support/dump-files.js';

const FILES = DUMP_FILES;

function plainModel(text: string, family: IpFamily = 'ipv4'): ServiceModel {
  return buildServiceModel(parseDump(text), family);
}

/** Streams `text` in `chunkSize`-byte pieces through a DumpParser that folds the SEP chains. */
function streamingModel(text: string, family: IpFamily = 'ipv4', chunkSize = 0, fastPath = true): { model: ServiceModel; sepRulesKept: number } {
  const collector = createEndpointChainCollector();
  const parser = new DumpParser({ keepChain: collector.keepChain, onRule: collector.onRule, fastPath });
  const bytes = Buffer.from(text, 'utf8');
  if (chunkSize <= 0) parser.push(bytes);
  else for (let i = 0; i < bytes.length; i += chunkSize) parser.push(bytes.subarray(i, i + chunkSize));
  const dump = parser.end();
  let sepRulesKept = 0;
  for (const [name, chain] of dump.tables.get('nat')?.chains ?? []) if (name.startsWith('KUBE-SEP-')) sepRulesKept += chain.rules.length;
  return { model: buildServiceModel(dump, family, { endpointChains: collector.finish(dump) }), sepRulesKept };
}

describe('streaming KUBE-SEP folding gives the plain model', () => {
  it('finds the fixtures', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of FILES) {
    const name = file.slice(file.lastIndexOf('/', file.lastIndexOf('/') - 1) + 1);
    it(name, () => {
      const text = readFileSync(file, 'utf8');
      for (const family of ['ipv4', 'ipv6'] as const) {
        const plain = plainModel(text, family);
        const streamed = streamingModel(text, family);
        expect(streamed.sepRulesKept).toBe(0);
        expect(streamed.model).toStrictEqual(plain);
      }
      // Chain by chain, the folded info is what readEndpointChain reads from the plain dump.
      const plainDump = parseDump(text);
      const collector = createEndpointChainCollector();
      const streamDump = parseDump(text, { keepChain: collector.keepChain, onRule: collector.onRule });
      const infos = collector.finish(streamDump);
      for (const [chain, c] of plainDump.tables.get('nat')?.chains ?? []) {
        if (!chain.startsWith('KUBE-SEP-')) continue;
        const folded = infos.get(chain) ?? readEndpointChain(streamDump.tables.get('nat')?.chains.get(chain));
        const { dnat, hairpinIP, comment, protocol } = folded;
        expect({ dnat, hairpinIP, comment, protocol }).toStrictEqual(readEndpointChain(c));
      }
      // Chunk boundaries inside lines, and the reference (non-fast) parser path.
      expect(streamingModel(text, 'ipv4', 7).model).toStrictEqual(plainModel(text));
      expect(streamingModel(text, 'ipv4', 0, false).model).toStrictEqual(plainModel(text));
    });

    it(`${name} through readDumpFile`, async () => {
      const plain = await readDumpFile({ path: file });
      const folded = await readDumpFile({ path: file, foldEndpointChains: true });
      expect(folded.dumps.map((d) => d.ipFamily)).toEqual(plain.dumps.map((d) => d.ipFamily));
      plain.dumps.forEach((p, i) => {
        const f = folded.dumps[i];
        if (f === undefined) throw new Error('missing family');
        expect(f.endpointChains).toBeDefined();
        expect(buildServiceModel(f.dump, f.ipFamily, f.endpointChains ? { endpointChains: f.endpointChains } : {})).toStrictEqual(
          buildServiceModel(p.dump, p.ipFamily),
        );
      });
    });
  }
});

const HEAD = `*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]
`;
const LADDER = `-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "ns/svc:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA
-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "ns/svc:http -> 10.0.0.1:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-ONE
-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "ns/svc:http -> 10.0.0.2:8080" -j KUBE-SEP-TWO
`;
const sep = (chain: string, ip: string, comment = 'ns/svc:http') =>
  `-A ${chain} -s ${ip}/32 -m comment --comment "${comment}" -j KUBE-MARK-MASQ
-A ${chain} -p tcp -m comment --comment "${comment}" -m tcp -j DNAT --to-destination ${ip}:8080
`;

describe('streaming KUBE-SEP folding: edge cases', () => {
  const cases: Record<string, string> = {
    'declared but empty SEP chain': `${HEAD}:KUBE-SEP-ONE - [0:0]\n:KUBE-SEP-TWO - [0:0]\n${LADDER}${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
    'SEP chains never referenced': `${HEAD}:KUBE-SEP-ONE - [0:0]\n:KUBE-SEP-UNUSED - [0:0]\n${LADDER}${sep('KUBE-SEP-ONE', '10.0.0.1')}${sep('KUBE-SEP-UNUSED', '10.0.0.9')}COMMIT\n`,
    'SEP rules without a declaration (excerpt)': `${LADDER}${sep('KUBE-SEP-ONE', '10.0.0.1')}${sep('KUBE-SEP-TWO', '10.0.0.2')}`,
    'SEP chain declared again after its rules': `${HEAD}:KUBE-SEP-ONE - [0:0]\n${sep('KUBE-SEP-ONE', '10.0.0.7', 'old/svc:x')}:KUBE-SEP-ONE - [0:0]\n${LADDER}${sep('KUBE-SEP-ONE', '10.0.0.1')}COMMIT\n`,
    'SEP chain declared again, then left empty': `${HEAD}:KUBE-SEP-ONE - [0:0]\n${sep('KUBE-SEP-ONE', '10.0.0.7', 'old/svc:x')}-N KUBE-SEP-ONE\n${LADDER}COMMIT\n`,
    'SEP chain rules in two runs': `${HEAD}${LADDER}-A KUBE-SEP-ONE -s 10.0.0.1/32 -j KUBE-MARK-MASQ\n-A KUBE-SERVICES -j KUBE-NODEPORTS\n-A KUBE-SEP-ONE -p tcp -m comment --comment "ns/svc:http" -j DNAT --to-destination 10.0.0.1:8080\n-A KUBE-SEP-ONE -p udp -j DNAT --to-destination 10.0.0.3:53\nCOMMIT\n`,
    'the nat table listed twice': `${HEAD}:KUBE-SEP-ONE - [0:0]\n:KUBE-SEP-TWO - [0:0]\n${LADDER}${sep('KUBE-SEP-ONE', '10.0.0.5', 'old/svc:x')}COMMIT\n${HEAD}:KUBE-SEP-ONE - [0:0]\n:KUBE-SEP-TWO - [0:0]\n${LADDER}${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
    'hairpin rule after the DNAT': `${HEAD}${LADDER}-A KUBE-SEP-ONE -p tcp -j DNAT --to-destination 10.0.0.1:8080\n-A KUBE-SEP-ONE -s 10.0.0.9/32 -j KUBE-MARK-MASQ\n${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
    'lossy DNAT: hairpin fallback': `${HEAD}${LADDER}-A KUBE-SEP-ONE -s 10.0.0.1/32 -j KUBE-MARK-MASQ\n-A KUBE-SEP-ONE -p tcp -j DNAT [unsupported revision]\n${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
    'SEP rules in another table are kept': `*filter\n:KUBE-SEP-ONE - [0:0]\n-A KUBE-SEP-ONE -j ACCEPT\nCOMMIT\n${HEAD}${LADDER}${sep('KUBE-SEP-ONE', '10.0.0.1')}COMMIT\n`,
    // A declaration after the first SEP rule (of another chain): finish() checks each chain's declaration.
    'a SEP chain declared after other SEP rules': `${HEAD}:KUBE-SEP-ONE - [0:0]\n${LADDER}${sep('KUBE-SEP-ONE', '10.0.0.1')}:KUBE-SEP-TWO - [0:0]\n${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
  };
  for (const [name, text] of Object.entries(cases)) {
    it(name, () => {
      let plain = plainModel(text);
      expect(plain.ladders.length).toBeGreaterThan(0);
      if (name.includes('declared again')) {
        // Known difference, and the only one: the parser warns about a chain declared again only when
        // it holds rules, and the streaming dump holds none for SEP chains (iptables-save never does this).
        const redeclared = /^line \d+: chain KUBE-SEP-ONE declared again; its earlier rules are replaced$/;
        expect(plain.warnings.filter((w) => redeclared.test(w))).toHaveLength(1);
        plain = { ...plain, warnings: plain.warnings.filter((w) => !redeclared.test(w)) };
        expect(plain.ladders[0]?.endpoints.map((e) => e.endpoint)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']); // not 10.0.0.7
      }
      expect(streamingModel(text).model).toStrictEqual(plain);
      expect(streamingModel(text, 'ipv4', 5, false).model).toStrictEqual(plain);
    });
  }

  it('folds each SEP chain into what readEndpointChain reads from the plain dump, on every case', () => {
    for (const [name, text] of Object.entries(cases)) {
      for (const fastPath of [true, false]) {
        const collector = createEndpointChainCollector();
        const dump = parseDump(text, { fastPath, keepChain: collector.keepChain, onRule: collector.onRule });
        const infos = collector.finish(dump);
        for (const [chain, c] of parseDump(text).tables.get('nat')?.chains ?? []) {
          if (!chain.startsWith('KUBE-SEP-')) continue;
          const folded = infos.get(chain) ?? readEndpointChain(dump.tables.get('nat')?.chains.get(chain));
          const { dnat, hairpinIP, comment, protocol } = folded;
          expect({ dnat, hairpinIP, comment, protocol }, `${name}: ${chain}`).toStrictEqual(readEndpointChain(c));
        }
      }
    }
  });

  it('keeps a hairpin address only for a chain without a usable DNAT target (the only case the model reads it)', () => {
    const info = (text: string, chain = 'KUBE-SEP-ONE') => {
      const collector = createEndpointChainCollector();
      const dump = parseDump(text, { keepChain: collector.keepChain, onRule: collector.onRule });
      const folded = collector.finish(dump).get(chain);
      expect(folded?.hairpinIP).toBe(readEndpointChain(parseDump(text).tables.get('nat')?.chains.get(chain)).hairpinIP);
      return folded;
    };
    expect(info(cases['lossy DNAT: hairpin fallback'] as string)).toMatchObject({ dnat: null, hairpinIP: '10.0.0.1' });
    expect(info(cases['hairpin rule after the DNAT'] as string)).toMatchObject({ dnat: '10.0.0.1:8080', hairpinIP: null });
    expect(info(cases['SEP chain rules in two runs'] as string)).toMatchObject({ dnat: '10.0.0.1:8080', hairpinIP: null });
    expect(info(cases['declared but empty SEP chain'] as string, 'KUBE-SEP-TWO')).toMatchObject({ dnat: '10.0.0.2:8080', hairpinIP: null });
  });

  it('is reusable: finish() starts the next dump afresh', () => {
    const collector = createEndpointChainCollector();
    const first = cases['SEP chain rules in two runs'] as string;
    const second = cases['declared but empty SEP chain'] as string;
    const firstDump = parseDump(first, { keepChain: collector.keepChain, onRule: collector.onRule });
    collector.finish(firstDump);
    const dump = parseDump(second, { keepChain: collector.keepChain, onRule: collector.onRule });
    const fresh = createEndpointChainCollector();
    const freshDump = parseDump(second, { keepChain: fresh.keepChain, onRule: fresh.onRule });
    expect([...collector.finish(dump)]).toEqual([...fresh.finish(freshDump)]);
  });

  it('keeps the other tables’ SEP-named chains in the dump', () => {
    const collector = createEndpointChainCollector();
    const dump = parseDump(cases['SEP rules in another table are kept'] as string, { keepChain: collector.keepChain, onRule: collector.onRule });
    expect(dump.tables.get('filter')?.chains.get('KUBE-SEP-ONE')?.rules).toHaveLength(1);
    expect(collector.finish(dump).get('KUBE-SEP-ONE')?.dnat).toBe('10.0.0.1:8080');
  });
});

describe('--source.file folds the SEP chains for the sampler', () => {
  it('carries endpointChains with a dump that holds no KUBE-SEP rules', async () => {
    const file = FILES.find((f) => f.endsWith('current-layout-overall.txt')) as string;
    const reads = await createFileSource({ path: file, refreshCounters: false })(new AbortController().signal);
    const read = reads[0];
    if (read === undefined || !read.ok) throw new Error('read failed');
    expect(read.endpointChains?.size).toBeGreaterThan(0);
    for (const [name, chain] of read.dump.tables.get('nat')?.chains ?? []) if (name.startsWith('KUBE-SEP-')) expect(chain.rules).toHaveLength(0);
    const opts = read.endpointChains ? { endpointChains: read.endpointChains } : {};
    expect(buildServiceModel(read.dump, read.ipFamily, opts)).toStrictEqual(plainModel(readFileSync(file, 'utf8'), read.ipFamily));
  });

  it('with the counter refresh on (the default), the source builds that same model itself', async () => {
    const file = FILES.find((f) => f.endsWith('current-layout-overall.txt')) as string;
    const read = (await createFileSource({ path: file })(new AbortController().signal))[0];
    if (read === undefined || !read.ok) throw new Error('read failed');
    expect(read.model).toStrictEqual(plainModel(readFileSync(file, 'utf8'), read.ipFamily));
  });
});
