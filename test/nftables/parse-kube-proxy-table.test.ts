import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { endpointChainBase, parseChainName, servicePortChainBase } from '../../src/nftables/chain-names.js';
import { withConntrackConnections } from '../../src/nftables/new-connections.js';
import { parseKubeProxyTable } from '../../src/nftables/parse-kube-proxy-table.js';
import type { ConntrackSnapshot } from '../../src/conntrack/types.js';

/** `nft -j list table ip kube-proxy` (nft 1.0.6) of a hand-written ruleset: one endpoint in two of three vmap slots, a NodePort. */
const SKEWED = JSON.parse(readFileSync(new URL('./fixtures/skewed-vmap-nodeport.json', import.meta.url), 'utf8')) as unknown;

describe('chain names', () => {
  it('match the examples in kube-proxy\'s proxier.go', () => {
    expect(servicePortChainBase('ns1', 'svc1', 'tcp', 'p80')).toBe('ULMVA6XW-ns1/svc1/tcp/p80');
    expect(endpointChainBase('ns1', 'svc1', 'tcp', 'p80', '10.180.0.1', 80)).toBe('5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  });

  it.each([
    ['service-ULMVA6XW-ns1/svc1/tcp/p80', { kind: 'service', namespace: 'ns1', service: 'svc1', protocol: 'tcp', port: 'p80' }],
    ['local-ULMVA6XW-ns1/svc1/udp/', { kind: 'local', port: '', protocol: 'udp' }],
    ['endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80', { kind: 'endpoint', port: 'p80' }],
    ['services', null],
    ['nat-prerouting', null],
  ])('%s', (chain, expected) => {
    if (expected === null) expect(parseChainName(chain)).toBeNull();
    else expect(parseChainName(chain)).toMatchObject(expected);
  });
});

describe('parseKubeProxyTable', () => {
  const model = parseKubeProxyTable(SKEWED, 'ipv4');

  it('builds one ladder per service chain, frontends from the maps, programmed shares from the vmap slots', () => {
    expect(model.warnings).toEqual([]);
    expect(model.hasCounters).toBe(false);
    expect(model.ladders).toHaveLength(1);
    const ladder = model.ladders[0];
    expect(ladder).toMatchObject({
      key: 'ipv4/service-ULMVA6XW-ns1/svc1/tcp/p80',
      policy: 'cluster',
      name: { namespace: 'ns1', service: 'svc1', port: 'p80' },
      protocol: 'tcp',
      clusterIP: '10.96.0.10',
      servicePort: 80,
      nodePort: 30080,
      sessionAffinity: null,
      connections: null,
    });
    expect(ladder?.endpoints.map((e) => [e.endpoint, e.programmedRatio, e.expectedRatio])).toEqual([
      ['10.244.1.2:80', 2 / 3, 1 / 2],
      ['10.244.1.3:80', 1 / 3, 1 / 2],
    ]);
  });

  it('is lenient: an empty or foreign document gives no ladders', () => {
    expect(parseKubeProxyTable({}, 'ipv4').ladders).toEqual([]);
    expect(parseKubeProxyTable({ nftables: [{ rule: { chain: 'service-AAAAAAAA-a/b/tcp/p', expr: [] } }] }, 'ipv4').warnings).toEqual([
      'service-AAAAAAAA-a/b/tcp/p: no numgen random vmap rule',
    ]);
  });

  it('takes new connections per endpoint from a conntrack scan', () => {
    const scan: ConntrackSnapshot = {
      timestamp: 0,
      ok: true,
      error: null,
      accounting: false,
      entriesScanned: 10,
      entriesMatched: 3,
      truncated: false,
      durationSeconds: 0,
      servicePorts: [
        {
          labels: { namespace: 'ns1', service: 'svc1', port: 'p80', protocol: 'tcp', ipFamily: 'ipv4' },
          expectedRatio: 0.5,
          endpoints: [
            { endpoint: '10.244.1.2:80', established: 0, all: 0, original: null, reply: null, newFlowsTotal: 7 },
            { endpoint: '10.244.1.3:80', established: 0, all: 0, original: null, reply: null, newFlowsTotal: 3 },
          ],
          activeSkewRatio: null,
          bytesSkewRatio: null,
        },
      ],
    };
    const [ladder] = withConntrackConnections(model.ladders, scan);
    expect(ladder?.endpoints.map((e) => e.connections)).toEqual([7, 3]);
    expect(ladder?.connections).toBe(10);
  });
});
