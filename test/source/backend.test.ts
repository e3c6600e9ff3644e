import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectBackend } from '../../src/source/backend.js';
import { detectFamilies } from '../../src/source/families.js';
import { createCommandRunner } from '../../src/source/run-command.js';
import { createShimDir, type ShimDir } from '../support/shims/shim-dir.js';
import {
  FILTER_KUBE_SERVICES_ONLY,
  IPV6_DUMP,
  LEGACY_ALL_TABLES,
  MANGLE_PLAIN,
  MANGLE_WITH_CANARY_ONLY,
  MANGLE_WITH_HINT,
  NAT_WITHOUT_KUBE,
} from './dump-texts.js';

let shims: ShimDir;
beforeEach(() => {
  shims = createShimDir();
});
afterEach(() => shims.remove());

const texts: Record<string, string> = {
  hint: MANGLE_WITH_HINT,
  canary: MANGLE_WITH_CANARY_ONLY,
  plain: MANGLE_PLAIN,
  legacyAll: LEGACY_ALL_TABLES,
};

/** Mode of each probe binary: a fixture name, 'missing' (exit 127-like failure), 'denied' or 'empty'. */
type Probe = keyof typeof texts | 'denied' | 'empty';

function modeFor(probe: Probe): string {
  if (probe === 'denied') return 'fail:1:iptables-save v1.8.9: Permission denied (you must be root)';
  if (probe === 'empty') return 'empty';
  return `dump:${shims.fixture(`${probe}.txt`, texts[probe] ?? '')}`;
}

// Mirrors DetectMode in kubernetes-sigs/iptables-wrappers pkg/xtables/detect.go.
describe('detectBackend (iptables-wrappers order)', () => {
  it.each<{ name: string; nft4: Probe; nft6: Probe; legacy4: Probe; legacy6: Probe; backend: 'nft' | 'legacy'; calls: string[] }>([
    {
      name: 'nft: iptables-nft-save -t mangle shows KUBE-IPTABLES-HINT',
      nft4: 'hint', nft6: 'empty', legacy4: 'legacyAll', legacy6: 'empty', backend: 'nft',
      calls: ['iptables-nft-save -t mangle'],
    },
    {
      name: 'nft: only ip6tables-nft-save shows the canary',
      nft4: 'plain', nft6: 'canary', legacy4: 'legacyAll', legacy6: 'empty', backend: 'nft',
      calls: ['iptables-nft-save -t mangle', 'ip6tables-nft-save -t mangle'],
    },
    {
      name: 'legacy: nft shows nothing, iptables-legacy-save (all tables) shows the hint',
      nft4: 'plain', nft6: 'empty', legacy4: 'legacyAll', legacy6: 'empty', backend: 'legacy',
      calls: ['iptables-nft-save -t mangle', 'ip6tables-nft-save -t mangle', 'iptables-legacy-save'],
    },
    {
      name: 'legacy: only ip6tables-legacy-save shows the canary',
      nft4: 'empty', nft6: 'empty', legacy4: 'plain', legacy6: 'canary', backend: 'legacy',
      calls: ['iptables-nft-save -t mangle', 'ip6tables-nft-save -t mangle', 'iptables-legacy-save', 'ip6tables-legacy-save'],
    },
    {
      name: 'nft by default when nothing shows kubelet chains',
      nft4: 'plain', nft6: 'plain', legacy4: 'plain', legacy6: 'plain', backend: 'nft',
      calls: ['iptables-nft-save -t mangle', 'ip6tables-nft-save -t mangle', 'iptables-legacy-save', 'ip6tables-legacy-save'],
    },
    {
      name: 'failed probes count as not found (errors ignored, like upstream)',
      nft4: 'denied', nft6: 'denied', legacy4: 'legacyAll', legacy6: 'denied', backend: 'legacy',
      calls: ['iptables-nft-save -t mangle', 'ip6tables-nft-save -t mangle', 'iptables-legacy-save'],
    },
  ])('$name', async ({ nft4, nft6, legacy4, legacy6, backend, calls }) => {
    const run = createCommandRunner({
      env: shims.env({
        'iptables-nft-save': modeFor(nft4),
        'ip6tables-nft-save': modeFor(nft6),
        'iptables-legacy-save': modeFor(legacy4),
        'ip6tables-legacy-save': modeFor(legacy6),
      }),
    });
    const detection = await detectBackend(run, { timeoutMs: 10_000 });
    expect(detection.backend).toBe(backend);
    expect(shims.calls()).toEqual(calls);
    // Never -t mangle on legacy, never anything but *-save.
    for (const call of shims.calls()) {
      expect(call).toMatch(/^ip6?tables-(nft|legacy)-save( -t mangle)?$/);
      if (call.includes('legacy')) expect(call).not.toContain('-t');
    }
  });

  it('a chain name inside a rule or comment is not a declaration', async () => {
    const run = createCommandRunner({ env: shims.env({ default: `dump:${shims.fixture('plain.txt', MANGLE_PLAIN)}` }) });
    expect((await detectBackend(run)).backend).toBe('nft');
    expect((await detectBackend(run)).reason).toContain('defaulting to nft');
  });

  it('missing binaries: nft default, errors kept for the log', async () => {
    const empty = createShimDir([]);
    try {
      const detection = await detectBackend(createCommandRunner({ env: empty.env({}) }));
      expect(detection.backend).toBe('nft');
      expect(detection.probes.every((p) => p.error?.startsWith('ENOENT_BINARY'))).toBe(true);
    } finally {
      empty.remove();
    }
  });

  it.each(['nft', 'legacy'] as const)('--iptables.backend=%s runs nothing', async (choice) => {
    const run = createCommandRunner({ env: shims.env({}) });
    const detection = await detectBackend(run, { choice });
    expect(detection.backend).toBe(choice);
    expect(shims.calls()).toEqual([]);
  });
});

describe('detectFamilies (auto)', () => {
  const options = { timeoutMs: 10_000, maxOutputBytes: 1 << 20 };

  it('ipv6 when ip6tables-nft-save -t nat declares KUBE-SERVICES', async () => {
    const run = createCommandRunner({ env: shims.env({ 'ip6tables-nft-save': `dump:${shims.fixture('v6.txt', IPV6_DUMP)}` }) });
    expect((await detectFamilies(run, 'nft', options)).families).toEqual(['ipv4', 'ipv6']);
    expect(shims.calls()).toEqual(['ip6tables-nft-save -t nat']);
  });

  it('legacy probes all tables (never -t nat, which would create the table) and looks only in nat', async () => {
    const run = createCommandRunner({ env: shims.env({ 'ip6tables-legacy-save': `dump:${shims.fixture('f.txt', FILTER_KUBE_SERVICES_ONLY)}` }) });
    expect((await detectFamilies(run, 'legacy', options)).families).toEqual(['ipv4']);
    expect(shims.calls()).toEqual(['ip6tables-legacy-save']);
  });

  it.each([
    ['a nat table without kube-proxy chains', `dump:NAT`],
    ['ip6tables not usable', 'fail:3:ip6tables-save: Address family not supported by protocol'],
  ])('ipv4 only: %s', async (_name, mode) => {
    const resolved = mode === 'dump:NAT' ? `dump:${shims.fixture('nat.txt', NAT_WITHOUT_KUBE)}` : mode;
    const run = createCommandRunner({ env: shims.env({ 'ip6tables-nft-save': resolved }) });
    expect((await detectFamilies(run, 'nft', options)).families).toEqual(['ipv4']);
  });
});
