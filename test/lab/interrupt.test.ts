import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listLabNamespaces, sweepStaleLabs } from '../../src/lab/netns.js';
import { labAvailable } from '../support/lab-env.js';

interface Report {
  pid: number;
  stem: string;
  children: number[];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the fixture lab in a separate vitest run; returns its worker's report and a stopper for the run. */
async function startFixtureLab(): Promise<{ report: Report; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'kbe-fixture-'));
  const reportPath = join(dir, 'report.json');
  const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/lab/fixtures/vitest.fixture.config.ts'], {
    env: { ...process.env, KBE_FIXTURE_REPORT: reportPath },
    stdio: 'ignore',
  });
  const stop = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const report = await until('the fixture lab', () => (existsSync(reportPath) ? (JSON.parse(readFileSync(reportPath, 'utf8')) as Report) : undefined), 60_000);
    return { report, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

async function labNamespaces(stem: string): Promise<string[]> {
  return (await listLabNamespaces()).filter((n) => n.startsWith(`${stem}-`));
}

describe.skipIf(!labAvailable)('lab cleanup when interrupted', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s: the signal handler removes namespaces and servers', async (signal) => {
    const { report, stop } = await startFixtureLab();
    try {
      expect((await labNamespaces(report.stem)).length).toBeGreaterThan(0);
      process.kill(report.pid, signal);
      await until('namespaces removed', async () => ((await labNamespaces(report.stem)).length === 0 ? true : undefined), 15_000);
      await until('servers gone', () => (report.children.every((p) => !isAlive(p)) ? true : undefined), 15_000);
      expect(existsSync(join(tmpdir(), report.stem))).toBe(false);
    } finally {
      stop();
    }
  });

  it('SIGKILL: the sweeper removes what a dead lab left behind', async () => {
    const { report, stop } = await startFixtureLab();
    try {
      process.kill(report.pid, 'SIGKILL');
      await until('worker dead', () => (!isAlive(report.pid) ? true : undefined));
      // No handler ran in the dead process: its namespaces stay until a sweeper (this one, or the one
      // a concurrently starting lab runs) notices that their owner is dead.
      await sweepStaleLabs();
      expect(await labNamespaces(report.stem)).toEqual([]);
      expect(existsSync(join(tmpdir(), report.stem))).toBe(false);
      await until('servers gone', () => (report.children.every((p) => !isAlive(p)) ? true : undefined), 15_000);
    } finally {
      stop();
    }
  });
});
