import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/cli.js');
const FIXTURES = join(ROOT, 'test/fixtures/cli');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  try {
    return statSync(CLI).mtimeMs < newestMtime(join(ROOT, 'src'));
  } catch {
    return true;
  }
}

function cli(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, input: input ?? '', encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (!isStale()) return;
  // Sources may change while tsc runs, so check that the build wrote dist/cli.js, not that it is newest.
  const started = Date.now();
  // tsc emits even when some in-progress file elsewhere has a type error; these tests need only the CLI's modules.
  const build = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(statSync(CLI).mtimeMs, `tsc -p tsconfig.build.json did not write dist/cli.js:\n${build.stdout}`).toBeGreaterThanOrEqual(started - 2000);
});

describe('the built CLI (node dist/cli.js)', () => {
  test('keeps its shebang so npm can link it as a bin', () => {
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  test('--help', () => {
    const result = cli(['--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^usage: kube-balance-exporter \[<flags>\]\n/);
    expect(result.stdout).toContain('--sample.interval=DURATION');
    expect(result.stdout).toContain('[env: KUBE_BALANCE_SAMPLE_INTERVAL]');
  });

  test('--version reads package.json relative to dist/', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(cli(['--version'])).toEqual({ code: 0, stdout: `kube-balance-exporter ${version}\n`, stderr: '' });
  });

  test('bad flags: exit 2 with every problem, no stack trace', () => {
    const result = cli(['--sample.intervall=10s', '--window=forever', '--log.level=loud']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        'kube-balance-exporter: 3 problems with the command line:',
        '  - unknown flag --sample.intervall (did you mean --sample.interval?)',
        '  - --window=forever: not a duration (use a number with a unit: 500ms, 10s, 5m, 1h30m)',
        '  - --log.level=loud: must be one of debug, info, warn, error',
        "Run 'kube-balance-exporter --help' for usage.",
        '',
      ].join('\n'),
    );
  });

  test.each([
    { args: ['--format=table'], golden: 'current-layout-counters.report.txt' },
    { args: ['--format=json'], golden: 'current-layout-counters.report.json' },
  ])('report --input FILE $args matches the golden', ({ args, golden }) => {
    const result = cli(['report', '--input', join(FIXTURES, 'current-layout-counters.txt'), ...args]);
    expect(result).toEqual({ code: 0, stdout: readFileSync(join(FIXTURES, golden), 'utf8'), stderr: '' });
  });

  test('report --input - reads stdin', () => {
    const result = cli(['report', '--input', '-', '--format=json'], readFileSync(join(FIXTURES, 'ipv6-dump.txt'), 'utf8'));
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ servicePorts: [{ service: 'web6', ipFamily: 'ipv6', connections: 20 }] });
  });

  test('report on something that is not a dump: exit 1 naming the line', () => {
    const result = cli(['report', '--input', join(FIXTURES, 'not-a-dump.txt')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^kube-balance-exporter report: .*not-a-dump\.txt is not an iptables dump: line 1 is not iptables syntax: "Hello!/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('exporter mode: SIGTERM stops it with exit 0', async () => {
    const child = spawn(
      process.execPath,
      [CLI, `--source.file=${join(FIXTURES, 'current-layout-counters.txt')}`, '--web.listen-address=127.0.0.1:0', '--log.format=json', '--no-kube.enabled'],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait for the runtime's `listening` line (it carries the port picked for :0), then check it serves.
    const address = await new Promise<string | null>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /"msg":"listening","address":"([^"]+)"/.exec(stderr);
        if (match) resolve(match[1] ?? null);
      });
      void exited.then(() => resolve(null));
    });
    expect(address, stderr).not.toBeNull();
    const health = await fetch(`http://${address}/-/healthy`);
    expect(health.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    const messages = stderr
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages[0]).toBe('starting kube-balance-exporter');
    expect(messages).toContain('shutting down');
    expect(messages.at(-1)).toBe('stopped');
  });
});
