import { describe, expect, it } from 'vitest';
import type { ConntrackCollector } from '../../src/conntrack/collector.js';
import { createConntrackLoop } from '../../src/conntrack/conntrack-loop.js';
import type { ConntrackSnapshot } from '../../src/conntrack/types.js';
import { parseExporterFlags } from '../../src/cli/flags.js';
import { silentLogger } from '../../src/logger-types.js';
import type { Snapshot } from '../../src/snapshot.js';

const SCAN: ConntrackSnapshot = { timestamp: 1, ok: true, error: null, accounting: true, entriesScanned: 5, entriesMatched: 1, truncated: false, durationSeconds: 0.1, servicePorts: [] };
const SNAPSHOT = Object.freeze({ analysis: null }) as unknown as Snapshot;

function fakeCollector(): { collector: ConntrackCollector; scans: number; release: () => void } {
  const state = { scans: 0, release: () => {} };
  const collector = {
    scan: () => {
      state.scans++;
      return new Promise<ConntrackSnapshot>((resolve) => {
        state.release = () => resolve(SCAN);
      });
    },
  } as unknown as ConntrackCollector;
  return Object.assign(state, { collector }) as { collector: ConntrackCollector; scans: number; release: () => void };
}

describe('createConntrackLoop', () => {
  it('runs one scan at a time, honours the interval, and republishes with the scan attached', async () => {
    const fake = fakeCollector();
    let t = 0;
    let republished = 0;
    const loop = createConntrackLoop({ collector: fake.collector, logger: silentLogger, republish: () => republished++, minIntervalSeconds: 10, now: () => t });
    expect(loop.decorate(SNAPSHOT).conntrack).toBeNull();
    loop.onSnapshot(SNAPSHOT);
    loop.onSnapshot(SNAPSHOT); // in flight: skipped
    expect(fake.scans).toBe(1);
    fake.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(republished).toBe(1);
    expect(loop.decorate(SNAPSHOT).conntrack).toBe(SCAN);
    expect(Object.isFrozen(loop.decorate(SNAPSHOT))).toBe(true);
    t = 5_000;
    loop.onSnapshot(SNAPSHOT); // too early
    expect(fake.scans).toBe(1);
    t = 10_000;
    loop.onSnapshot(SNAPSHOT);
    expect(fake.scans).toBe(2);
    fake.release();
    await loop.stop();
  });
});

describe('--conntrack.* flags', () => {
  it('are off by default and parse into config.conntrack', () => {
    const off = parseExporterFlags([], {});
    expect(off.kind === 'run' && off.config.conntrack).toEqual({ enabled: false, intervalSeconds: 10, timeoutSeconds: 10, maxEntries: 1_000_000, proxyMode: 'auto' });
    const on = parseExporterFlags(['--conntrack.enabled', '--conntrack.interval=30s', '--conntrack.max-entries=500000'], { KUBE_BALANCE_CONNTRACK_TIMEOUT: '5s', KUBE_BALANCE_PROXY_MODE: 'nftables' });
    expect(on.kind === 'run' && on.config.conntrack).toEqual({ enabled: true, intervalSeconds: 30, timeoutSeconds: 5, maxEntries: 500_000, proxyMode: 'nftables' });
    expect(() => parseExporterFlags(['--proxy.mode=ipvs'], {})).toThrow(/proxy.mode/);
    expect(() => parseExporterFlags(['--conntrack.max-entries=0'], {})).toThrow(/conntrack.max-entries/);
  });
});
