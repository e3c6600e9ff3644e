/**
 * The runtime side of kube-proxy nftables mode, with fake commands: the nftables sample source (nft
 * listing + conntrack scan → ladders with counts), per-ladder counters across vmap rewrites, and the
 * --proxy.mode switch between iptables and nftables.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ANALYSIS_OPTIONS, analyze } from '../../src/analysis/analyze.js';
import type { AnalysisState } from '../../src/analysis/types.js';
import type { ExporterConfig } from '../../src/config.js';
import { startConntrackView } from '../../src/conntrack/start.js';
import type { ConntrackSnapshot } from '../../src/conntrack/types.js';
import { silentLogger } from '../../src/logger-types.js';
import type { MetricsPage } from '../../src/metrics/metrics-page.js';
import type { Sampler } from '../../src/sampler.js';
import type { Snapshot } from '../../src/snapshot.js';
import type { ParsedDump } from '../../src/iptables/types.js';
import type { Ladder, ServiceModel } from '../../src/model/types.js';
import { LadderConnectionCounter } from '../../src/nftables/new-connections.js';
import { parseKubeProxyTable } from '../../src/nftables/parse-kube-proxy-table.js';
import { createNftablesSource, type NftablesSource } from '../../src/source/nftables-source.js';
import { createProxyModeSource, isProxyModeSource } from '../../src/source/proxy-mode.js';
import type { CommandRunner } from '../../src/source/run-command.js';
import type { FamilyRead, FamilyReadOk, SampleSource } from '../../src/source/sample-source.js';
import { SaveError } from '../../src/source/save-error.js';
import { fakeRunner as scriptedRunner } from '../support/fake-runner.js';

const SKEWED_TEXT = readFileSync(new URL('./fixtures/skewed-vmap-nodeport.json', import.meta.url), 'utf8');
const NFT4 = 'nft -j list table ip kube-proxy';
const NFT6 = 'nft -j list table ip6 kube-proxy';
const CT4 = 'conntrack -L -o extended,id';
const EP1 = '10.244.1.2:80';
const EP2 = '10.244.1.3:80';

/** One TIME_WAIT flow through the fixture's ClusterIP 10.96.0.10:80 to `endpoint`. */
function flow(id: number, endpoint: string): string {
  const [ip, port] = endpoint.split(':');
  const sport = 30000 + id;
  return `ipv4     2 tcp      6 117 TIME_WAIT src=10.0.0.5 dst=10.96.0.10 sport=${sport} dport=80 src=${ip} dst=10.0.0.5 sport=${port} dport=${sport} [ASSURED] mark=0 use=1 id=${id}`;
}

function table(flows: readonly [number, string][]): string {
  return `${flows.map(([id, ep]) => flow(id, ep)).join('\n')}\n`;
}

const NO_TABLE = (command: string): SaveError => new SaveError('EXIT', 'exited with 1', { command, exitCode: 1, stderrTail: 'Error: No such file or directory; did you mean table ‘filter’ in family ip?' });

/** The shared scripted runner (test/support/fake-runner.ts) with this file's chunking. */
function fakeRunner(outputs: Record<string, string | Error>, calls: string[] = []): CommandRunner {
  return scriptedRunner(outputs, calls, { chunkSize: 53, cpuSeconds: 0.005 });
}

function nftSource(run: CommandRunner): NftablesSource {
  return createNftablesSource({ run, families: 'auto', timeoutMs: 1000, maxOutputBytes: 1 << 20, conntrackTimeoutMs: 1000, conntrackMaxEntries: 10_000, readAccounting: () => false });
}

const signal = new AbortController().signal;

function counts(reads: readonly FamilyRead[]): Record<string, number | null> {
  const read = reads.find((r): r is FamilyReadOk => r.ok && r.ipFamily === 'ipv4');
  return Object.fromEntries(read?.model?.ladders[0]?.endpoints.map((e) => [e.endpoint ?? '', e.connections]) ?? []);
}

describe('nftables sample source', () => {
  it('reads the table, takes the first conntrack scan as a baseline, then counts new flows per endpoint', async () => {
    const calls: string[] = [];
    const outputs: Record<string, string | Error> = { [NFT4]: SKEWED_TEXT, [NFT6]: NO_TABLE(NFT6), [CT4]: table([[1, EP1]]) };
    const source = nftSource(fakeRunner(outputs, calls));

    const first = await source.sample(signal);
    expect(first.found).toBe(true);
    expect(calls).toEqual([NFT4, NFT6, CT4]); // no IPv6 table: no IPv6 listing
    expect(first.reads).toHaveLength(1); // auto families: ipv6 has no table, so it is not sampled
    expect(first.reads[0]).toMatchObject({ ok: true, ipFamily: 'ipv4', backend: 'nft', proxyMode: 'nftables', command: `${NFT4} + ${CT4}` });
    expect(counts(first.reads)).toEqual({ [EP1]: 0, [EP2]: 0 });
    expect((first.reads[0] as FamilyReadOk).model?.hasCounters).toBe(true);

    // Flow 1 is still there (TIME_WAIT), 2-4 are new.
    outputs[CT4] = table([[1, EP1], [2, EP1], [3, EP2], [4, EP1]]);
    expect(counts((await source.sample(signal)).reads)).toEqual({ [EP1]: 2, [EP2]: 1 });
    // Flow 1 expired, 5 is new: counters are cumulative, like rule counters.
    outputs[CT4] = table([[2, EP1], [3, EP2], [4, EP1], [5, EP2]]);
    expect(counts((await source.sample(signal)).reads)).toEqual({ [EP1]: 2, [EP2]: 2 });
    expect(source.latestScan?.servicePorts[0]?.endpoints.map((e) => e.all)).toEqual([2, 2]);
  });

  it('fails the family (the sampler keeps the last good model) when conntrack cannot be listed', async () => {
    const source = nftSource(fakeRunner({ [NFT4]: SKEWED_TEXT, [NFT6]: NO_TABLE(NFT6), [CT4]: new SaveError('ENOENT_BINARY', 'conntrack not found on PATH', { command: CT4 }) }));
    const { reads, found } = await source.sample(signal);
    expect(found).toBe(true);
    expect(reads[0]).toMatchObject({ ok: false, stage: 'save', ipFamily: 'ipv4', proxyMode: 'nftables' });
    expect(reads[0]?.ok === false && reads[0].error.message).toMatch(/conntrack scan failed.*conntrack not found on PATH/);
  });

  it('says so when there is no kube-proxy table at all, and names a missing nft binary', async () => {
    const none = await nftSource(fakeRunner({ [NFT4]: NO_TABLE(NFT4), [NFT6]: NO_TABLE(NFT6) })).sample(signal);
    expect(none.found).toBe(false);
    expect(none.reads.map((r) => [r.ipFamily, r.ok, r.ok ? '' : r.error.message])).toEqual([['ipv4', false, `${NFT4}: table ip kube-proxy does not exist: is kube-proxy running in nftables mode?`]]);
    const missing = new SaveError('ENOENT_BINARY', 'nft not found on PATH', { command: NFT4 });
    const noNft = await nftSource(fakeRunner({ [NFT4]: missing, [NFT6]: missing })).sample(signal);
    expect(noNft.found).toBe(false);
    expect(noNft.reads.map((r) => (r.ok ? '' : r.error.message))).toEqual([expect.stringMatching(/nft not found.*package nftables/), expect.stringMatching(/nft not found/)]);
  });
});

describe('LadderConnectionCounter', () => {
  const base = parseKubeProxyTable(JSON.parse(SKEWED_TEXT) as unknown, 'ipv4').ladders[0] as Ladder;
  /** The same ladder after kube-proxy rewrote its vmap (uniform now): a new fingerprint. */
  const rewritten: Ladder = { ...base, fingerprint: `${base.fingerprint} (rewritten)` };

  function scan(totals: Record<string, number>): ConntrackSnapshot {
    return {
      timestamp: 0,
      ok: true,
      error: null,
      accounting: false,
      entriesScanned: 0,
      entriesMatched: 0,
      truncated: false,
      durationSeconds: 0,
      servicePorts: [
        {
          labels: { namespace: 'ns1', service: 'svc1', port: 'p80', protocol: 'tcp', ipFamily: 'ipv4' },
          expectedRatio: 0.5,
          endpoints: Object.entries(totals).map(([endpoint, newFlowsTotal]) => ({ endpoint, established: 0, all: 0, original: null, reply: null, newFlowsTotal })),
          activeSkewRatio: null,
          bytesSkewRatio: null,
        },
      ],
    };
  }

  it('restarts a rewritten ladder at the flows of the current interval, so the analysis neither loses nor double-counts', () => {
    const counter = new LadderConnectionCounter();
    // Cumulative new flows per endpoint at each scan, and the ladder the table held at that scan.
    const steps: [Ladder, Record<string, number>][] = [
      [base, { [EP1]: 0, [EP2]: 0 }],
      [base, { [EP1]: 10, [EP2]: 5 }],
      [rewritten, { [EP1]: 14, [EP2]: 11 }], // the vmap changed: a reset for the analysis
      [rewritten, { [EP1]: 20, [EP2]: 12 }],
      [base, { [EP1]: 21, [EP2]: 12 }], // and back
    ];
    let state: AnalysisState | undefined;
    const raw: (number | null)[][] = [];
    let total = 0;
    steps.forEach(([ladder, totals], i) => {
      const [counted] = counter.apply([ladder], scan(totals));
      raw.push(counted?.endpoints.map((e) => e.connections) ?? []);
      const model: ServiceModel = { ipFamily: 'ipv4', ladders: counted ? [counted] : [], skipped: [], hasCounters: true, warnings: [] };
      const step = analyze(state, [model], 1000 + i * 10, DEFAULT_ANALYSIS_OPTIONS);
      state = step.state;
      total = step.result.ladders[0]?.connectionsTotal ?? -1;
    });
    expect(raw).toEqual([[0, 0], [10, 5], [4, 6], [10, 7], [1, 0]]);
    expect(total).toBe(21 + 12);
  });

  it('leaves the ladders uncounted on a failed scan and keeps its baselines', () => {
    const counter = new LadderConnectionCounter();
    counter.apply([base], scan({ [EP1]: 3, [EP2]: 1 }));
    expect(counter.apply([base], { ...scan({}), ok: false, error: 'x' })[0]?.connections).toBeNull();
    expect(counter.apply([base], scan({ [EP1]: 5, [EP2]: 1 }))[0]?.endpoints.map((e) => e.connections)).toEqual([5, 1]);
  });
});

describe('--proxy.mode', () => {
  const dump = (kubeServices: boolean): ParsedDump => ({
    tables: new Map([['nat', { name: 'nat', chains: new Map(kubeServices ? [['KUBE-SERVICES', { name: 'KUBE-SERVICES', policy: null, counters: null, rules: [] }]] : []) }]]) as unknown as ParsedDump['tables'],
    skipped: [],
    hasCounters: true,
    lineCount: 1,
    truncated: false,
    warnings: [],
  });
  const iptablesRead = (kubeServices: boolean): FamilyReadOk => ({ ok: true, ipFamily: 'ipv4', backend: 'nft', command: 'iptables-nft-save -c -t nat', dump: dump(kubeServices), outputBytes: 1, durationSeconds: 0, costSeconds: 0, stderrTail: '' });

  function fixture(initial: { kubeServices: boolean; nftTable: boolean }) {
    const node = { ...initial };
    const log: string[] = [];
    const iptables: SampleSource = async () => {
      log.push('iptables');
      return [iptablesRead(node.kubeServices)];
    };
    let created = 0;
    const createNftables = (): NftablesSource => {
      const id = ++created;
      return {
        latestScan: null,
        async sample() {
          log.push(`nft#${id}`);
          const read: FamilyRead = node.nftTable
            ? { ...iptablesRead(false), command: NFT4, proxyMode: 'nftables', model: { ipFamily: 'ipv4', ladders: [], skipped: [], hasCounters: true, warnings: [] } }
            : { ipFamily: 'ipv4', backend: 'nft', command: NFT4, ok: false, stage: 'save', error: new Error('no table'), outputBytes: 0, durationSeconds: 0, costSeconds: 0, proxyMode: 'nftables' };
          return { reads: [read], found: node.nftTable };
        },
      };
    };
    return { node, log, iptables, createNftables };
  }

  it('auto on an iptables-mode node never runs nft: the sample itself shows KUBE-SERVICES', async () => {
    const f = fixture({ kubeServices: true, nftTable: true });
    const source = createProxyModeSource({ choice: 'auto', iptables: f.iptables, createNftables: f.createNftables, recheckEvery: 2 });
    expect(isProxyModeSource(source)).toBe(true);
    for (let i = 0; i < 5; i++) expect((await source(signal))[0]?.proxyMode).toBe('iptables');
    expect(f.log).toEqual(Array(5).fill('iptables'));
    expect(source.proxyMode).toBe('iptables');
  });

  it('auto switches to nftables when the table exists and iptables has no KUBE-SERVICES, re-checks, and follows a change back', async () => {
    const f = fixture({ kubeServices: false, nftTable: true });
    const source = createProxyModeSource({ choice: 'auto', iptables: f.iptables, createNftables: f.createNftables, recheckEvery: 3 });
    const modes: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) modes.push((await source(signal))[0]?.proxyMode);
    expect(modes).toEqual(['nftables', 'nftables', 'nftables', 'nftables']);
    // Detection at sample 0 and the re-check at sample 3 also look at iptables; one nftables source throughout (its conntrack state survives).
    expect(f.log).toEqual(['iptables', 'nft#1', 'nft#1', 'nft#1', 'iptables', 'nft#1']);
    expect(source.proxyMode).toBe('nftables');

    // kube-proxy restarted in iptables mode (it removes its nftables table).
    f.node.kubeServices = true;
    f.node.nftTable = false;
    expect((await source(signal))[0]?.proxyMode).toBe('iptables');
    expect(source.proxyMode).toBe('iptables');
    expect(source.latestScan).toBeNull();
  });

  it('auto with no kube-proxy rules yet stays iptables and looks for nftables at every re-check', async () => {
    const f = fixture({ kubeServices: false, nftTable: false });
    const source = createProxyModeSource({ choice: 'auto', iptables: f.iptables, createNftables: f.createNftables, recheckEvery: 2 });
    for (let i = 0; i < 3; i++) await source(signal);
    expect(f.log).toEqual(['iptables', 'nft#1', 'iptables', 'iptables', 'nft#2']);
    f.node.nftTable = true;
    await source(signal); // not a re-check sample
    expect(source.proxyMode).toBe('iptables');
    expect((await source(signal))[0]?.proxyMode).toBe('nftables');
  });

  it('forced modes never detect', async () => {
    const f = fixture({ kubeServices: true, nftTable: true });
    const nft = createProxyModeSource({ choice: 'nftables', iptables: f.iptables, createNftables: f.createNftables });
    const ipt = createProxyModeSource({ choice: 'iptables', iptables: f.iptables, createNftables: f.createNftables });
    for (let i = 0; i < 2; i++) {
      expect((await nft(signal))[0]?.proxyMode).toBe('nftables');
      expect((await ipt(signal))[0]?.proxyMode).toBe('iptables');
    }
    expect(f.log).toEqual(['nft#1', 'iptables', 'nft#1', 'iptables']);
  });
});

describe('the conntrack view in nftables mode', () => {
  it('shows the scan the nftables source took instead of listing conntrack a second time', async () => {
    const calls: string[] = [];
    const run = fakeRunner({ [NFT4]: SKEWED_TEXT, [NFT6]: NO_TABLE(NFT6), [CT4]: table([[1, EP1]]) }, calls);
    const never: SampleSource = async () => [];
    const source = createProxyModeSource({ choice: 'nftables', iptables: never, createNftables: () => nftSource(run) });
    const listeners: ((s: Snapshot) => void)[] = [];
    const sampler = { subscribe: (l: (s: Snapshot) => void) => (listeners.push(l), () => undefined), snapshot: {} as Snapshot } as unknown as Sampler;
    const page = { update: () => undefined } as unknown as MetricsPage;
    const config = { source: { file: null }, sample: { maxOutputBytes: 1 << 20 }, conntrack: { enabled: true, intervalSeconds: 0.001, timeoutSeconds: 1, maxEntries: 100, proxyMode: 'nftables' } } as unknown as ExporterConfig;
    const view = startConntrackView(config, { run, logger: silentLogger, sampler, page, source });
    await source(signal);
    const snapshot = { analysis: null } as unknown as Snapshot;
    for (const l of listeners) l(snapshot);
    await view.stop();
    expect(calls.filter((c) => c === CT4)).toHaveLength(1); // the source's scan only
    expect(view.decorate(snapshot).conntrack).toBe(source.latestScan);
    expect(source.latestScan?.ok).toBe(true);
  });
});
