// Shared by the chain cache tests (endpoint-chain-cache.test.ts, ladder-chain-cache.test.ts): a parse
// with the last parse's caches, built as the exporter builds it, and what it must equal.
import { expect } from 'vitest';
import { DumpParser, parseDump } from '../../src/iptables/parse-dump.js';
import type { IpFamily } from '../../src/iptables/types.js';
import { buildServiceModel } from '../../src/model/build-service-model.js';
import { type ChainCaches, createChainFolding, type FoldedChains } from '../../src/model/chain-folding.js';
import type { ServiceModel } from '../../src/model/types.js';
import { SEP_DECLARED_AGAIN } from './restore-style-cases.js';

/** The model of a plain parse, without the one warning a folded parse does not give (SEP_DECLARED_AGAIN). */
export function plainModel(text: string, family: IpFamily = 'ipv4'): ServiceModel {
  const model = buildServiceModel(parseDump(text), family);
  return { ...model, warnings: model.warnings.filter((w) => !SEP_DECLARED_AGAIN.test(w)) };
}

/**
 * `text` parsed with folding and `caches`, in `chunkSize`-byte pieces (0: at once), and built releasing
 * the folds (which records the ladder cache for the next parse).
 */
export function cachedRead(text: string, caches: ChainCaches | undefined, family: IpFamily = 'ipv4', chunkSize = 0): { model: ServiceModel; folded: FoldedChains } {
  const folding = createChainFolding(caches);
  const parser = new DumpParser(folding.parserOptions);
  const bytes = Buffer.from(text, 'utf8');
  if (chunkSize <= 0) parser.push(bytes);
  else for (let i = 0; i < bytes.length; i += chunkSize) parser.push(bytes.subarray(i, i + chunkSize));
  const dump = parser.end();
  const folded = folding.finish();
  const model = buildServiceModel(dump, family, { ...folded, releaseFolds: true });
  // The build frees what answered for the skipped chains too; the caches for the next parse stay.
  expect(folded.endpointChains.size).toBe(0);
  return { model, folded };
}

/** Runs of rules of the chains `chains` matches (a name pattern) in the text: the most a parse can skip. */
export function chainRuns(text: string, chains: RegExp): number {
  const rule = new RegExp(`^(?:\\[\\d+:\\d+\\] )?-A (${chains.source}) `);
  let runs = 0;
  let last = '';
  for (const line of text.split('\n')) {
    const chain = rule.exec(line)?.[1] ?? '';
    if (chain !== '' && chain !== last) runs++;
    last = chain;
  }
  return runs;
}
