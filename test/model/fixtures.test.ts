// One fixture per kube-proxy rule shape (test/fixtures/model/<quirk>.txt) against its golden
// model (<quirk>.model.json). `UPDATE_GOLDEN=1 npx vitest run test/model` rewrites the goldens;
// the per-quirk assertions below keep a rewrite from silently accepting a wrong model.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDump } from '../../src/iptables/parse-dump.js';
import { buildServiceModel } from '../../src/model/build-service-model.js';
import { endpointChainName } from '../../src/model/chain-names.js';
import { formatServicePortName } from '../../src/model/service-port-name.js';
import type { Ladder, ServiceModel } from '../../src/model/types.js';
import { fingerprintOf } from './fingerprint-of.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/model/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function modelOf(quirk: string): ServiceModel {
  const text = readFileSync(`${FIXTURES}${quirk}.txt`, 'utf8');
  return buildServiceModel(parseDump(text), quirk.startsWith('ipv6') ? 'ipv6' : 'ipv4');
}

function ladder(model: ServiceModel, chain: string): Ladder {
  const found = model.ladders.find((l) => l.chain === chain);
  if (found === undefined) throw new Error(`no ladder ${chain}`);
  return found;
}

const summary = (l: Ladder) => ({
  name: l.name === null ? null : formatServicePortName(l.name),
  policy: l.policy,
  endpoints: l.endpoints.map((e) => e.endpoint),
});

/** What each quirk must produce, beyond matching its golden. */
const checks: Record<string, (m: ServiceModel) => void> = {
  'current-layout-overall': (m) => {
    expect(m.ladders.map((l) => [l.chain, summary(l).name, l.clusterIP])).toEqual([
      ['KUBE-SVC-XPGD46QRK7WJZT7O', 'ns1/svc1:p80', '172.30.0.41'],
      ['KUBE-SVC-GNZBNJ2PO5MGZ6GT', 'ns2/svc2:p80', '172.30.0.42'],
      ['KUBE-SVC-X27LE4BHSL4DOUIK', 'ns3/svc3:p80', '172.30.0.43'],
      ['KUBE-SVC-4SW47YFZTEDKD3PK', 'ns4/svc4:p80', '172.30.0.44'],
      ['KUBE-SVC-NUKIZ6OKUXPJNT4C', 'ns5/svc5:p80', '172.30.0.45'],
    ]);
    expect(ladder(m, 'KUBE-SVC-GNZBNJ2PO5MGZ6GT')).toMatchObject({ nodePort: 3001, externalIPs: ['192.168.99.22'], loadBalancerIPs: ['1.2.3.4'] });
    expect(ladder(m, 'KUBE-SVC-NUKIZ6OKUXPJNT4C')).toMatchObject({ nodePort: 3002, loadBalancerIPs: ['5.6.7.8'] });
    expect(ladder(m, 'KUBE-SVC-4SW47YFZTEDKD3PK')).toMatchObject({ externalIPs: ['192.168.99.33'], nodePort: null });
    expect(summary(ladder(m, 'KUBE-SVC-4SW47YFZTEDKD3PK')).endpoints).toEqual(['10.180.0.4:80', '10.180.0.5:80']);
    expect(m.warnings).toEqual([]);
  },
  'unnamed-port-affinity-etp-local': (m) => {
    expect(m.ladders.map(summary)).toEqual([
      { name: 'ns1/svc1', policy: 'cluster', endpoints: ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.5:80'] },
      { name: 'ns1/svc1', policy: 'local', endpoints: ['10.0.1.1:80', '10.0.1.2:80'] },
    ]);
    for (const l of m.ladders) {
      expect(l.name?.port).toBe('');
      expect(l.sessionAffinity).toEqual({ timeoutSeconds: 10800 });
      expect(l.loadBalancerIPs).toEqual(['1.2.3.4']);
      expect(l.clusterIP).toBe('172.30.1.1');
    }
  },
  'session-affinity-counters': (m) => {
    const l = ladder(m, 'KUBE-SVC-TCOU7JCQXEZGVUNU');
    expect(l.sessionAffinity).toEqual({ timeoutSeconds: 600 });
    expect(l.endpoints.map((e) => [e.endpoint, e.connections, e.affinityConnections])).toEqual([
      ['10.244.0.3:53', 20, 15],
      ['10.244.0.4:53', 8, 2],
      ['10.244.1.7:53', 13, 9],
    ]);
    // Each endpoint's total equals its SEP chain's DNAT counter (every path ends there).
    expect(l.connections).toBe(41);
  },
  'large-cluster-no-comments': (m) => {
    const l = ladder(m, 'KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(summary(l)).toEqual({ name: 'ns1/svc1:p80', policy: 'cluster', endpoints: ['10.180.0.1:80', '10.180.2.1:80'] });
    expect(l.endpoints.map((e) => e.connections)).toEqual([38, 32]);
  },
  'lossy-dnat-hairpin-fallback': (m) => {
    expect(summary(ladder(m, 'KUBE-SVC-XPGD46QRK7WJZT7O')).endpoints).toEqual(['10.180.0.1:80', '10.180.2.1']);
    // The parser reports the lossy DNAT lines; the model passes the report through.
    expect(m.skipped.map((s) => [s.line, s.reason])).toEqual([
      [11, 'lossy-rule'],
      [13, 'lossy-rule'],
    ]);
  },
  'ipv6-endpoints': (m) => {
    const l = ladder(m, 'KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(l.key).toBe('ipv6/KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(l.clusterIP).toBe('fd00:172:30::41');
    expect(summary(l).endpoints).toEqual(['[fd00:10:180::1]:80', '[fd00:10:180::2]:80']);
  },
  'pre-1.24-xlb': (m) => {
    expect(m.ladders.map(summary)).toEqual([
      { name: 'default/test-svc', policy: 'cluster', endpoints: ['10.244.1.3:80', '10.244.2.3:80'] },
      { name: 'default/test-svc', policy: 'local', endpoints: ['10.244.1.3:80'] },
    ]);
    expect(ladder(m, 'KUBE-XLB-QKNQQNIN727HO3XU')).toMatchObject({ nodePort: 32070, loadBalancerIPs: ['172.18.255.200'], clusterIP: '10.96.115.88', servicePort: 80 });
  },
  'pre-1.17-probabilities': (m) => {
    const l = ladder(m, 'KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(l.clusterIP).toBe('10.96.0.1');
    expect(l.endpoints.map((e) => e.probability)).toEqual([0.33332999982, 0.5, null]);
    expect(l.endpoints.map((e) => e.programmedRatio)).toEqual([0.33332999982, (1 - 0.33332999982) * 0.5, (1 - 0.33332999982) * 0.5]);
    expect(l.sessionAffinity).toEqual({ timeoutSeconds: 10800 });
    expect(l.fingerprint).toBe(fingerprintOf(l.endpoints.map((e, i) => [e.chain, i === 0 ? '0.33332999982' : i === 1 ? '0.50000000000' : null])));
  },
  'unreachable-duplicate-rules': (m) => {
    const l = ladder(m, 'KUBE-SVC-67NZLRHBNDSAWJRO');
    expect(l.endpoints.map((e) => e.chain)).toEqual(['KUBE-SEP-FZQ6KZLGXRSKN2AD', 'KUBE-SEP-BTZNBNILETY57XCS']);
    expect(l.unreachableRules).toBe(3);
    expect(l.connections).toBe(90);
  },
  'unequal-probabilities': (m) => {
    const l = ladder(m, 'KUBE-SVC-67NZLRHBNDSAWJRO');
    const shares = l.endpoints.map((e) => e.programmedRatio);
    expect(shares[0]).toBeCloseTo(0.1, 9);
    expect(shares[1]).toBeCloseTo(0.45, 9);
    expect(shares[2]).toBeCloseTo(0.45, 9);
    expect(l.endpoints.map((e) => e.expectedRatio)).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(l.endpoints.map((e) => e.connections)).toEqual([21, 91, 88]);
    expect(l.connections).toBe(200);
  },
};

const quirks = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.txt'))
  .map((f) => f.slice(0, -4))
  .sort();

describe('model fixtures', () => {
  it('has a check for every fixture and a fixture for every check', () => {
    expect(quirks).toEqual(Object.keys(checks).sort());
  });

  it.each(quirks)('%s matches its golden model', (quirk) => {
    const model = modelOf(quirk);
    const json = `${JSON.stringify(model, null, 2)}\n`;
    const golden = `${FIXTURES}${quirk}.model.json`;
    if (UPDATE || !existsSync(golden)) writeFileSync(golden, json);
    expect(json).toBe(readFileSync(golden, 'utf8'));
  });

  it.each(quirks)('%s: quirk-specific expectations', (quirk) => {
    checks[quirk]?.(modelOf(quirk));
  });

  // kube-proxy named every SEP chain hash(servicePortName + protocol + endpoint): an endpoint we
  // resolved to ip:port must re-hash to the chain that carried it (bare hairpin IPs cannot).
  it.each(quirks)('%s: every ip:port endpoint re-hashes to its KUBE-SEP chain', (quirk) => {
    const model = modelOf(quirk);
    let checked = 0;
    for (const l of model.ladders) {
      if (l.name === null || l.protocol === null) continue;
      for (const e of l.endpoints) {
        if (e.endpoint === null || !/:\d+$/.test(e.endpoint)) continue;
        expect(endpointChainName(formatServicePortName(l.name), l.protocol, e.endpoint), `${l.chain} ${e.endpoint}`).toBe(e.chain);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
