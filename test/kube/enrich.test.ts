import { describe, expect, it } from 'vitest';
import { enrich, nameLadders } from '../../src/kube/enrich.js';
import type { ClusterView, EndpointSliceView, EndpointView, ServiceView } from '../../src/kube/types.js';
import { serviceChainName } from '../../src/model/chain-names.js';
import type { Ladder, ModelCounters, Policy, ServiceModel, ServicePortName } from '../../src/model/types.js';

function ladder(chain: string, endpoints: string[], options: { name?: ServicePortName | null; policy?: Policy } = {}): Ladder {
  const n = endpoints.length;
  return {
    key: `ipv4/${chain}`,
    chain,
    policy: options.policy ?? 'cluster',
    ipFamily: 'ipv4',
    name: options.name === undefined ? { namespace: 'shop', service: 'web', port: 'http' } : options.name,
    protocol: 'tcp',
    clusterIP: '10.96.0.20',
    servicePort: 80,
    nodePort: null,
    externalIPs: [],
    loadBalancerIPs: [],
    sessionAffinity: null,
    endpoints: endpoints.map((endpoint, i) => ({
      endpoint,
      chain: `KUBE-SEP-${i}`,
      probability: i === n - 1 ? null : 1 / (n - i),
      programmedRatio: 1 / n,
      expectedRatio: 1 / n,
      connections: 0,
      affinityConnections: null,
      line: i + 1,
    })),
    connections: 0,
    fingerprint: endpoints.join(','),
    unreachableRules: 0,
  };
}

const model = (...ladders: Ladder[]): ServiceModel => ({ ipFamily: 'ipv4', ladders, skipped: [], hasCounters: true, warnings: [] });

function endpoint(ip: string, extra: Partial<EndpointView> = {}): EndpointView {
  return { addresses: [ip], ready: true, serving: true, terminating: false, nodeName: 'node-a', zone: 'zone-1', hintZones: null, hintNodes: null, pod: `pod-${ip}`, ...extra };
}

function view(endpoints: EndpointView[], service: Partial<ServiceView> = {}): ClusterView {
  const svc: ServiceView = {
    namespace: 'shop',
    name: 'web',
    clusterIPs: ['10.96.0.20'],
    ports: [{ name: 'http', protocol: 'tcp', port: 80 }],
    internalTrafficPolicy: 'Cluster',
    externalTrafficPolicy: 'Cluster',
    sessionAffinity: 'None',
    topologyAware: false,
    ...service,
  };
  const slice: EndpointSliceView = { namespace: 'shop', name: 'web-1', service: 'web', ipFamily: 'ipv4', ports: [{ name: 'http', protocol: 'tcp', port: 8080 }], endpoints };
  return { services: new Map([['shop/web', svc]]), slicesByService: new Map([['shop/web', [slice]]]) };
}

const node = { nodeName: 'node-a', zone: 'zone-1' };

describe('enrich: drift', () => {
  it.each([
    {
      case: 'rules match the ready endpoints: no drift',
      ladder: ['10.0.0.1:8080', '10.0.0.2:8080'],
      api: [endpoint('10.0.0.1'), endpoint('10.0.0.2')],
      missing: [],
      stale: [],
    },
    {
      case: 'a removed endpoint still in the rules is stale',
      ladder: ['10.0.0.1:8080', '10.0.0.2:8080'],
      api: [endpoint('10.0.0.1')],
      missing: [],
      stale: ['10.0.0.2:8080'],
    },
    {
      case: 'a new ready endpoint not yet in the rules is missing',
      ladder: ['10.0.0.1:8080'],
      api: [endpoint('10.0.0.1'), endpoint('10.0.0.3')],
      missing: ['10.0.0.3:8080'],
      stale: [],
    },
    {
      case: 'a not-ready endpoint is legitimately left out',
      ladder: ['10.0.0.1:8080'],
      api: [endpoint('10.0.0.1'), endpoint('10.0.0.4', { ready: false, serving: false })],
      missing: [],
      stale: [],
    },
    {
      case: 'a not-ready endpoint still in the rules is stale',
      ladder: ['10.0.0.1:8080', '10.0.0.4:8080'],
      api: [endpoint('10.0.0.1'), endpoint('10.0.0.4', { ready: false, serving: false })],
      missing: [],
      stale: ['10.0.0.4:8080'],
    },
    {
      case: 'with no ready endpoint, serving-terminating ones are the fallback',
      ladder: ['10.0.0.5:8080'],
      api: [endpoint('10.0.0.5', { ready: false, serving: true, terminating: true })],
      missing: [],
      stale: [],
    },
  ])('$case', ({ ladder: endpoints, api, missing, stale }) => {
    const result = enrich([model(ladder('KUBE-SVC-WEB', endpoints))], view(api), node);
    expect(result.drift).toEqual([{ ladderKey: 'ipv4/KUBE-SVC-WEB', missing, stale, certain: true }]);
  });

  it('a topology-hinted subset for this zone is not drift', () => {
    const api = [
      endpoint('10.0.0.1', { hintZones: ['zone-1'] }),
      endpoint('10.0.0.2', { hintZones: ['zone-2'], zone: 'zone-2' }),
      endpoint('10.0.0.3', { hintZones: ['zone-1'] }),
    ];
    const result = enrich([model(ladder('KUBE-SVC-WEB', ['10.0.0.1:8080', '10.0.0.3:8080']))], view(api, { topologyAware: true }), node);
    expect(result.drift[0]).toEqual({ ladderKey: 'ipv4/KUBE-SVC-WEB', missing: [], stale: [], certain: true });
    // The same rules on a node in zone-2 lack its zone-2 endpoint and hold two zone-1 ones.
    const other = enrich([model(ladder('KUBE-SVC-WEB', ['10.0.0.1:8080', '10.0.0.3:8080']))], view(api, { topologyAware: true }), { nodeName: 'node-b', zone: 'zone-2' });
    expect(other.drift[0]).toMatchObject({ missing: ['10.0.0.2:8080'], stale: ['10.0.0.1:8080', '10.0.0.3:8080'] });
  });

  it('hints are ignored unless every ready endpoint has one (kube-proxy canUseTopology)', () => {
    const api = [endpoint('10.0.0.1', { hintZones: ['zone-1'] }), endpoint('10.0.0.2', { zone: 'zone-2' })];
    const result = enrich([model(ladder('KUBE-SVC-WEB', ['10.0.0.1:8080']))], view(api, { topologyAware: true }), node);
    expect(result.drift[0]).toMatchObject({ missing: ['10.0.0.2:8080'], stale: [] });
  });

  it('with an unknown zone, hinted subsets are uncertain: nothing missing, only impossible endpoints stale', () => {
    const api = [endpoint('10.0.0.1', { hintZones: ['zone-1'] }), endpoint('10.0.0.2', { hintZones: ['zone-2'] })];
    const result = enrich([model(ladder('KUBE-SVC-WEB', ['10.0.0.1:8080', '10.0.0.9:8080']))], view(api, { topologyAware: true }), { nodeName: 'node-a', zone: null });
    expect(result.drift[0]).toEqual({ ladderKey: 'ipv4/KUBE-SVC-WEB', missing: [], stale: ['10.0.0.9:8080'], certain: false });
  });

  it('a local ladder holds only this node\'s endpoints', () => {
    const api = [endpoint('10.0.0.1'), endpoint('10.0.0.2', { nodeName: 'node-b' })];
    const local = ladder('KUBE-SVL-WEB', ['10.0.0.1:8080'], { policy: 'local' });
    expect(enrich([model(local)], view(api), node).drift[0]).toMatchObject({ missing: [], stale: [] });
    const wrong = ladder('KUBE-SVL-WEB', ['10.0.0.2:8080'], { policy: 'local' });
    expect(enrich([model(wrong)], view(api), node).drift[0]).toMatchObject({ missing: ['10.0.0.1:8080'], stale: ['10.0.0.2:8080'] });
  });

  it('a service deleted from the API leaves all its rules stale', () => {
    const empty: ClusterView = { services: new Map(), slicesByService: new Map() };
    expect(enrich([model(ladder('KUBE-SVC-WEB', ['10.0.0.1:8080']))], empty, node).drift[0]).toMatchObject({ stale: ['10.0.0.1:8080'] });
  });
});

describe('enrich: endpoint info', () => {
  it('joins each ladder endpoint with its pod, node, zone and conditions, once per service port', () => {
    const api = [endpoint('10.0.0.1', { pod: 'web-7d9f-x2k', nodeName: 'node-b', zone: 'eu-1c' })];
    const result = enrich(
      [model(ladder('KUBE-SVC-WEB', ['10.0.0.1:8080']), ladder('KUBE-SVL-WEB', ['10.0.0.1:8080'], { policy: 'local' }))],
      view(api),
      node,
    );
    expect(result.endpointInfo).toEqual([
      { namespace: 'shop', service: 'web', port: 'http', endpoint: '10.0.0.1:8080', pod: 'web-7d9f-x2k', podNode: 'node-b', zone: 'eu-1c', ready: true, serving: true, terminating: false },
    ]);
  });
});

describe('nameLadders', () => {
  it('names a comment-less ladder from the recomputed chain hash, including unnamed ports', () => {
    const named = serviceChainName('KUBE-SVC-', 'shop/web:http', 'tcp');
    const unnamedPort = serviceChainName('KUBE-SVC-', 'shop/web', 'udp');
    const cluster: ClusterView = {
      services: new Map([
        ['shop/web', { ...view([]).services.get('shop/web')!, ports: [{ name: 'http', protocol: 'tcp', port: 80 }, { name: '', protocol: 'udp', port: 53 }] }],
      ]),
      slicesByService: new Map(),
    };
    const [result] = nameLadders(
      [model(ladder(named, ['10.0.0.1:8080'], { name: null }), ladder(unnamedPort, ['10.0.0.1:53'], { name: null }), ladder('KUBE-SVC-UNKNOWNUNKNOWN00', [], { name: null }))],
      cluster,
    );
    expect(result?.ladders.map((l) => l.name)).toEqual([
      { namespace: 'shop', service: 'web', port: 'http' },
      { namespace: 'shop', service: 'web', port: '' },
      null,
    ]);
  });
});

describe('refreshed models (counters as arrays, model/counter-refresh/refreshed-model.ts)', () => {
  const chain = serviceChainName('KUBE-SVC-', 'shop/web:http', 'tcp');

  /** A refreshed model whose `ladders` throws when read: enrichment must work from the structure alone. */
  function refreshed(structure: readonly Ladder[], connections: number[]): ServiceModel {
    const m = { ipFamily: 'ipv4', skipped: [], hasCounters: true, warnings: [] };
    Object.defineProperty(m, 'ladders', {
      enumerable: true,
      get: () => {
        throw new Error('ladders built');
      },
    });
    const counters: ModelCounters = { ladders: structure, connections: Float64Array.from(connections), affinityConnections: new Float64Array(connections.length), hasAffinity: new Uint8Array(structure.length), lines: Int32Array.from(structure.flatMap((l) => l.endpoints), (e) => e.line) };
    Object.defineProperty(m, 'counters', { enumerable: false, value: counters });
    return m as unknown as ServiceModel;
  }

  it('nameLadders keeps the model refreshed and gives back the same named ladders sample after sample', () => {
    const structure = [ladder(chain, ['10.0.0.1:8080', '10.0.0.2:8080'], { name: null })];
    const cluster = view([]);
    const [first] = nameLadders([refreshed(structure, [3, 4])], cluster);
    const [second] = nameLadders([refreshed(structure, [5, 9])], cluster);
    expect(first?.counters?.ladders[0]?.name).toEqual({ namespace: 'shop', service: 'web', port: 'http' });
    expect(second?.counters?.ladders[0]).toBe(first?.counters?.ladders[0]);
    expect([...(second?.counters?.connections ?? [])]).toEqual([5, 9]);
    // Its ladders, when something does read them, carry the names and this sample's counters.
    expect(second?.ladders[0]?.name?.service).toBe('web');
    expect(second?.ladders[0]?.endpoints.map((e) => e.connections)).toEqual([5, 9]);
  });

  it('enrich reads only the structure of a refreshed model', () => {
    const structure = [ladder(chain, ['10.0.0.1:8080'])];
    const result = enrich([refreshed(structure, [7])], view([endpoint('10.0.0.1'), endpoint('10.0.0.2')]), node);
    expect(result.endpointInfo.map((e) => e.endpoint)).toEqual(['10.0.0.1:8080']);
    expect(result.drift).toEqual([{ ladderKey: `ipv4/${chain}`, missing: ['10.0.0.2:8080'], stale: [], certain: true }]);
  });
});
