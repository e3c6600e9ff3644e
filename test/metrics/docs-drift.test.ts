import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LADDER_LABELS } from '../../src/metrics/family.js';
import { METRIC_FAMILIES } from '../../src/metrics/families/index.js';
import { createMetricsPage } from '../../src/metrics/metrics-page.js';
import { parseExposition } from './parse-exposition.js';
import { RICH_PAGE_OPTIONS, richSnapshot } from './rich-snapshot.js';

interface Documented {
  readonly type: string;
  readonly labels: readonly string[];
}

/** Reads the families table of docs/metrics.md: rows whose first cell is a backticked kube_balance_ name. */
function documentedFamilies(): Map<string, Documented> {
  const markdown = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  const families = new Map<string, Documented>();
  for (const line of markdown.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    const name = /^`(kube_balance_[a-z0-9_]+)`$/.exec(cells[0] ?? '')?.[1];
    if (name === undefined) continue;
    if (families.has(name)) throw new Error(`docs/metrics.md documents ${name} twice`);
    const labelCell = cells[2] ?? '';
    const labels =
      labelCell === '—' || labelCell === ''
        ? []
        : labelCell.split(',').flatMap((l) => {
            const label = l.trim().replace(/`/g, '');
            return label === 'L' ? [...LADDER_LABELS] : [label];
          });
    families.set(name, { type: cells[1] ?? '', labels });
  }
  return families;
}

function sorted(labels: readonly string[]): string[] {
  return [...labels].sort();
}

describe('docs/metrics.md', () => {
  const documented = documentedFamilies();

  it('documents exactly the registered families, with their types and labels', () => {
    const registered = new Map(METRIC_FAMILIES.map((f) => [f.name, { type: f.type, labels: sorted(f.labels) }]));
    const docs = new Map([...documented].map(([name, d]) => [name, { type: d.type, labels: sorted(d.labels) }]));
    expect(Object.fromEntries(docs)).toEqual(Object.fromEntries(registered));
  });

  it('matches the families, types and label sets on a rendered page of a rich snapshot', async () => {
    const page = createMetricsPage({ ...RICH_PAGE_OPTIONS, registry: new Registry() });
    page.update(richSnapshot());
    const rendered = parseExposition(await page.render());
    const onPage = new Map(
      [...rendered.values()].map((f) => {
        const labelSets = new Set(f.samples.map((s) => sorted(Object.keys(s.labels)).join(',')));
        expect(labelSets.size, `${f.name} has samples with different label sets`).toBe(1);
        return [f.name, { type: f.type, labels: [...labelSets][0]?.split(',').filter(Boolean) ?? [] }];
      }),
    );
    const docs = new Map([...documented].map(([name, d]) => [name, { type: d.type, labels: sorted(d.labels) }]));
    expect(Object.fromEntries(onPage)).toEqual(Object.fromEntries(docs));
  });
});
