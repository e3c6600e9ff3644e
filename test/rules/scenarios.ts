/**
 * The promtool unit-test scenarios: what happens on the fleet, and which alerts must fire (from
 * which evaluation time on). Everything not listed must stay silent at every evaluation time.
 */
import type { LadderSpec, NodeSpec, ServiceSpec } from './series.js';

export interface ExpectedAlert {
  readonly alertname: string;
  /** The alert's labels besides alertname and the rule's own labels (severity). */
  readonly labels: Readonly<Record<string, string>>;
  /** First evaluation time (minutes) at which it must be firing; it keeps firing afterwards. */
  readonly fromMinute: number;
}

export interface Scenario {
  /** File name under deploy/prometheus/tests/ (without .yaml). */
  readonly name: string;
  readonly description: string;
  readonly cluster?: string;
  readonly services: readonly ServiceSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly expect: readonly ExpectedAlert[];
}

/** Evaluation times chosen away from the multiples of 5 and 15 where `for:` clauses end. */
export const EVAL_MINUTES = [12, 24, 37, 49, 60] as const;
export const SCENARIO_MINUTES = 60;
export const SCRAPE_SECONDS = 30;
export const EXPORTER_WINDOW_MINUTES = 5;

const NODES: readonly NodeSpec[] = [
  { node: 'node-a', instance: '10.0.0.11:10090' },
  { node: 'node-b', instance: '10.0.0.12:10090' },
  { node: 'node-c', instance: '10.0.0.13:10090' },
];
const [A, B, C] = NODES as [NodeSpec, NodeSpec, NodeSpec];
const EP = (n: number) => `10.244.${n}.10:8080`;

function uniform(nodes: readonly NodeSpec[], endpoints: readonly string[], rate: number): LadderSpec[] {
  return nodes.map((n) => ({ node: n.node, endpoints, rate }));
}

function web(ladders: readonly LadderSpec[], extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { namespace: 'shop', service: 'web', port: 'http', clusterIP: '10.96.0.20', ladders, ...extra };
}

function endpointAlert(alertname: string, svc: ServiceSpec, endpoint: string, fromMinute: number, cluster?: string): ExpectedAlert {
  return {
    alertname,
    fromMinute,
    labels: {
      ...(cluster === undefined ? {} : { cluster }),
      namespace: svc.namespace,
      service: svc.service,
      port: svc.port,
      protocol: svc.protocol ?? 'tcp',
      ip_family: svc.ipFamily ?? 'ipv4',
      endpoint,
    },
  };
}

function nodeAlert(alertname: string, node: NodeSpec, fromMinute: number, extra: Record<string, string> = {}): ExpectedAlert {
  return {
    alertname,
    fromMinute,
    labels: { instance: node.instance, job: node.job ?? 'kube-balance-exporter', node: node.node, ...extra },
  };
}

const three = [EP(1), EP(2), EP(3)];
const four = [EP(1), EP(2), EP(3), EP(4)];
const five = [EP(1), EP(2), EP(3), EP(4), EP(5)];

const hot = web(uniform([A, B], four, 1).map((l) => ({ ...l, weights: [1.5, 5 / 6, 5 / 6, 5 / 6] })));
const starved = web(uniform([A, B], three, 2).map((l) => ({ ...l, weights: [1, 1, 0] })));
const lowRare = web(uniform([A, B, C], three, 0.0035), { service: 'rare', clusterIP: '10.96.0.21' });
const lowRareStarved = { ...lowRare, ladders: lowRare.ladders.map((l) => ({ ...l, weights: [1, 1, 0] })) };
const programmed = web([
  { node: 'node-a', endpoints: three, rate: 2, weights: [2, 1, 1], programmedDeviation: 0.5 - 1 / 3 },
  { node: 'node-b', endpoints: three, rate: 1 },
]);
const driftSvc = web(uniform([A, B], three, 0.5), { drift: [{ node: 'node-b', fromMinute: 5, missing: 1 }] });

/** Long-lived connections: few new ones per second, ~100 open per endpoint and node. */
const grpc = (conntrack: ServiceSpec['conntrack']): ServiceSpec =>
  web(uniform([A, B], three, 0.2), { service: 'grpc', port: 'grpc', clusterIP: '10.96.0.30', conntrack });
const evenConnections = [100, 100, 100];
const MB = 1_000_000;
const loadSkewed = grpc([
  // node-a: from minute 10 the first endpoint's connections carry 5x the bytes of its peers'.
  { node: 'node-a', endpoints: three, connections: evenConnections, bytesPerConnection: [MB, MB, MB], bursts: [{ endpoint: EP(1), from: 10, to: 61, factor: 5 }] },
  { node: 'node-b', endpoints: three, connections: evenConnections, bytesPerConnection: [MB, MB, MB] },
]);

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'uniform-low-traffic',
    description:
      'Uniform balancing at low traffic (about 30 expected connections per endpoint in 10m), plus a service ' +
      'so quiet that one endpoint getting nothing is chance (below the 20-connection floor): no alert.',
    services: [web(uniform([A, B, C], three, 0.05)), lowRareStarved],
    nodes: NODES,
    expect: [],
  },
  {
    name: 'uniform-high-traffic-topology',
    description:
      'Uniform per-node balancing at high traffic where nodes hold different endpoint subsets (node-c has ' +
      'topology hints for two endpoints, node-a also has a local ladder): only the traffic-weighted expectation ' +
      'is uniform-consistent, so no alert. Carries a cluster label.',
    cluster: 'lab-1',
    services: [
      web([
        { node: 'node-a', endpoints: five, rate: 60 },
        { node: 'node-a', policy: 'local', endpoints: [EP(1)], rate: 30 },
        { node: 'node-b', endpoints: five, rate: 120 },
        { node: 'node-c', endpoints: [EP(4), EP(5)], rate: 40 },
      ]),
    ],
    nodes: NODES,
    expect: [],
  },
  {
    name: 'hot-endpoint',
    description: 'One of four endpoints gets 1.5x its share on every node: KubeBalanceEndpointSkewed for it alone.',
    services: [hot],
    nodes: [A, B],
    expect: [endpointAlert('KubeBalanceEndpointSkewed', hot, EP(1), 24)],
  },
  {
    name: 'starved-endpoint',
    description:
      'One of three endpoints gets no new connections while its peers do: KubeBalanceEndpointStarved, and its ' +
      "peers' consequent excess is not reported again as skew.",
    services: [starved],
    nodes: [A, B],
    expect: [endpointAlert('KubeBalanceEndpointStarved', starved, EP(3), 12)],
  },
  {
    name: 'counter-reset',
    description: 'Uniform traffic while two exporters restart mid-window (their counters start again at zero): no alert.',
    services: [web(uniform([A, B, C], three, 1))],
    nodes: [A, { ...B, restartsAtMinutes: [20, 41] }, { ...C, restartsAtMinutes: [33] }],
    expect: [],
  },
  {
    name: 'endpoint-churn',
    description:
      "Endpoint churn: the deployment scales up from 3 to 4 endpoints at minute 15, and the fifth endpoint's " +
      'readiness flaps (3 minutes in the ladder, 3 out). Windows that straddle a membership change are not ' +
      'compared with a split that did not hold, so no alert.',
    services: [
      web(
        uniform([A, B], five, 5).map((l) => ({
          ...l,
          absent: [
            { endpoint: EP(4), from: 0, to: 15 },
            ...Array.from({ length: 10 }, (_, i) => ({ endpoint: EP(5), from: 6 * i, to: 6 * i + 3 })),
          ],
        })),
      ),
    ],
    nodes: [A, B],
    expect: [],
  },
  {
    name: 'session-affinity',
    description:
      'ClientIP-affinity services are non-uniform by design (a few heavy clients pinned to endpoints, one endpoint ' +
      'with no pinned client): no skew or starvation alert.',
    services: [
      web(uniform([A, B], three, 2).map((l) => ({ ...l, weights: [6, 3, 1] })), { service: 'sticky', affinity: true }),
      web(uniform([A, B], three, 2).map((l) => ({ ...l, weights: [1, 1, 0] })), { service: 'sticky-idle', affinity: true, clusterIP: '10.96.0.22' }),
    ],
    nodes: [A, B],
    expect: [],
  },
  {
    name: 'programmed-not-uniform',
    description:
      "node-a's ladder is hand-edited to send half of its connections to the first endpoint: the programmed-split " +
      'alert for that node ladder, and (node-a carrying 2/3 of the traffic) real cluster-wide skew for the endpoint.',
    services: [programmed],
    nodes: [A, B],
    expect: [
      nodeAlert('KubeBalanceProgrammedSplitNotUniform', A, 37, {
        namespace: 'shop',
        service: 'web',
        port: 'http',
        protocol: 'tcp',
        ip_family: 'ipv4',
        policy: 'cluster',
      }),
      endpointAlert('KubeBalanceEndpointSkewed', programmed, EP(1), 24),
    ],
  },
  {
    name: 'rules-drift',
    description: "Requires --kube.enabled: node-b's rules miss an endpoint of the EndpointSlice from minute 5 on.",
    services: [driftSvc],
    nodes: [A, B],
    expect: [
      nodeAlert('KubeBalanceRulesDrift', B, 24, { namespace: 'shop', service: 'web', port: 'http', protocol: 'tcp', ip_family: 'ipv4', policy: 'cluster' }),
    ],
  },
  {
    name: 'stale-data',
    description: "node-b's sampler hangs at minute 10 and keeps serving its last snapshot: KubeBalanceExporterDataStale, no skew.",
    services: [web(uniform([A, B], three, 1))],
    nodes: [A, { ...B, stuckFromMinute: 10 }],
    expect: [nodeAlert('KubeBalanceExporterDataStale', B, 24)],
  },
  {
    name: 'sampling-failing',
    description: "One sample in three fails on node-a from minute 5: KubeBalanceSamplingFailing.",
    services: [web(uniform([A, B], three, 1))],
    nodes: [{ ...A, failingFromMinute: 5 }, B],
    expect: [nodeAlert('KubeBalanceSamplingFailing', A, 24)],
  },
  {
    name: 'iptables-unreadable',
    description:
      'Every sample fails on node-a from minute 10 (iptables-save gone): KubeBalanceExporterNotUp only (not also ' +
      'SamplingFailing or DataStale, which describe partial failure and a hung sampler).',
    services: [web(uniform([A, B], three, 1))],
    nodes: [{ ...A, brokenFromMinute: 10 }, B],
    expect: [nodeAlert('KubeBalanceExporterNotUp', A, 24)],
  },
  {
    name: 'exporter-down',
    description: 'The node-b target stops answering at minute 12 (PodMonitor-style job name): KubeBalanceExporterDown only.',
    services: [web(uniform([A, B], three, 1))],
    nodes: [
      { ...A, job: 'kube-balance/kube-balance-exporter' },
      { ...B, job: 'kube-balance/kube-balance-exporter', downFromMinute: 12 },
    ],
    expect: [nodeAlert('KubeBalanceExporterDown', { ...B, job: 'kube-balance/kube-balance-exporter' }, 24)],
  },
  {
    name: 'load-imbalanced-connections-balanced',
    description:
      "Needs --conntrack.enabled: from minute 10 on node-a, the grpc Service's first endpoint carries 5x the bytes per " +
      'open connection of its peers (bytes skew ≈ 2.1) while open connections stay even: ' +
      'KubeBalanceLoadImbalancedConnectionsBalanced for node-a only, once the bytes skew has held for the whole 15m ' +
      'window and then for 15m more (firing from about minute 40). New connections are uniform: no skew alert.',
    services: [loadSkewed],
    nodes: [A, B],
    expect: [
      nodeAlert('KubeBalanceLoadImbalancedConnectionsBalanced', A, 49, { namespace: 'shop', service: 'grpc', port: 'grpc', protocol: 'tcp', ip_family: 'ipv4' }),
    ],
  },
  {
    name: 'load-balanced',
    description:
      'Needs --conntrack.enabled: no KubeBalanceLoadImbalancedConnectionsBalanced when bytes follow connections: grpc ' +
      'with even connections and even bytes; db whose open connections pile up on one endpoint (connections and ' +
      'bytes skewed alike: not load behind balanced connections); batch whose first endpoint carries a 6-minute ' +
      'burst of 6x the bytes (the bytes skew must hold for 15m, not just peak).',
    services: [
      grpc([
        { node: 'node-a', endpoints: three, connections: evenConnections, bytesPerConnection: [MB, MB, MB] },
        { node: 'node-b', endpoints: three, connections: evenConnections, bytesPerConnection: [MB, MB, MB] },
      ]),
      web(uniform([A, B], three, 0.2), {
        service: 'db',
        port: 'sql',
        clusterIP: '10.96.0.31',
        conntrack: [{ node: 'node-a', endpoints: three, connections: [200, 50, 50], bytesPerConnection: [MB, MB, MB] }],
      }),
      web(uniform([A, B], three, 0.2), {
        service: 'batch',
        port: 'http',
        clusterIP: '10.96.0.32',
        conntrack: [
          { node: 'node-b', endpoints: three, connections: evenConnections, bytesPerConnection: [MB, MB, MB], bursts: [{ endpoint: EP(1), from: 20, to: 26, factor: 6 }] },
        ],
      }),
    ],
    nodes: [A, B],
    expect: [],
  },
  {
    name: 'exporter-absent',
    description: 'No kube-balance-exporter target at all: KubeBalanceExporterAbsent.',
    services: [],
    nodes: [{ node: 'node-a', instance: '10.0.0.11:9100', job: 'node-exporter' }],
    expect: [{ alertname: 'KubeBalanceExporterAbsent', labels: {}, fromMinute: 24 }],
  },
];
