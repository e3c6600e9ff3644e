// The benchmark's children must read what they say they read: through the live source, a stand-in
// iptables-legacy-save that prints the dump file as it is when it runs (so the rules change halfway
// shows as one), or through the file source. Run on the built child, as memory.ts runs it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChildDoneLine, ChildSampleLine } from '../../src/bench/exporter-child.js';
import { peakBeforeChange, peakReachedIn } from '../../src/bench/memory.js';
import { replaceOneEndpoint, resync } from '../../src/bench/replace-endpoint.js';
import { createStandInSave } from '../../src/bench/stand-in-save.js';
import { generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import { buildCli } from '../hardening/support/built-cli.js';

let child: string;
let dir: string | undefined;
beforeAll(async () => {
  child = join(dirname(await buildCli()), 'bench', 'exporter-child.js');
}, 180_000);
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A small ruleset, a copy after a sync that changed no Service, and one with an endpoint replaced (the rules change), in a new `dir`. */
function writeRules(seed: number): { work: string; resynced: string; changed: string } {
  dir = mkdtempSync(join(tmpdir(), 'kbe-child-test-'));
  const text = generateBulkRuleset({ services: 40, endpointsPerService: 3, seed, comments: true });
  const work = join(dir, 'rules.txt');
  const resynced = join(dir, 'resynced.txt');
  const changed = join(dir, 'changed.txt');
  writeFileSync(work, text);
  expect(resync(text)).not.toBe(text);
  writeFileSync(resynced, resync(text));
  writeFileSync(changed, replaceOneEndpoint(text).text);
  return { work, resynced, changed };
}

function runChild(source: string): { samples: ChildSampleLine[]; done: ChildDoneLine | undefined; stderr: string; status: number | null } {
  const { work, resynced, changed } = writeRules(5);
  const result = spawnSync(process.execPath, [child, source, work, '5', resynced, '1', changed, '3'], { encoding: 'utf8' });
  const lines = result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ChildSampleLine | ChildDoneLine);
  return {
    samples: lines.filter((line): line is ChildSampleLine => line.kind === 'sample'),
    done: lines.find((line): line is ChildDoneLine => line.kind === 'done'),
    stderr: result.stderr,
    status: result.status,
  };
}

describe('exporter-child', () => {
  it.each(['live', 'file'])('%s: parses at start-up, refreshes (also after a sync that changed no Service), and re-parses after the rules change', (source) => {
    const run = runChild(source);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.samples.map((s) => s.readKind)).toEqual(['parsed', 'refreshed', 'refreshed', 'reparsed', 'refreshed']);
    expect(run.samples.every((s) => s.pageBytes > 0)).toBe(true);
    expect(run.done?.maxRssBytes).toBeGreaterThan(0);
  });

  it('refuses a source it does not know, naming the usage', () => {
    const run = runChild('nft');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('usage: exporter-child live|file DUMP SAMPLES [CHANGED AT]...');
  });
});

describe('createStandInSave', () => {
  it('prints the file that is at the path when it runs, and leaves nothing behind', () => {
    dir = mkdtempSync(join(tmpdir(), 'kbe-stand-in-test-'));
    // A quote in the path must not break the script.
    const dump = join(dir, "it's.txt");
    writeFileSync(dump, 'first\n');
    const standIn = createStandInSave(dump, '/usr/bin:/bin');
    const script = join(standIn.path.split(':')[0] as string, 'iptables-legacy-save');
    // Beside the dump: removing the dump's folder removes it, whatever happens to its maker.
    expect(dirname(dirname(script))).toBe(dir);
    const save = (): string => spawnSync('iptables-legacy-save', ['-c', '-t', 'nat'], { encoding: 'utf8', env: { PATH: standIn.path } }).stdout;
    expect(save()).toBe('first\n');
    writeFileSync(dump, 'second\n');
    expect(save()).toBe('second\n');
    expect(readFileSync(script, 'utf8')).toContain("'\\''");
    standIn.remove();
    expect(existsSync(script)).toBe(false);
  });
});

describe('serve-child', () => {
  it('serves a page, then samples through the live source: a rules change re-parses, the next read refreshes', async () => {
    const { work, changed } = writeRules(6);
    const serve = spawn(process.execPath, [join(dirname(child), 'serve-child.js'), work, changed], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    serve.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: serve.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<Record<string, unknown>> => JSON.parse(((await lines.next()).value as string | undefined) ?? 'null') as Record<string, unknown>;
    try {
      const ready = await next();
      const page = await fetch(`http://127.0.0.1:${String(ready.port)}/metrics`);
      expect(await page.text()).toContain('kube_balance_sample_reads_total{ip_family="ipv4",read="parsed"} 1');
      serve.stdin.write('{"op":"sample","change":true}\n');
      const rewritten = await next();
      serve.stdin.write('{"op":"sample"}\n');
      const unchanged = await next();
      expect([rewritten.readKind, unchanged.readKind]).toEqual(['reparsed', 'refreshed']);
      serve.stdin.end();
      const code = await new Promise<number | null>((resolve) => serve.on('close', resolve));
      expect(code).toBe(0);
      expect(stderr).toBe('');
    } finally {
      serve.kill('SIGKILL');
    }
  }, 60_000);
});

describe('peakBeforeChange', () => {
  const lines = [{ maxRssBytes: 100 }, { maxRssBytes: 150 }, { maxRssBytes: 300 }];
  it('is the peak after the last sample before the change, or the whole run when the rules never changed', () => {
    expect(peakBeforeChange(lines, 2, 300)).toBe(150);
    expect(peakBeforeChange(lines, -1, 300)).toBe(300);
  });
  it('is none when the rules changed before the first sample (`--samples 1`), not the run peak', () => {
    expect(peakBeforeChange(lines, 0, 300)).toBeNaN();
  });
});

describe('peakReachedIn', () => {
  it('names the first sample after which the high-water mark stood at its highest', () => {
    const line = (index: number, maxRssBytes: number, readKind = 'refreshed') => ({ index, maxRssBytes, readKind });
    expect(peakReachedIn([line(0, 100, 'parsed'), line(1, 150), line(2, 150), line(3, 120)])).toEqual({ index: 1, readKind: 'refreshed' });
    expect(peakReachedIn([line(0, 200, 'parsed'), line(1, 150)])).toEqual({ index: 0, readKind: 'parsed' });
    expect(peakReachedIn([])).toBeNull();
  });
});
