/** The README's metric summary may only name metrics that docs/metrics.md documents (and /metrics serves: see test/metrics). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METRIC_FAMILIES } from '../../src/metrics/families/index.js';

const read = (path: string): string => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');

describe('README metric names', () => {
  it('names only documented, registered families (a trailing _ is a prefix, e.g. kube_balance_sample_*)', () => {
    const docs = read('docs/metrics.md');
    const registered = new Set(METRIC_FAMILIES.map((f) => f.name));
    const readme = read('README.md');
    const names = [...readme.matchAll(/`(kube_balance_[a-z_]+)`?/g)].map((m) => m[1] as string);
    expect(names.length).toBeGreaterThan(5);
    for (const name of new Set(names)) {
      const known = name.endsWith('_')
        ? [...registered].some((r) => r.startsWith(name))
        : registered.has(name) && docs.includes(`\`${name}\``);
      expect(known, `${name} in README.md is not a documented metric family`).toBe(true);
    }
  });
});
