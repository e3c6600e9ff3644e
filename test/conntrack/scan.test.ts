import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildFrontendIndex, candidatesFor } from '../../src/conntrack/frontends.js';
import { ConntrackScanner, ScanLimitReached } from '../../src/conntrack/scan.js';
import { skewRatio, summarizeScan } from '../../src/conntrack/summarize.js';
import { FIXTURE_LADDERS, ladder } from './ladders.js';

function fixture(name: string): string[] {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').split('\n');
}

function scan(lines: readonly string[], maxEntries = 1000): ConntrackScanner {
  const scanner = new ConntrackScanner(buildFrontendIndex(FIXTURE_LADDERS), { maxEntries, keepFlowKeys: true });
  for (const line of lines) scanner.push(line);
  return scanner;
}

describe('buildFrontendIndex', () => {
  it('indexes cluster, external and load-balancer IPs by ip:port and node ports by port', () => {
    const index = buildFrontendIndex([
      ladder({
        name: { namespace: 'a', service: 'b', port: 'p' },
        clusterIP: '10.96.0.1',
        servicePort: 443,
        nodePort: 31000,
        externalIPs: ['203.0.113.7'],
        loadBalancerIPs: ['198.51.100.9'],
        endpoints: ['10.244.0.9:8443'],
      }),
      ladder({ name: { namespace: 'a', service: 'b', port: 'p' }, policy: 'local', clusterIP: '10.96.0.1', servicePort: 443, nodePort: 31000, endpoints: ['10.244.0.9:8443'] }),
      ladder({ name: null, clusterIP: '10.96.0.2', servicePort: 80, endpoints: ['10.244.0.1:80'] }),
    ]);
    expect(index.servicePorts.map((s) => [s.id, s.endpoints])).toEqual([['ipv4|a/b:p|tcp', ['10.244.0.9:8443']]]);
    for (const dst of ['10.96.0.1', '203.0.113.7', '198.51.100.9']) expect(candidatesFor(index, 'tcp', dst, 443)).toHaveLength(1);
    expect(candidatesFor(index, 'tcp', '192.168.1.1', 31000)).toHaveLength(1);
    expect(candidatesFor(index, 'udp', '10.96.0.1', 443)).toHaveLength(0);
    expect(candidatesFor(index, 'tcp', '10.96.0.2', 80)).toHaveLength(0);
  });
});

describe('ConntrackScanner + summarizeScan', () => {
  it('attributes only flows to a frontend answered by one of its endpoints', () => {
    const scanner = scan(fixture('acct-on-mixed-table.txt'));
    expect(scanner.entriesScanned).toBe(10);
    // 1001-1006 match (1004 through the NodePort); 1007 is not Service traffic, 1008 is ICMP,
    // 1009 is not DNATed yet (reply source = the cluster IP), 1010's endpoint is not in the rules.
    expect(scanner.entriesMatched).toBe(6);
    expect(scanner.entriesUnknownEndpoint).toBe(2);
    expect([...scanner.flowKeys.keys()].map((k) => k.split('|')[0])).toEqual(['1001', '1002', '1003', '1004', '1005', '1006']);

    const stats = summarizeScan(buildFrontendIndex(FIXTURE_LADDERS), scanner.tallies, { accounting: true });
    const frontend = stats.find((s) => s.labels.service === 'frontend');
    expect(frontend?.endpoints).toEqual([
      { endpoint: '10.244.1.5:8080', established: 1, all: 1, original: { packets: 12, bytes: 900000 }, reply: { packets: 8, bytes: 5000 }, newFlowsTotal: null },
      { endpoint: '10.244.2.9:8080', established: 1, all: 2, original: { packets: 9, bytes: 90400 }, reply: { packets: 6, bytes: 800 }, newFlowsTotal: null },
      { endpoint: '10.244.3.4:8080', established: 1, all: 1, original: { packets: 5, bytes: 1000 }, reply: { packets: 5, bytes: 2000 }, newFlowsTotal: null },
    ]);
    expect(frontend?.activeSkewRatio).toBeCloseTo(1.5);
    expect(frontend?.bytesSkewRatio).toBeCloseTo((905000 / 999200) * 3);
    const dns = stats.find((s) => s.labels.service === 'kube-dns');
    // UDP: ASSURED counts as established; UNREPLIED does not.
    expect(dns?.endpoints.map((e) => [e.endpoint, e.established, e.all])).toEqual([
      ['10.244.0.2:53', 0, 1],
      ['10.244.0.3:53', 1, 1],
    ]);
    // The IPv6 service port has no flows: zeros, no skew.
    const cart = stats.find((s) => s.labels.service === 'cart');
    expect(cart?.endpoints.map((e) => e.all)).toEqual([0, 0]);
    expect(cart?.activeSkewRatio).toBeNull();
  });

  it('withholds packets and bytes when accounting is off, even where flows carry counters', () => {
    const index = buildFrontendIndex(FIXTURE_LADDERS);
    const off = summarizeScan(index, scan(fixture('acct-off-table.txt')).tallies, { accounting: false });
    const frontend = off.find((s) => s.labels.service === 'frontend');
    expect(frontend?.endpoints.map((e) => [e.all, e.original, e.reply])).toEqual([
      [1, null, null],
      [1, null, null],
      [0, null, null],
    ]);
    expect(frontend?.bytesSkewRatio).toBeNull();
    expect(summarizeScan(index, scan(fixture('acct-on-mixed-table.txt')).tallies, { accounting: null })[0]?.endpoints[0]?.original).toBeNull();
  });

  it('matches IPv6 flows to [v6]:port endpoints', () => {
    const scanner = scan(fixture('ipv6-flows.txt'));
    expect(scanner.entriesMatched).toBe(1);
    const cart = summarizeScan(buildFrontendIndex(FIXTURE_LADDERS), scanner.tallies, { accounting: true }).find((s) => s.labels.service === 'cart');
    expect(cart?.endpoints[0]).toMatchObject({ endpoint: '[fd00:10:244::5]:9000', established: 1, original: { bytes: 400 } });
  });

  it('stops at maxEntries', () => {
    expect(() => scan(fixture('acct-on-mixed-table.txt'), 3)).toThrow(ScanLimitReached);
  });
});

describe('skewRatio', () => {
  it.each([
    [[1, 1, 1], 1 / 3, 1],
    [[3, 1, 0], 1 / 3, 2.25],
    [[0, 0], 1 / 2, null],
    [[10, 1, 1], 1 / 3, 2.5],
  ])('%j with expected %d gives %s', (values, expected, ratio) => {
    const r = skewRatio(values, expected);
    if (ratio === null) expect(r).toBeNull();
    else expect(r).toBeCloseTo(ratio);
  });
});
