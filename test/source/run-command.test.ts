import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseProcStatCpuSeconds } from '../../src/source/proc-cpu.js';
import { createCommandRunner } from '../../src/source/run-command.js';
import { assertReadOnlySaveCommand, familyProbeCommand, hintProbeCommand, natSaveCommand } from '../../src/source/save-command.js';
import { createShimDir, type ShimDir } from '../support/shims/shim-dir.js';

let shims: ShimDir;
beforeEach(() => {
  shims = createShimDir();
});
afterEach(() => shims.remove());

describe('the command allowlist', () => {
  it.each([
    { file: 'iptables', args: ['-t', 'nat', '-F'] },
    { file: 'iptables-restore', args: [] },
    { file: 'iptables-nft-save', args: ['-t', 'nat', '-M', '/tmp/x'] },
    { file: 'iptables-save', args: ['-c', '-t', 'nat'] },
    { file: '/usr/sbin/iptables-nft-save', args: ['-c', '-t', 'nat'] },
    { file: 'sh', args: ['-c', 'iptables-nft-save'] },
  ])('refuses $file $args before running anything', async (command) => {
    const run = createCommandRunner({ env: shims.env({}) });
    await expect(run({ command, timeoutMs: 1000, maxOutputBytes: 1000, onStdout: () => {} })).rejects.toThrow(/refusing to run/);
    expect(shims.calls()).toEqual([]);
  });

  it('allows every command the exporter builds', () => {
    for (const family of ['ipv4', 'ipv6'] as const) {
      for (const backend of ['nft', 'legacy'] as const) {
        expect(() => assertReadOnlySaveCommand(natSaveCommand(family, backend))).not.toThrow();
        expect(() => assertReadOnlySaveCommand(hintProbeCommand(family, backend))).not.toThrow();
        expect(() => assertReadOnlySaveCommand(familyProbeCommand(family, backend))).not.toThrow();
      }
    }
  });

  it('never uses -t mangle or -t nat on legacy probes (the kernel would create the table)', () => {
    expect(hintProbeCommand('ipv4', 'legacy').args).toEqual([]);
    expect(familyProbeCommand('ipv6', 'legacy').args).toEqual([]);
    expect(hintProbeCommand('ipv6', 'nft').args).toEqual(['-t', 'mangle']);
    expect(familyProbeCommand('ipv6', 'nft').args).toEqual(['-t', 'nat']);
  });
});

describe.each([
  { how: 'through the socket', stdoutSocket: true },
  { how: 'through a pipe (the fallback)', stdoutSocket: false },
])('a save\'s stdout, $how', ({ stdoutSocket }) => {
  it('is handed on whole and in order, at most a slice of time per turn of the event loop', async () => {
    // 2 MiB of numbered lines: what a fast child leaves in the pipe faster than it is read.
    const lines = Array.from({ length: 60_000 }, (_, i) => `-A KUBE-SVC-X -m comment --comment "line ${i}"`);
    const text = `${lines.join('\n')}\n`;
    const file = shims.fixture('big.txt', text);
    // Every piece costs 10 ms on the runner's clock: a 20 ms slice hands on two pieces a turn.
    let clock = 0;
    const run = createCommandRunner({ env: shims.env({ default: `dump:${file}` }), now: () => clock, stdoutSocket });
    const piecesPerTurn: number[] = [0];
    let running = true;
    const tick = (): void => {
      if (!running) return;
      piecesPerTurn.push(0);
      setImmediate(tick);
    };
    setImmediate(tick);
    const received: Buffer[] = [];
    const stores = new Set<ArrayBufferLike>();
    const result = await run({
      command: natSaveCommand('ipv4', 'legacy'),
      timeoutMs: 60_000,
      maxOutputBytes: 10 * 2 ** 20,
      onStdout: () => {
        throw new Error('bytes were asked for');
      },
      onStdoutBytes: (piece) => {
        clock += 10;
        received.push(Buffer.from(piece));
        stores.add(piece.buffer);
        piecesPerTurn[piecesPerTurn.length - 1] = (piecesPerTurn.at(-1) ?? 0) + 1;
      },
    });
    running = false;
    expect(Buffer.concat(received).toString()).toBe(text);
    expect(result.outputBytes).toBe(Buffer.byteLength(text));
    // 64 KiB pipe reads are cut into 16 KiB pieces: a turn never ran more than two of them.
    expect(Math.max(...piecesPerTurn)).toBe(2);
    expect(received.every((piece) => piece.length <= 16 * 1024)).toBe(true);
    // Through the socket: read into one reused buffer (stdout-socket.ts), not a new 64 KiB store per
    // read; the pacing paused the reads while pieces waited, or the copies above would not be the text.
    if (stdoutSocket) expect(stores.size).toBe(1);
    else expect(stores.size).toBeGreaterThan(8);
  });
});

describe('parseProcStatCpuSeconds', () => {
  it('adds utime and stime in clock ticks, with a comm that contains spaces and parentheses', () => {
    const stat = '4242 (weird) name)) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 30 0 0 20 0 1 0 12345 1000 100';
    expect(parseProcStatCpuSeconds(stat)).toBeCloseTo(2.8);
  });
  it('returns null for something else', () => {
    expect(parseProcStatCpuSeconds('garbage')).toBeNull();
  });
});
