// The sliced model build and counter plan (what the sources and the sampler run, with turns of the
// event loop in between) must give exactly what the one-go functions give: on every fixture and real
// dump with a checkpoint after every unit of work, and on a generated cluster with the default one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDump } from '../../src/iptables/parse-dump.js';
import { generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import type { IpFamily, ParsedDump } from '../../src/iptables/types.js';
import { buildServiceModel, buildServiceModelInSlices } from '../../src/model/build-service-model.js';
import { planCounters, planCountersInSlices, readCounters, readCountersInSlices } from '../../src/model/counter-refresh/counter-plan.js';
import { StructureScanner } from '../../src/model/counter-refresh/structure-scanner.js';
import { createChainFolding, type FoldedChains } from '../../src/model/chain-folding.js';
import { runInSlices, runToEnd, type Slices, WorkMeter } from '../../src/slices.js';
import { readDumpFile } from '../../src/source/file-source.js';
import { DUMP_FILES } from '../support/dump-files.js';

type AffinityLines = Map<string, readonly (readonly number[])[]>;

/** Passes the computation's checkpoints through, counting them. */
function* counting<T>(steps: Slices<T>, count: { checkpoints: number }): Slices<T> {
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
    count.checkpoints++;
    yield;
  }
}

interface Read {
  readonly ipFamily: IpFamily;
  readonly dump: ParsedDump;
  readonly folded?: FoldedChains;
  /** The output's packet counter per line (StructureScan). */
  readonly packets: Float64Array;
}

/**
 * One family's read, built and planned both ways (the sliced way with a turn of the event loop at
 * every checkpoint); the checkpoints the sliced way passed.
 */
async function compare(read: Read, meter: () => WorkMeter): Promise<number> {
  const { ipFamily, dump, folded, packets } = read;
  const count = { checkpoints: 0 };
  const syncLines: AffinityLines = new Map();
  const slicedLines: AffinityLines = new Map();
  const model = buildServiceModel(dump, ipFamily, { ...folded, affinityLines: syncLines });
  const sliced = await runInSlices(counting(buildServiceModelInSlices(dump, ipFamily, { ...folded, affinityLines: slicedLines }, meter()), count), { sliceMs: 0 });
  expect(sliced).toStrictEqual(model);
  expect(slicedLines).toStrictEqual(syncLines);

  const plan = planCounters(model, syncLines, packets);
  const slicedPlan = await runInSlices(counting(planCountersInSlices(sliced, slicedLines, packets, meter()), count), { sliceMs: 0 });
  expect(slicedPlan).toStrictEqual(plan);
  if (plan !== null) {
    // Other counters than the model's: the counters read differ from its own, both ways alike.
    const moved = packets.map((p, line) => p + line);
    const read = await runInSlices(counting(readCountersInSlices(model, plan, moved, meter()), count), { sliceMs: 0 });
    expect(read).toStrictEqual(readCounters(model, plan, moved));
  }
  return count.checkpoints;
}

describe('buildServiceModelInSlices / planCountersInSlices / readCountersInSlices', () => {
  for (const file of DUMP_FILES) {
    it(`${file.split('/').slice(-2).join('/')}: the same as in one go, a checkpoint after every unit of work`, async () => {
      const { dumps } = await readDumpFile({ path: file, scan: true, foldChains: true });
      for (const { ipFamily, dump, folded, scan } of dumps) {
        const checkpoints = await compare({ ipFamily, dump, ...(folded === undefined ? {} : { folded }), packets: scan?.packets ?? new Float64Array(0) }, () => new WorkMeter(1));
        // At least one checkpoint per ladder in each of the build's loops over the ladders.
        expect(checkpoints).toBeGreaterThanOrEqual(2 * buildServiceModel(dump, ipFamily, folded).ladders.length);
      }
    });
  }

  it('a generated cluster, with session affinity: the same as in one go, at the default checkpoints', async () => {
    const text = generateBulkRuleset({ services: 600, endpointsPerService: 6, seed: 8, comments: true }).replace(
      /^(\[\d+:\d+\] -A (KUBE-SVC-\w+) )(-m comment --comment "[^"]+" )?-m statistic --mode random --probability [\d.]+ -j (KUBE-SEP-\w+)$/gm,
      (line: string, prefix: string, _chain: string, comment: string | undefined, sep: string) =>
        `${prefix}${comment ?? ''}-m recent --name ${sep} --mask 255.255.255.255 --rsource --rcheck --seconds 10800 --reap -j ${sep}\n${line}`,
    );
    const scanner = new StructureScanner();
    scanner.push(text);
    const checkpoints = await compare({ ipFamily: 'ipv4', dump: parseDump(text), packets: scanner.end().packets }, () => new WorkMeter());
    expect(checkpoints).toBeGreaterThanOrEqual(10);
  });

  // The build's loops stop at a checkpoint and resume where they were (mid-chain in KUBE-SERVICES,
  // mid-list of ladders or groups): any checkpoint spacing must give the one-go model, folded or not.
  it('random clusters, random checkpoint spacing: the same model and affinity lines, folded or not', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 60 }),
        (services, endpointsPerService, seed, comments, nodePortEvery, perCheckpoint) => {
          const text = generateBulkRuleset({ services, endpointsPerService, seed, comments, nodePortEvery });
          const dump = parseDump(text);
          const lines: AffinityLines = new Map();
          const model = buildServiceModel(dump, 'ipv4', { affinityLines: lines });
          const slicedLines: AffinityLines = new Map();
          const sliced = runToEnd(buildServiceModelInSlices(dump, 'ipv4', { affinityLines: slicedLines }, new WorkMeter(perCheckpoint)));
          expect(sliced).toStrictEqual(model);
          expect(slicedLines).toStrictEqual(lines);
          const folding = createChainFolding();
          const foldedDump = parseDump(text, folding.parserOptions);
          const foldedLines: AffinityLines = new Map();
          const folded = runToEnd(buildServiceModelInSlices(foldedDump, 'ipv4', { ...folding.finish(), affinityLines: foldedLines }, new WorkMeter(perCheckpoint)));
          expect(folded).toStrictEqual(model);
          expect(foldedLines).toStrictEqual(lines);
        },
      ),
      { numRuns: 40 },
    );
  });
});
