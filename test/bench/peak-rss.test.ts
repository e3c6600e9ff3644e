// The memory benchmark's peak must be the child's own. getrusage's maxRSS is not: a forked child
// starts with its parent's RSS as its high-water mark and keeps it across exec (the benchmark's
// parent, ~320 MiB after the XL runs, set the child's "peak" at start-up). VmHWM is per memory map.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { peakRssBytes } from '../../src/bench/peak-rss.js';
import { buildCli } from '../hardening/support/built-cli.js';

let peakRssModule: string;
beforeAll(async () => {
  peakRssModule = join(dirname(await buildCli()), 'bench', 'peak-rss.js');
}, 180_000);

describe('peakRssBytes', () => {
  it('is this process’s high-water mark: at least its RSS now, and the same by pid', () => {
    const self = peakRssBytes('self');
    expect(self).toBeGreaterThanOrEqual(process.memoryUsage().rss - 16 * 2 ** 20);
    expect(Math.abs(peakRssBytes(process.pid) - self)).toBeLessThan(64 * 2 ** 20);
  });

  it('in a child spawned by a large parent, counts the child only', () => {
    // 400 MiB touched in this process: its RSS is far above what a bare node child uses.
    const ballast = Buffer.alloc(400 * 2 ** 20, 1);
    const parentRss = process.memoryUsage().rss;
    const script = `import(${JSON.stringify(peakRssModule)}).then((m) => process.stdout.write(String(m.peakRssBytes('self'))))`;
    const childPeak = Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    expect(ballast[ballast.length - 1]).toBe(1);
    expect(parentRss).toBeGreaterThan(400 * 2 ** 20);
    expect(childPeak).toBeGreaterThan(10 * 2 ** 20);
    expect(childPeak).toBeLessThan(200 * 2 ** 20);
  });

  it('is NaN for a process that is not there', () => {
    expect(peakRssBytes(2 ** 31 - 2)).toBeNaN();
  });
});
