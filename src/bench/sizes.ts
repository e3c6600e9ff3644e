/** The benchmark's ruleset sizes and how each is generated (the lab's bulk kube-proxy generator). */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { bulkRulesetStream, type BulkRulesetOptions } from '../lab/ruleset/bulk.js';

export interface BenchSize {
  readonly name: 'S' | 'M' | 'L' | 'XL';
  readonly services: number;
  readonly endpointsPerService: number;
}

export const SIZES: readonly BenchSize[] = [
  { name: 'S', services: 100, endpointsPerService: 3 },
  { name: 'M', services: 1_000, endpointsPerService: 5 },
  { name: 'L', services: 10_000, endpointsPerService: 5 },
  { name: 'XL', services: 20_000, endpointsPerService: 10 },
];

export function rulesetOptions(size: BenchSize): BulkRulesetOptions {
  // Comments on: the larger, slower-to-parse form (kube-proxy drops them only above 1,000 endpoints).
  return { services: size.services, endpointsPerService: size.endpointsPerService, seed: 1, comments: true };
}

/** Streams the ruleset to `path` (XL is ~100 MB: never held as one string here). */
export async function writeRuleset(size: BenchSize, path: string): Promise<void> {
  await pipeline(bulkRulesetStream(rulesetOptions(size)), createWriteStream(path));
}
