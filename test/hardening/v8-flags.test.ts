/**
 * The built exporter runs with the V8 settings of src/v8-flags.ts. A process cannot read V8's flags
 * back, so this watches what the flag changes: under `--trace-pretenuring-statistics` V8 prints a
 * `pretenuring:` line each time it weighs its allocation sites for pretenuring, and with allocation-site
 * pretenuring off it never does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import { samplesOf } from '../metrics/parse-exposition.js';
import { buildCli, startExporterProcess, type ExporterProcess } from './support/built-cli.js';
import { eventually } from './support/exporter-config.js';
import { scrape } from './support/scrape.js';

const TRACE = '--trace-pretenuring-statistics';
/** Many small objects that survive young collections: what makes V8 weigh pretenuring. */
const SURVIVORS = 'const keep = []; for (let i = 0; i < 800000; i++) keep.push({ i, list: [i] }); console.error(keep.length);';

let cli: string;
let dir: string;
let exporter: ExporterProcess | null = null;
beforeAll(async () => {
  cli = await buildCli();
}, 180_000);
afterEach(async () => {
  if (exporter !== null) {
    exporter.kill('SIGKILL');
    await exporter.exited;
  }
  exporter = null;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function tracedLines(output: string): string[] {
  return output.split('\n').filter((line) => line.includes('pretenuring:'));
}

describe('V8 settings of the exporter process (src/v8-flags.ts)', () => {
  it('control: this node prints its pretenuring decisions under the trace flag', () => {
    const control = spawnSync(process.execPath, [TRACE, '-e', SURVIVORS], { encoding: 'utf8' });
    expect(control.status).toBe(0);
    expect(tracedLines(control.stdout).length).toBeGreaterThan(0);
  });

  it('the exporter never weighs allocation sites for pretenuring, from start-up through parsed and refreshed reads', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kbe-v8-flags-'));
    const dump = join(dir, 'nat.txt');
    // 1,000 services × 5 endpoints: a parse keeps ~40k objects, enough to make V8 weigh pretenuring.
    writeFileSync(dump, generateBulkRuleset({ services: 1000, endpointsPerService: 5, seed: 11, comments: true }));
    exporter = startExporterProcess(cli, [`--source.file=${dump}`, '--sample.interval=1s', '--window=60s'], { PATH: process.env.PATH ?? '' }, [TRACE]);
    const base = await exporter.base;
    const reads = async (kind: string): Promise<number> =>
      samplesOf((await scrape(base)).page, 'kube_balance_sample_reads_total')
        .filter((s) => s.labels.read === kind)
        .reduce((sum, s) => sum + s.value, 0);
    await eventually(async () => (await reads('parsed')) >= 1 && (await reads('refreshed')) >= 2, 100);
    expect(tracedLines(exporter.logs())).toEqual([]);
  }, 120_000);
});
