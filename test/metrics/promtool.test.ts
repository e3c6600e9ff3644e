import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetricsPage } from '../../src/metrics/metrics-page.js';
import { RICH_PAGE_OPTIONS, richSnapshot } from './rich-snapshot.js';

const PROMTOOL = '/usr/bin/promtool';

describe('promtool check metrics', () => {
  it('accepts the whole page (kube_balance_* and process/Node.js metrics) without lint problems', async () => {
    if (!existsSync(PROMTOOL)) {
      throw new Error(`${PROMTOOL} is missing: install Debian's prometheus package (apt-get install prometheus)`);
    }
    const page = createMetricsPage(RICH_PAGE_OPTIONS); // default registry: the page as served
    page.update(richSnapshot());
    const text = await page.render();

    const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: '' });
  });
});
