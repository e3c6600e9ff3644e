import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildServiceModel } from '../../src/model/build-service-model.js';
import { runIptablesSave } from '../../src/source/iptables-save.js';
import { createCommandRunner } from '../../src/source/run-command.js';
import { SaveError } from '../../src/source/save-error.js';
import { createShimDir, SAVE_BINARIES, type ShimDir } from '../support/shims/shim-dir.js';
import { IPV4_DUMP, IPV6_DUMP, LEGACY_WARNING, TRUNCATED_DUMP } from './dump-texts.js';

let shims: ShimDir;
beforeEach(() => {
  shims = createShimDir();
});
afterEach(() => shims.remove());

function runnerWith(modes: Record<string, string>) {
  return createCommandRunner({ env: shims.env(modes) });
}

async function saveError(promise: Promise<unknown>): Promise<SaveError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SaveError);
  return error as SaveError;
}

const base = { timeoutMs: 10_000, maxOutputBytes: 1024 * 1024 };

describe('runIptablesSave', () => {
  it('runs exactly `iptables-nft-save -c -t nat` and parses what it prints', async () => {
    const run = runnerWith({ 'iptables-nft-save': `dump:${shims.fixture('v4.txt', IPV4_DUMP)}` });
    const result = await runIptablesSave({ ...base, ipFamily: 'ipv4', backend: 'nft', run });

    expect(shims.calls()).toEqual(['iptables-nft-save -c -t nat']);
    expect(result.command).toBe('iptables-nft-save -c -t nat');
    expect(result.outputBytes).toBe(Buffer.byteLength(IPV4_DUMP));
    const svc = result.dump.tables.get('nat')?.chains.get('KUBE-SVC-ABCDEFGHIJKLMNOP');
    expect(svc?.rules.map((r) => r.counters?.packets)).toEqual([0, 30, 10]);
    expect(result.dump.skipped).toEqual([]);
    expect(result.durationSeconds).toBeGreaterThanOrEqual(0);
    // Measured from /proc/<pid>/stat on Linux; null only where /proc is unavailable.
    expect(result.cpuSeconds === null || result.cpuSeconds >= 0).toBe(true);
  });

  it('with foldChains, folds the KUBE-SEP chains and the ladders\' jumps to them instead of keeping them (same model)', async () => {
    const run = runnerWith({ 'iptables-nft-save': `dump:${shims.fixture('v4.txt', IPV4_DUMP)}` });
    const plain = await runIptablesSave({ ...base, ipFamily: 'ipv4', backend: 'nft', run });
    const folded = await runIptablesSave({ ...base, ipFamily: 'ipv4', backend: 'nft', run, foldChains: true });
    expect(plain.folded).toBeUndefined();
    expect(folded.folded?.endpointChains.size).toBeGreaterThan(0);
    expect(folded.folded?.ladderChains.size).toBeGreaterThan(0);
    for (const [name, chain] of folded.dump.tables.get('nat')?.chains ?? []) {
      if (name.startsWith('KUBE-SEP-')) expect(chain.rules).toEqual([]);
      for (const rule of chain.rules) expect(rule.target?.startsWith('KUBE-SEP-')).toBe(false);
    }
    expect(buildServiceModel(folded.dump, 'ipv4', folded.folded)).toStrictEqual(buildServiceModel(plain.dump, 'ipv4'));
  });

  it.each([
    ['ipv4', 'legacy', 'iptables-legacy-save -c -t nat'],
    ['ipv6', 'nft', 'ip6tables-nft-save -c -t nat'],
    ['ipv6', 'legacy', 'ip6tables-legacy-save -c -t nat'],
  ] as const)('%s/%s runs %s', async (ipFamily, backend, expected) => {
    const run = runnerWith({ default: `dump:${shims.fixture('v6.txt', IPV6_DUMP)}` });
    await runIptablesSave({ ...base, ipFamily, backend, run });
    expect(shims.calls()).toEqual([expected]);
  });

  it('streams chunks into the parser instead of buffering the output', async () => {
    const big = IPV4_DUMP.replace('COMMIT', `${'# padding line to make the output span many pipe reads\n'.repeat(20_000)}COMMIT`);
    const run = runnerWith({ default: `dump:${shims.fixture('big.txt', big)}` });
    const chunks: string[] = [];
    const result = await runIptablesSave({
      ...base,
      maxOutputBytes: 8 * 1024 * 1024,
      ipFamily: 'ipv4',
      backend: 'nft',
      run,
      createParser: () => ({
        push: (chunk) => chunks.push(chunk),
        end: () => ({ tables: new Map(), skipped: [], hasCounters: false, lineCount: 0, truncated: false, warnings: [] }),
      }),
    });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toBe(big);
    expect(result.outputBytes).toBe(Buffer.byteLength(big));
  });

  it('keeps UTF-8 characters whole across chunk boundaries', async () => {
    const text = IPV4_DUMP.replace('"kubernetes service portals"', `"${'é'.repeat(70_000)}"`);
    const run = runnerWith({ default: `dump:${shims.fixture('utf8.txt', text)}` });
    const chunks: string[] = [];
    await runIptablesSave({
      ...base,
      ipFamily: 'ipv4',
      backend: 'nft',
      run,
      createParser: () => ({
        push: (chunk) => chunks.push(chunk),
        end: () => ({ tables: new Map(), skipped: [], hasCounters: false, lineCount: 0, truncated: false, warnings: [] }),
      }),
    });
    expect(chunks.join('')).toBe(text);
  });

  it('accepts the legacy-tables-present warning and reports it', async () => {
    const run = runnerWith({ default: `dump:${shims.fixture('warn.txt', `${LEGACY_WARNING}\n${IPV4_DUMP}`)}` });
    const result = await runIptablesSave({ ...base, ipFamily: 'ipv4', backend: 'nft', run });
    expect(result.dump.tables.get('nat')?.chains.has('KUBE-SERVICES')).toBe(true);
    expect(result.dump.warnings.some((w) => w.includes('iptables-legacy tables present'))).toBe(true);
  });

  it('reads an empty output (no nat table) as an empty dump', async () => {
    const run = runnerWith({ default: 'empty' });
    const result = await runIptablesSave({ ...base, ipFamily: 'ipv6', backend: 'nft', run });
    expect(result.dump.tables.size).toBe(0);
  });

  it('ENOENT_BINARY with the install hint when the binary is missing', async () => {
    const only = createShimDir(SAVE_BINARIES.filter((b) => b !== 'iptables-legacy-save'));
    try {
      const run = createCommandRunner({ env: only.env({}) });
      const error = await saveError(runIptablesSave({ ...base, ipFamily: 'ipv4', backend: 'legacy', run }));
      expect(error.code).toBe('ENOENT_BINARY');
      expect(error.message).toContain('iptables-save not found: install the iptables package');
      expect(error.context.command).toBe('iptables-legacy-save -c -t nat');
    } finally {
      only.remove();
    }
  });

  it('PERMISSION with the privilege hint when iptables says you must be root', async () => {
    const stderr = 'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)';
    const run = runnerWith({ default: `fail:4:${stderr}` });
    const error = await saveError(runIptablesSave({ ...base, ipFamily: 'ipv4', backend: 'nft', run }));
    expect(error.code).toBe('PERMISSION');
    expect(error.message).toContain('needs root or CAP_NET_ADMIN + CAP_NET_RAW');
    expect(error.context.stderrTail).toBe(stderr);
    expect(error.context.exitCode).toBe(4);
  });

  it('EXIT with the exit code and the stderr tail', async () => {
    const run = runnerWith({ default: "fail:2:iptables-save: can't initialize iptables table `nat': Table does not exist" });
    const error = await saveError(runIptablesSave({ ...base, ipFamily: 'ipv4', backend: 'nft', run }));
    expect(error.code).toBe('EXIT');
    expect(error.context.exitCode).toBe(2);
    expect(error.message).toContain('exited with code 2');
    expect(error.message).toContain('Table does not exist');
  });

  it('keeps only a bounded tail of a long stderr', async () => {
    const run = createCommandRunner({ env: shims.env({ default: `fail:1:${'x'.repeat(5000)}END` }), stderrTailBytes: 100 });
    const error = await saveError(runIptablesSave({ ...base, ipFamily: 'ipv4', backend: 'nft', run }));
    expect(error.context.stderrTail?.length).toBeLessThanOrEqual(100);
    expect(error.context.stderrTail?.endsWith('END')).toBe(true);
  });

  it('TIMEOUT: kills a save that hangs', async () => {
    const run = runnerWith({ default: 'hang' });
    const error = await saveError(runIptablesSave({ ...base, timeoutMs: 300, ipFamily: 'ipv4', backend: 'nft', run }));
    expect(error.code).toBe('TIMEOUT');
    expect(error.context.signal).toBe('SIGKILL');
  });

  it('OUTPUT_TOO_LARGE: kills a save that prints more than the bound', async () => {
    const run = runnerWith({ default: 'flood' });
    const error = await saveError(runIptablesSave({ ...base, maxOutputBytes: 256 * 1024, ipFamily: 'ipv4', backend: 'nft', run }));
    expect(error.code).toBe('OUTPUT_TOO_LARGE');
    expect(error.context.outputBytes).toBeGreaterThan(256 * 1024);
  });

  it('TRUNCATED: output that stops before COMMIT', async () => {
    const run = runnerWith({ default: `dump:${shims.fixture('cut.txt', TRUNCATED_DUMP)}` });
    const error = await saveError(runIptablesSave({ ...base, ipFamily: 'ipv4', backend: 'nft', run }));
    expect(error.code).toBe('TRUNCATED');
    expect(error.message).toContain('does not end with COMMIT');
  });

  it('TRUNCATED: garbage that is not iptables-save output', async () => {
    const run = runnerWith({ default: `dump:${shims.fixture('junk.txt', 'Segmentation fault\n$ whoami\nroot\n')}` });
    const error = await saveError(runIptablesSave({ ...base, ipFamily: 'ipv4', backend: 'nft', run }));
    expect(error.code).toBe('TRUNCATED');
    expect(error.message).toContain('"root"');
  });

  it('ABORTED: the caller aborts an in-flight save, and the child is killed', async () => {
    const run = runnerWith({ default: 'hang' });
    const controller = new AbortController();
    const pending = runIptablesSave({ ...base, timeoutMs: 60_000, ipFamily: 'ipv4', backend: 'nft', run, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const error = await saveError(pending);
    expect(error.code).toBe('ABORTED');
    expect(error.context.signal).toBe('SIGKILL');
  });

  it('PARSE: a parser that throws stops the child and is reported as such', async () => {
    const run = runnerWith({ default: `dump:${shims.fixture('v4.txt', IPV4_DUMP)}` });
    const error = await saveError(
      runIptablesSave({
        ...base,
        ipFamily: 'ipv4',
        backend: 'nft',
        run,
        createParser: () => ({
          push: () => {
            throw new Error('parser bug');
          },
          end: () => {
            throw new Error('unreachable');
          },
        }),
      }),
    );
    expect(error.code).toBe('PARSE');
    expect((error.cause as Error).message).toBe('parser bug');
  });
});
