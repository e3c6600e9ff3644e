import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConntrackCollector } from '../../src/conntrack/collector.js';
import { conntrackListCommand } from '../../src/conntrack/commands.js';
import { readConntrackAccounting } from '../../src/conntrack/read-conntrack.js';
import type { CommandRunner } from '../../src/source/run-command.js';
import { assertReadOnlySaveCommand, formatCommand } from '../../src/source/save-command.js';
import { SaveError } from '../../src/source/save-error.js';
import { fakeRunner as scriptedRunner } from '../support/fake-runner.js';
import { FIXTURE_LADDERS } from './ladders.js';

const TABLE = readFileSync(new URL('./fixtures/acct-on-mixed-table.txt', import.meta.url), 'utf8');
const V6 = readFileSync(new URL('./fixtures/ipv6-flows.txt', import.meta.url), 'utf8');

/** The shared scripted runner (test/support/fake-runner.ts) with this file's chunking. */
function fakeRunner(outputs: Record<string, string | Error>, calls: string[] = []): CommandRunner {
  return scriptedRunner(outputs, calls, { chunkSize: 37, cpuSeconds: null });
}

const V4 = formatCommand(conntrackListCommand('ipv4'));
const V6CMD = formatCommand(conntrackListCommand('ipv6'));

function collector(run: CommandRunner, extra: Partial<ConstructorParameters<typeof ConntrackCollector>[0]> = {}): ConntrackCollector {
  let t = 1_700_000_000_000;
  return new ConntrackCollector({ run, timeoutMs: 1000, maxEntries: 1000, maxOutputBytes: 1 << 20, readAccounting: () => true, now: () => (t += 5), ...extra });
}

describe('ConntrackCollector', () => {
  it('lists each family the model uses and summarizes', async () => {
    const calls: string[] = [];
    const scan = await collector(fakeRunner({ [V4]: TABLE, [V6CMD]: V6 }, calls)).scan(FIXTURE_LADDERS);
    expect(calls).toEqual(['conntrack -L -o extended,id', 'conntrack -L -f ipv6 -o extended,id']);
    expect(scan).toMatchObject({ ok: true, error: null, accounting: true, truncated: false, entriesScanned: 11, entriesMatched: 7 });
    expect(scan.servicePorts.map((s) => s.labels.service)).toEqual(['frontend', 'kube-dns', 'cart']);
    expect(Object.isFrozen(scan)).toBe(true);
  });

  it('skips the ipv6 listing when the model has no ipv6 service ports', async () => {
    const calls: string[] = [];
    await collector(fakeRunner({ [V4]: TABLE }, calls)).scan(FIXTURE_LADDERS.filter((l) => l.ipFamily === 'ipv4'));
    expect(calls).toEqual([V4]);
  });

  it('marks a scan that hit --conntrack.max-entries as truncated and keeps what it read', async () => {
    const scan = await collector(fakeRunner({ [V4]: TABLE, [V6CMD]: V6 }), { maxEntries: 4 }).scan(FIXTURE_LADDERS);
    expect(scan).toMatchObject({ ok: true, truncated: true, entriesScanned: 4, entriesMatched: 4 });
  });

  it('reports a missing conntrack binary clearly, with no per-endpoint data', async () => {
    const missing = new SaveError('ENOENT_BINARY', 'conntrack not found on PATH', { command: V4 });
    const scan = await collector(fakeRunner({ [V4]: missing })).scan(FIXTURE_LADDERS);
    expect(scan.ok).toBe(false);
    expect(scan.error).toMatch(/install the conntrack tool/);
    expect(scan.servicePorts).toEqual([]);
  });

  it('counts new flows between scans when asked (nftables mode)', async () => {
    const outputs: Record<string, string> = { [V4]: TABLE.split('\n').slice(0, 2).join('\n') };
    const c = collector(fakeRunner(outputs), { countNewFlows: true });
    const first = await c.scan(FIXTURE_LADDERS.slice(0, 1));
    expect(first.servicePorts[0]?.endpoints.map((e) => e.newFlowsTotal)).toEqual([0, 0, 0]);
    outputs[V4] = TABLE; // 1001 and 1002 again, plus new 1003 (to .2.9) and 1004 (to .3.4)
    const second = await c.scan(FIXTURE_LADDERS.slice(0, 1));
    expect(second.servicePorts[0]?.endpoints.map((e) => e.newFlowsTotal)).toEqual([0, 1, 1]);
  });
});

describe('read-only commands', () => {
  it('allows exactly the conntrack and nft listings', () => {
    for (const family of ['ipv4', 'ipv6'] as const) expect(() => assertReadOnlySaveCommand(conntrackListCommand(family))).not.toThrow();
    expect(() => assertReadOnlySaveCommand({ file: 'nft', args: ['-j', 'list', 'table', 'ip', 'kube-proxy'] })).not.toThrow();
    expect(() => assertReadOnlySaveCommand({ file: 'nft', args: ['-j', 'list', 'table', 'ip6', 'kube-proxy'] })).not.toThrow();
    for (const args of [['-F'], ['-D', '-s', '10.0.0.1'], ['-L', '-o extended,id'], ['-E'], ['-L', '-o', 'extended,id', '-D']]) {
      expect(() => assertReadOnlySaveCommand({ file: 'conntrack', args })).toThrow(/refusing/);
    }
    expect(() => assertReadOnlySaveCommand({ file: 'nft', args: ['flush', 'ruleset'] })).toThrow(/refusing/);
    expect(() => assertReadOnlySaveCommand({ file: 'nft', args: ['-j', 'list', 'ruleset'] })).toThrow(/refusing/);
  });
});

describe('readConntrackAccounting', () => {
  it.each([
    ['1\n', true],
    ['0\n', false],
    ['garbage', null],
  ])('%j → %s', (text, expected) => {
    expect(readConntrackAccounting(() => text)).toBe(expected);
  });

  it('is null when the file cannot be read', () => {
    expect(
      readConntrackAccounting(() => {
        throw new Error('ENOENT');
      }),
    ).toBeNull();
  });
});
