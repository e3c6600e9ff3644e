import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { ReportJson } from '../../src/cli/report-json.js';
import { formatPValue, renderBar } from '../../src/cli/report-table.js';
import { parseDump } from '../../src/iptables/parse-dump.js';
import { runCaptured } from './cli-io.js';

const FIXTURES = new URL('../fixtures/cli/', import.meta.url);
const fixture = (name: string): string => new URL(name, FIXTURES).pathname;

/** Compares with a golden file; `UPDATE_GOLDEN=1 npx vitest run test/cli` rewrites it. */
function expectGolden(actual: string, name: string): void {
  const path = fixture(name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

async function reportJson(file: string, extra: string[] = []): Promise<ReportJson> {
  const result = await runCaptured(['report', '--input', fixture(file), '--format=json', ...extra]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ReportJson;
}

describe('report --format json', () => {
  test('a current-layout dump with counters: hand-checked numbers', async () => {
    const report = await reportJson('current-layout-counters.txt');
    expect(report.skipped).toEqual([]);
    expect(report.servicePorts.map((s) => [s.namespace, s.service, s.port, s.protocol, s.policy, s.connections])).toEqual([
      ['default', 'web', 'http', 'tcp', 'cluster', 300],
      ['kube-system', 'kube-dns', 'dns', 'udp', 'cluster', 42],
      ['shop', 'cart', '', 'tcp', 'cluster', 19],
      ['shop', 'frontend', 'https', 'tcp', 'cluster', 2],
      ['shop', 'frontend', 'https', 'tcp', 'local', 3],
    ]);

    const web = report.servicePorts[0];
    expect(web).toMatchObject({
      ipFamily: 'ipv4',
      chain: 'KUBE-SVC-CDGGSHYLG3RE2FKL',
      clusterIP: '10.96.10.20',
      sessionAffinity: 'None',
    });
    expect(web?.endpoints.map((e) => [e.endpoint, e.chain, e.probability, e.connections, e.affinityConnections])).toEqual([
      ['10.244.1.5:8080', 'KUBE-SEP-AFGSLHOD2HFNCBX4', 0.33333333349, 120, null],
      ['10.244.2.7:8080', 'KUBE-SEP-2RIJ5GIYXEFH6G4D', 0.5, 90, null],
      ['10.244.3.9:8080', 'KUBE-SEP-RBX5X5TOEG5GD3RO', null, 90, null],
    ]);
    for (const endpoint of web?.endpoints ?? []) {
      expect(endpoint.expectedRatio).toBeCloseTo(1 / 3, 12);
      // The kernel's 31-bit probability is not exactly 1/3: shares agree to about 1e-9.
      expect(endpoint.programmedRatio).toBeCloseTo(1 / 3, 8);
    }

    const cart = report.servicePorts[2];
    expect(cart?.sessionAffinity).toBe('ClientIP');
    expect(cart?.endpoints.map((e) => [e.endpoint, e.connections, e.affinityConnections])).toEqual([
      ['10.244.1.8:8443', 12, 7],
      ['10.244.3.2:8443', 7, 3],
    ]);

    const local = report.servicePorts[4];
    expect(local?.chain).toBe('KUBE-SVL-D4LVFIRJ4ZSSG6YW');
    expect(local?.endpoints).toEqual([
      {
        endpoint: '10.244.1.9:8443',
        chain: 'KUBE-SEP-5MDAUWAHPYIL4PUI',
        probability: null,
        programmedRatio: 1,
        expectedRatio: 1,
        connections: 3,
        affinityConnections: null,
      },
    ]);
  });

  test('keys are exactly the documented contract, in order', async () => {
    const report = await reportJson('current-layout-counters.txt');
    expect(Object.keys(report)).toEqual(['servicePorts', 'skipped']);
    for (const servicePort of report.servicePorts) {
      expect(Object.keys(servicePort)).toEqual([
        'namespace',
        'service',
        'port',
        'protocol',
        'ipFamily',
        'policy',
        'chain',
        'clusterIP',
        'sessionAffinity',
        'connections',
        'endpoints',
      ]);
      for (const endpoint of servicePort.endpoints) {
        expect(Object.keys(endpoint)).toEqual([
          'endpoint',
          'chain',
          'probability',
          'programmedRatio',
          'expectedRatio',
          'connections',
          'affinityConnections',
        ]);
      }
    }
  });

  test('a dump without counters: the same ladders, every count null', async () => {
    const withCounters = await reportJson('current-layout-counters.txt');
    const without = await reportJson('current-layout-no-counters.txt');
    const shape = (r: ReportJson) =>
      r.servicePorts.map((s) => ({ chain: s.chain, endpoints: s.endpoints.map((e) => [e.chain, e.endpoint, e.probability]) }));
    expect(shape(without)).toEqual(shape(withCounters));
    for (const servicePort of without.servicePorts) {
      expect(servicePort.connections).toBeNull();
      for (const endpoint of servicePort.endpoints) {
        expect(endpoint.connections).toBeNull();
        expect(endpoint.affinityConnections).toBeNull();
      }
    }
  });

  test('skipped lines are listed with their numbers and reasons; nothing on stderr', async () => {
    const report = await reportJson('junk-lines-around-dump.txt');
    expect(report.skipped).toEqual([
      { line: 1, reason: 'not-iptables' },
      { line: 21, reason: 'not-iptables' },
      { line: 24, reason: 'not-iptables' },
    ]);
    expect(report.servicePorts.map((s) => s.connections)).toEqual([300]);
  });

  test.each([
    { args: [], family: 'ipv6' },
    { args: ['--family=ipv6'], family: 'ipv6' },
  ])('an IPv6 dump with $args is read as $family', async ({ args, family }) => {
    const report = await reportJson('ipv6-dump.txt', args);
    expect(report.servicePorts.map((s) => [s.ipFamily, s.clusterIP, s.endpoints.map((e) => e.endpoint)])).toEqual([
      [family, 'fd00:10:96::10', ['[fd00:10:244:1::5]:8080', '[fd00:10:244:2::7]:8080']],
    ]);
  });

  test('golden', async () => {
    const result = await runCaptured(['report', '-i', fixture('current-layout-counters.txt'), '--format', 'json']);
    expectGolden(result.stdout, 'current-layout-counters.report.json');
  });
});

describe('report --format table', () => {
  test('a dump with counters: shares, bars, skew and p-value per ladder', async () => {
    const result = await runCaptured(['report', '--input', fixture('current-layout-counters.txt')]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('default/web:http  tcp  cluster  ipv4  KUBE-SVC-CDGGSHYLG3RE2FKL  clusterIP 10.96.10.20  connections 300');
    expect(lines[2]).toMatch(/^ {2}10\.244\.1\.5:8080 +120 +40\.0% +█{8} +33\.3% +33\.3%$/);
    // chi-square = (120-100)²/100 + 2·(90-100)²/100 = 6 with 2 df: p = e^-3 ≈ 0.0498.
    expect(result.stdout).toContain('  skew 1.20  p-value 0.050  (chi-square 6.00, 2 df, n 300)');
    // 40 vs 2 of 42: chi-square = 2·19²/21 ≈ 34.38 with 1 df.
    expect(result.stdout).toContain('  skew 1.90  p-value 4.5e-9  (chi-square 34.38, 1 df, n 42)');
    expect(result.stdout).toContain('shop/cart  tcp  cluster  ipv4  KUBE-SVC-N5W5PH5NLY2BP4HG  clusterIP 10.96.20.30  affinity ClientIP 10800s  connections 19');
    expect(result.stdout).toContain('  skew 1.00  p-value -  (needs at least 5 expected connections per endpoint)');
    expect(result.stdout).toContain('  skew 1.00  p-value -  (one endpoint)');
    expectGolden(result.stdout, 'current-layout-counters.report.txt');
  });

  test('a dump without counters says so instead of inventing numbers', async () => {
    const result = await runCaptured(['report', '--input', fixture('current-layout-no-counters.txt')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('connections -');
    expect(result.stdout).toContain('skew -  p-value -  (no counters in this dump: save with iptables-save -c)');
    expect(result.stdout).not.toContain('█');
  });

  test('skipped lines go to stderr with their numbers; the exit status is still 0', async () => {
    const result = await runCaptured(['report', '--input', fixture('junk-lines-around-dump.txt')]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      [
        'line 1: skipped (not-iptables): root@node-1:~# iptables-save -c -t nat',
        'line 21: skipped (not-iptables): ...',
        'line 24: skipped (not-iptables): root@node-1:~# exit',
        '',
      ].join('\n'),
    );
    expect(result.stdout).toContain('default/web:http');
  });

  test('reads stdin with --input -', async () => {
    const text = readFileSync(fixture('current-layout-counters.txt'), 'utf8');
    const result = await runCaptured(['report', '--input', '-'], { stdin: text });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(readFileSync(fixture('current-layout-counters.report.txt'), 'utf8'));
  });

  test('a nat table without kube-proxy chains is a valid, empty report', async () => {
    const result = await runCaptured(['report', '-i', '-'], { stdin: '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n' });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('No kube-proxy load-balancing chains (KUBE-SVC/KUBE-SVL/KUBE-XLB) found in the ipv4 nat table.\n');
  });
});

describe('report failures', () => {
  test.each([
    {
      what: 'prose',
      args: ['--input', fixture('not-a-dump.txt')],
      stdin: undefined,
      message: `${fixture('not-a-dump.txt')} is not an iptables dump: line 1 is not iptables syntax: "Hello! These are my notes on Kubernetes networking."`,
    },
    { what: 'empty stdin', args: ['--input', '-'], stdin: '', message: 'stdin is not an iptables dump: it is empty' },
    {
      what: 'only comments',
      args: ['--input', '-'],
      stdin: '# Generated by iptables-save\n# nothing else\n',
      message: 'stdin is not an iptables dump: it has no table, chain or rule in 2 lines',
    },
    { what: 'a missing file', args: ['--input', '/nonexistent/dump.txt'], stdin: undefined, message: '/nonexistent/dump.txt: no such file' },
    { what: 'a directory', args: ['--input', fixture('')], stdin: undefined, message: `${fixture('')}: is a directory` },
  ])('$what: exit 1 with a one-line message and no stack', async ({ args, stdin, message }) => {
    for (const format of ['table', 'json']) {
      const result = await runCaptured(['report', ...args, `--format=${format}`], stdin === undefined ? {} : { stdin });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.startsWith(`kube-balance-exporter report: ${message}`)).toBe(true);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  test('bad report flags: exit 2, every problem listed, pointing at report --help', async () => {
    const result = await runCaptured(['report', '--format=xml', '--inptu=x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      [
        'kube-balance-exporter report: 2 problems with the command line:',
        '  - unknown flag --inptu (did you mean --input?)',
        '  - --format=xml: must be one of table, json',
        "Run 'kube-balance-exporter report --help' for usage.",
        '',
      ].join('\n'),
    );
  });
});

describe('report on the live node (injected reader)', () => {
  test('reads the requested family with the chosen backend', async () => {
    const text = readFileSync(fixture('current-layout-counters.txt'), 'utf8');
    const calls: unknown[] = [];
    const result = await runCaptured(['report', '--format=json', '--iptables.backend=legacy'], {
      readLive: async (options) => {
        calls.push(options);
        return { dump: parseDump(text), command: 'iptables-legacy-save -c -t nat' };
      },
    });
    expect(calls).toEqual([{ family: 'ipv4', backend: 'legacy' }]);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as ReportJson).servicePorts).toHaveLength(5);
  });

  test('the backend env fallback applies to report too', async () => {
    const calls: unknown[] = [];
    await runCaptured(['report', '--family=ipv6'], {
      env: { KUBE_BALANCE_IPTABLES_BACKEND: 'nft' },
      readLive: async (options) => {
        calls.push(options);
        return { dump: parseDump('*nat\nCOMMIT\n'), command: 'ip6tables-nft-save -c -t nat' };
      },
    });
    expect(calls).toEqual([{ family: 'ipv6', backend: 'nft' }]);
  });

  test('a failing iptables-save: exit 1 with its message, no stack', async () => {
    const result = await runCaptured(['report'], {
      readLive: async () => {
        throw new Error('iptables-nft-save -c -t nat: permission denied; needs root or CAP_NET_ADMIN + CAP_NET_RAW', {
          cause: new Error('exit status 1'),
        });
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'kube-balance-exporter report: iptables-nft-save -c -t nat: permission denied; needs root or CAP_NET_ADMIN + CAP_NET_RAW: exit status 1\n',
    );
  });
});

describe('table pieces', () => {
  test.each([
    [0, ' '.repeat(20)],
    [1, '█'.repeat(20)],
    [0.5, `${'█'.repeat(10)}${' '.repeat(10)}`],
    [1 / 16, `█▎${' '.repeat(18)}`],
    [0.4, `${'█'.repeat(8)}${' '.repeat(12)}`],
    [1.5, '█'.repeat(20)],
  ])('renderBar(%d)', (share, bar) => {
    expect(renderBar(share)).toBe(bar);
    expect([...renderBar(share)]).toHaveLength(20);
  });

  test.each([
    [0.5, '0.500'],
    [0.0498, '0.050'],
    [0.001, '0.001'],
    [4.5e-9, '4.5e-9'],
    [0, '<1e-300'],
  ])('formatPValue(%d) is %s', (p, text) => {
    expect(formatPValue(p)).toBe(text);
  });
});

describe('a file with both iptables-save and ip6tables-save output', () => {
  test('is reported per family, IPv4 first', async () => {
    const report = await reportJson('dual-stack-combined.txt');
    expect(report.servicePorts.map((s) => `${s.ipFamily} ${s.namespace}/${s.service}`)).toEqual([
      'ipv4 default/web',
      'ipv4 kube-system/kube-dns',
      'ipv4 shop/cart',
      'ipv4 shop/frontend',
      'ipv4 shop/frontend',
      'ipv6 default/web6',
    ]);
  });

  test.each([
    { family: 'ipv4', services: ['web', 'kube-dns', 'cart', 'frontend', 'frontend'] },
    { family: 'ipv6', services: ['web6'] },
  ])('--family=$family selects that family', async ({ family, services }) => {
    const report = await reportJson('dual-stack-combined.txt', [`--family=${family}`]);
    expect(report.servicePorts.map((s) => s.service)).toEqual(services);
    expect(new Set(report.servicePorts.map((s) => s.ipFamily))).toEqual(new Set([family]));
  });

  test('the table names both families', async () => {
    const result = await runCaptured(['report', '--input', fixture('dual-stack-combined.txt')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('6 service port ladders (ipv4, ipv6).');
  });
});
