import { readFileSync, writeFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsPage } from '../../src/metrics/metrics-page.js';
import { RICH_PAGE_OPTIONS, richSnapshot } from './rich-snapshot.js';

const GOLDEN = new URL('../fixtures/metrics/rich-snapshot.prom', import.meta.url);

function sortedLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '').sort();
}

describe('golden page', () => {
  // Rewrite with: UPDATE_GOLDEN=1 npx vitest run test/metrics/golden.test.ts
  it('renders the rich snapshot as test/fixtures/metrics/rich-snapshot.prom', async () => {
    const page = createMetricsPage({ ...RICH_PAGE_OPTIONS, registry: new Registry() });
    page.update(richSnapshot());
    const text = await page.render();
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    expect(sortedLines(text)).toEqual(sortedLines(readFileSync(GOLDEN, 'utf8')));
  });
});
