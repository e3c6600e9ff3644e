import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDump } from '../../src/iptables/parse-dump.js';
import { buildServiceModel } from '../../src/model/build-service-model.js';
import { createLiveSource } from '../../src/source/live-source.js';
import { createCommandRunner } from '../../src/source/run-command.js';
import type { FamilyRead } from '../../src/source/sample-source.js';
import { createShimDir, FORBIDDEN_BINARIES, type ShimDir } from '../support/shims/shim-dir.js';
import { IPV4_DUMP, IPV6_DUMP, LEGACY_WARNING, MANGLE_WITH_HINT, NAT_WITHOUT_KUBE } from './dump-texts.js';

let shims: ShimDir;
beforeEach(() => {
  shims = createShimDir();
});
afterEach(() => shims.remove());

const limits = { timeoutMs: 10_000, maxOutputBytes: 1 << 20 };

function okFamilies(reads: readonly FamilyRead[]): string[] {
  return reads.map((r) => `${r.ipFamily}/${r.backend}/${r.ok ? 'ok' : 'failed'}`);
}

describe('createLiveSource', () => {
  it('detects the backend once, probes IPv6, then saves each family in turn', async () => {
    const v4 = shims.fixture('v4.txt', IPV4_DUMP);
    const v6 = shims.fixture('v6.txt', IPV6_DUMP);
    const run = createCommandRunner({
      env: shims.env({
        'iptables-nft-save': `dump:${v4}`,
        'ip6tables-nft-save': `dump:${v6}`,
      }),
    });
    // iptables-nft-save prints the v4 nat dump for `-t mangle` too: no hint there, so the probe goes on.
    const source = createLiveSource({ backend: 'auto', families: 'auto', ...limits, run, recheckEvery: 10 });
    const first = await source(new AbortController().signal);
    expect(okFamilies(first)).toEqual(['ipv4/nft/ok', 'ipv6/nft/ok']);
    const second = await source(new AbortController().signal);
    expect(okFamilies(second)).toEqual(['ipv4/nft/ok', 'ipv6/nft/ok']);
    expect(shims.calls()).toEqual([
      'iptables-nft-save -t mangle',
      'ip6tables-nft-save -t mangle',
      'iptables-legacy-save',
      'ip6tables-legacy-save',
      'ip6tables-nft-save -t nat',
      'iptables-nft-save -c -t nat',
      'ip6tables-nft-save -c -t nat',
      // Second sample: the backend is unconfirmed (no kubelet chain) but only re-checked every 10 samples.
      'iptables-nft-save -c -t nat',
      'ip6tables-nft-save -c -t nat',
    ]);
  });

  it('a confirmed legacy backend is used for the saves', async () => {
    const run = createCommandRunner({
      env: shims.env({
        'iptables-legacy-save': `dump:${shims.fixture('hint.txt', MANGLE_WITH_HINT + IPV4_DUMP)}`,
      }),
    });
    const source = createLiveSource({ backend: 'auto', families: ['ipv4'], ...limits, run });
    const reads = await source(new AbortController().signal);
    expect(okFamilies(reads)).toEqual(['ipv4/legacy/ok']);
    expect(shims.calls().at(-1)).toBe('iptables-legacy-save -c -t nat');
  });

  it('IPv6 without kube-proxy rules: IPv4 only, re-probed every N samples', async () => {
    const run = createCommandRunner({
      env: shims.env({
        'iptables-nft-save': `dump:${shims.fixture('v4.txt', IPV4_DUMP)}`,
        'ip6tables-nft-save': `dump:${shims.fixture('nat.txt', NAT_WITHOUT_KUBE)}`,
      }),
    });
    const source = createLiveSource({ backend: 'nft', families: 'auto', ...limits, run, recheckEvery: 2 });
    for (let i = 0; i < 4; i++) expect(okFamilies(await source(new AbortController().signal))).toEqual(['ipv4/nft/ok']);
    expect(shims.calls().filter((c) => c === 'ip6tables-nft-save -t nat')).toHaveLength(2);
  });

  it('reports a failing family without failing the others', async () => {
    const run = createCommandRunner({
      env: shims.env({
        'iptables-nft-save': `dump:${shims.fixture('v4.txt', `${LEGACY_WARNING}\n${IPV4_DUMP}`)}`,
        'ip6tables-nft-save': 'fail:1:ip6tables-save: Permission denied (you must be root)',
      }),
    });
    const source = createLiveSource({ backend: 'nft', families: ['ipv4', 'ipv6'], ...limits, run });
    const reads = await source(new AbortController().signal);
    expect(okFamilies(reads)).toEqual(['ipv4/nft/ok', 'ipv6/nft/failed']);
    const failed = reads[1];
    expect(failed?.ok === false && failed.stage).toBe('save');
    expect(failed?.ok === false && failed.error.message).toContain('needs root');
  });

  it('an abort rejects instead of reporting a failure', async () => {
    const run = createCommandRunner({ env: shims.env({ default: 'hang' }) });
    const source = createLiveSource({ backend: 'nft', families: ['ipv4'], ...limits, run });
    const controller = new AbortController();
    const pending = source(controller.signal);
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('runs nothing but read-only *-save commands, with fixed arguments', async () => {
    // Every rule-changing or lock-taking tool is on PATH as a logging shim too: none of them may run.
    const run = createCommandRunner({
      env: shims.env({ 'iptables-nft-save': `dump:${shims.fixture('v4.txt', IPV4_DUMP)}`, 'ip6tables-nft-save': `dump:${shims.fixture('v6.txt', IPV6_DUMP)}` }),
    });
    for (const backend of ['auto', 'nft', 'legacy'] as const) {
      const source = createLiveSource({ backend, families: 'auto', ...limits, run, recheckEvery: 1 });
      for (let i = 0; i < 3; i++) await source(new AbortController().signal);
    }
    const calls = shims.calls();
    expect(calls.length).toBeGreaterThan(10);
    for (const call of calls) {
      const [binary] = call.split(' ');
      expect(FORBIDDEN_BINARIES).not.toContain(binary);
      expect(call).toMatch(/^ip6?tables-(nft|legacy)-save(| -c -t nat| -t nat| -t mangle)$/);
      expect(call).not.toMatch(/legacy-save -t/);
    }
  });

  describe('counter refresh', () => {
    const recount = (text: string, add: number): string => text.replace(/^\[(\d+):(\d+)\]/gm, (_m, p: string, b: string) => `[${Number(p) + add}:${b}]`);
    const connections = (read: FamilyRead | undefined): (number | null)[] => {
      if (read === undefined || !read.ok || read.model === undefined) throw new Error('no model in the read');
      return read.model.ladders.flatMap((l) => l.endpoints.map((e) => e.connections));
    };
    const saves = (): number => shims.calls().filter((c) => c === 'iptables-nft-save -c -t nat').length;

    it('reads counters only while the rules stay the same, and parses again (one extra save) when they change', async () => {
      const file = shims.fixture('v4.txt', IPV4_DUMP);
      const run = createCommandRunner({ env: shims.env({ 'iptables-nft-save': `dump:${file}` }) });
      const source = createLiveSource({ backend: 'nft', families: ['ipv4'], ...limits, run });
      const sample = async (): Promise<FamilyRead | undefined> => (await source(new AbortController().signal))[0];

      const kind = (read: FamilyRead | undefined): string | undefined => (read?.ok ? read.readKind : 'failed');
      const first = await sample();
      expect(connections(first)).toEqual([30, 10]);
      expect(kind(first)).toBe('parsed');
      // With the model built, a parsed read hands on its findings, not its rules nor its folded SEP chains.
      const firstNat = first?.ok ? first.dump.tables.get('nat') : undefined;
      expect(firstNat?.chains.has('KUBE-SERVICES')).toBe(true);
      expect(firstNat?.chains.get('KUBE-SVC-ABCDEFGHIJKLMNOP')).toBeUndefined();
      expect(first?.ok && first.folded).toBeUndefined();
      writeFileSync(file, recount(IPV4_DUMP, 5));
      const second = await sample();
      expect(connections(second)).toEqual([35, 15]);
      // The first parsed read is trusted to hold (one parse at start-up): from now on a read is scanned only.
      expect(kind(second)).toBe('refreshed');
      writeFileSync(file, recount(IPV4_DUMP, 9));
      const third = await sample();
      expect(connections(third)).toEqual([39, 19]);
      expect(kind(third)).toBe('refreshed');
      expect(third?.ok && third.dump.tables.get('nat')?.chains.get('KUBE-SVC-ABCDEFGHIJKLMNOP')).toBeUndefined();
      expect(saves()).toBe(3);

      // kube-proxy drops endpoint B: the scan sees other rules, the source saves again and parses.
      const oneEndpoint = recount(IPV4_DUMP, 20)
        .replace(/^.*-j KUBE-SEP-BBBBBBBBBBBBBBBB\n/m, '')
        .replace('--probability 0.50000000000 ', '');
      writeFileSync(file, oneEndpoint);
      const fourth = await sample();
      expect(connections(fourth)).toEqual([50]);
      expect(kind(fourth)).toBe('reparsed');
      expect(saves()).toBe(5);
      // The first change in a while is isolated: the next read is scanned only.
      writeFileSync(file, recount(oneEndpoint, 1));
      const fifth = await sample();
      expect(connections(fifth)).toEqual([51]);
      expect(kind(fifth)).toBe('refreshed');
      expect(saves()).toBe(6);
      // A second change soon after is churn: after its second save, reads parse until the rules hold
      // still for two reads.
      writeFileSync(file, recount(IPV4_DUMP, 30));
      expect(kind(await sample())).toBe('reparsed');
      writeFileSync(file, recount(IPV4_DUMP, 31));
      expect(kind(await sample())).toBe('parsed');
      writeFileSync(file, recount(IPV4_DUMP, 32));
      const last = await sample();
      expect(kind(last)).toBe('refreshed');
      expect(connections(last)).toEqual([62, 42]);
      expect(saves()).toBe(10);
    });

    it('--sample.refresh-counters=false parses every read', async () => {
      const file = shims.fixture('v4.txt', IPV4_DUMP);
      const run = createCommandRunner({ env: shims.env({ 'iptables-nft-save': `dump:${file}` }) });
      const source = createLiveSource({ backend: 'nft', families: ['ipv4'], ...limits, run, refreshCounters: false });
      for (let i = 0; i < 3; i++) {
        const read = (await source(new AbortController().signal))[0];
        expect(read?.ok && read.model).toBe(undefined);
        // The ladder chain stays in the dump; its rules (a masquerade rule, two jumps to KUBE-SEP chains) are folded.
        expect(read?.ok && read.dump.tables.get('nat')?.chains.get('KUBE-SVC-ABCDEFGHIJKLMNOP')?.rules.length).toBe(0);
        expect(read?.ok && read.folded?.ladderChains.get('KUBE-SVC-ABCDEFGHIJKLMNOP')?.rules.length).toBe(2);
      }
      expect(saves()).toBe(3);
    });

    it('a parse after the first skips the KUBE-SEP chains the last parse folded, and parses a changed one', async () => {
      const file = shims.fixture('v4.txt', IPV4_DUMP);
      const run = createCommandRunner({ env: shims.env({ 'iptables-nft-save': `dump:${file}` }) });
      const source = createLiveSource({ backend: 'nft', families: ['ipv4'], ...limits, run, refreshCounters: false });
      const folded = async () => {
        const read = (await source(new AbortController().signal))[0];
        if (read === undefined || !read.ok || read.folded === undefined) throw new Error('no folded chains in the read');
        return read.folded;
      };
      expect((await folded()).reusedEndpointChains).toBe(0);
      expect((await folded()).reusedEndpointChains).toBe(2);
      // kube-proxy rewrote KUBE-SEP-BBBBBBBBBBBBBBBB's DNAT (the same name: a hand edit or a new port).
      writeFileSync(file, recount(IPV4_DUMP, 5).replace('--to-destination 10.244.2.3:8080', '--to-destination 10.244.2.3:9090'));
      const changed = await folded();
      expect(changed.reusedEndpointChains).toBe(1);
      expect(changed.endpointChains.get('KUBE-SEP-AAAAAAAAAAAAAAAA')?.dnat).toBe('10.244.1.2:8080');
      expect(changed.endpointChains.get('KUBE-SEP-BBBBBBBBBBBBBBBB')?.dnat).toBe('10.244.2.3:9090');
      expect((await folded()).reusedEndpointChains).toBe(2);
    });

    it('a parse after the first resumes the ladder chains the last build recorded, with this read’s counters', async () => {
      const file = shims.fixture('v4.txt', IPV4_DUMP);
      const run = createCommandRunner({ env: shims.env({ 'iptables-nft-save': `dump:${file}` }) });
      const source = createLiveSource({ backend: 'nft', families: ['ipv4'], ...limits, run, refreshCounters: false });
      const read = async () => {
        const family = (await source(new AbortController().signal))[0];
        if (family === undefined || !family.ok || family.folded === undefined) throw new Error('no folded chains in the read');
        // As the sampler builds it: releasing the folds, which records the ladder cache.
        const model = buildServiceModel(family.dump, 'ipv4', { ...family.folded, releaseFolds: true });
        return { folded: family.folded, model };
      };
      expect((await read()).folded.reusedLadderChains).toBe(0);
      writeFileSync(file, recount(IPV4_DUMP, 5));
      const second = await read();
      expect(second.folded.reusedLadderChains).toBe(1);
      expect(second.model).toStrictEqual(buildServiceModel(parseDump(recount(IPV4_DUMP, 5)), 'ipv4'));
      expect(second.model.ladders[0]?.endpoints.map((e) => e.connections)).toEqual([35, 15]);
    });
  });
});
