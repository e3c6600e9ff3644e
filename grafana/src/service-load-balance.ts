/** "Service load balance": how one service port's new connections spread over its endpoints, cluster-wide and per node. */
import { dashboard, dashedSeries, datasourceVariable, queryVariable, type JsonObject } from './builders.js';

const SEL = 'cluster=~"$cluster", namespace="$namespace", service="$service", port=~"$port"';

const endpointRate = `rate(kube_balance_endpoint_connections_total{${SEL}}[$__rate_interval])`;
/** Each endpoint's share of a per-endpoint quantity, summed over nodes (and ports/families selected). */
const shareOf = (series: string) =>
  `sum by (endpoint) (${series})\n  / ignoring (endpoint) group_left ()\n(sum (${series}) > 0)`;

const ratioThresholds = [
  ['red', null],
  ['green', 0.75],
  ['red', 1.25],
] as const;

export function serviceLoadBalance(): JsonObject {
  return dashboard({
    uid: 'kube-balance-service',
    title: 'Service load balance',
    description:
      "How kube-proxy (iptables mode) spreads one service port's new connections over its endpoints: cluster-wide " +
      'observed vs traffic-weighted expected shares, skew evidence and magnitude, and which nodes send where. ' +
      'Needs deploy/prometheus/kube-balance.rules.yaml.',
    links: [
      { asDropdown: false, icon: 'dashboard', includeVars: true, keepTime: true, tags: [], targetBlank: false, title: 'Cluster overview', type: 'link', url: '/d/kube-balance-overview/cluster-overview' },
    ],
    variables: [
      datasourceVariable(),
      queryVariable({
        name: 'cluster',
        label: 'cluster',
        query: 'label_values(kube_balance_build_info, cluster)',
        includeAll: true,
        description: 'The `cluster` label, if your Prometheus adds one; "All" also matches series without it.',
      }),
      queryVariable({ name: 'namespace', label: 'namespace', query: 'label_values(kube_balance_service_info{cluster=~"$cluster"}, namespace)' }),
      queryVariable({ name: 'service', label: 'service', query: 'label_values(kube_balance_service_info{cluster=~"$cluster", namespace="$namespace"}, service)' }),
      queryVariable({
        name: 'port',
        label: 'port',
        query: 'label_values(kube_balance_service_info{cluster=~"$cluster", namespace="$namespace", service="$service"}, port)',
        includeAll: true,
        description: 'The service port name; "All" also matches an unnamed port.',
      }),
    ],
    rows: [
      {
        row: 'Cluster-wide balance',
        panels: [
          {
            type: 'stat',
            title: 'New connections/s',
            description: 'New connections per second to this service port, summed over all nodes and policies (5m rate).',
            width: 4,
            height: 4,
            unit: 'cps',
            targets: [{ expr: `sum(namespace_service_port:kube_balance_connections:rate5m{${SEL}})`, legend: 'connections/s' }],
          },
          {
            type: 'stat',
            title: 'Connections in the test window',
            description: 'New connections to this service port in the last 10m: the sample behind the skew z and ratios below.',
            width: 4,
            height: 4,
            targets: [{ expr: `sum(namespace_service_port:kube_balance_connections:increase10m{${SEL}})`, legend: 'connections (10m)' }],
          },
          {
            type: 'stat',
            title: 'Nodes sending',
            description: 'Nodes whose rules load-balanced new connections to this service port in the last 5m.',
            width: 4,
            height: 4,
            targets: [{ expr: `count(sum by (node) (rate(kube_balance_service_connections_total{${SEL}}[$__rate_interval])) > 0) or vector(0)`, legend: 'nodes' }],
          },
          {
            type: 'stat',
            title: 'Endpoints',
            description: "Distinct endpoints in any node's ladder for this service port.",
            width: 4,
            height: 4,
            targets: [{ expr: `count(count by (endpoint) (kube_balance_endpoint_expected_ratio{${SEL}}))`, legend: 'endpoints' }],
          },
          {
            type: 'stat',
            title: 'Skew evidence (z)',
            description:
              'Chi-square goodness of fit of the last 10m against the traffic-weighted expected split, as a normal score ' +
              '(Wilson–Hilferty). Above 4 the skew is statistically significant. Absent while endpoints churn or when ' +
              'an endpoint expects fewer than 5 connections in 10m.',
            width: 4,
            height: 4,
            decimals: 1,
            thresholds: [
              ['green', null],
              ['orange', 3],
              ['red', 4],
            ],
            targets: [{ expr: `max(namespace_service_port:kube_balance_chi_square_z:increase10m{${SEL}})`, legend: 'z' }],
          },
          {
            type: 'stat',
            title: 'Skew magnitude (max observed/expected)',
            description: "The most over-served endpoint's observed share over its expected share, last 10m (1 = fair). The skew alert needs ≥ 1.25 (or ≤ 0.75) together with z > 4.",
            width: 4,
            height: 4,
            decimals: 2,
            unit: 'x',
            thresholds: [
              ['green', null],
              ['red', 1.25],
            ],
            targets: [{ expr: `max(namespace_service_port:kube_balance_skew_ratio:increase10m{${SEL}})`, legend: 'max ratio' }],
          },
          {
            type: 'barchart',
            title: 'Observed vs expected share per endpoint',
            description:
              'Share of the cluster-wide new connections (5m) each endpoint received, next to the share it should get: ' +
              "every node ladder's traffic times that ladder's 1/n, summed (nodes with topology hints or local " +
              'ladders hold different endpoint subsets).',
            width: 12,
            height: 10,
            unit: 'percentunit',
            min: 0,
            targets: [
              { expr: `namespace_service_port_endpoint:kube_balance_observed_share:ratio_rate5m{${SEL}}`, instant: true },
              { expr: `namespace_service_port_endpoint:kube_balance_expected_share:ratio_rate5m{${SEL}}`, instant: true },
            ],
            options: { xField: 'endpoint' },
            transformations: [
              { id: 'merge', options: {} },
              { id: 'filterFieldsByName', options: { include: { names: ['endpoint', 'Value #A', 'Value #B'] } } },
              { id: 'organize', options: { renameByName: { 'Value #A': 'observed', 'Value #B': 'expected' } } },
            ],
          },
          {
            type: 'bargauge',
            title: 'Observed / expected per endpoint (10m)',
            description: 'Each endpoint’s new connections over its traffic-weighted expected count in the last 10m. Outside 0.75–1.25 is material skew.',
            width: 12,
            height: 10,
            unit: 'x',
            decimals: 2,
            min: 0,
            max: 2,
            thresholds: ratioThresholds,
            targets: [{ expr: `namespace_service_port_endpoint:kube_balance_observed_over_expected:ratio_increase10m{${SEL}}`, legend: '{{endpoint}}', instant: true }],
          },
        ],
      },
      {
        row: 'Over time',
        panels: [
          {
            type: 'timeseries',
            title: 'New connections per endpoint',
            description: 'New connections per second to each endpoint, summed over nodes; dashed: the traffic-weighted expected rate.',
            width: 12,
            height: 9,
            unit: 'cps',
            targets: [
              { expr: `sum by (endpoint) (${endpointRate})`, legend: '{{endpoint}}' },
              {
                expr:
                  `sum by (endpoint) (\n  kube_balance_endpoint_expected_ratio{${SEL}}\n` +
                  `  * ignoring (endpoint) group_left ()\n  sum without (endpoint) (${endpointRate})\n)`,
                legend: '{{endpoint}} expected',
              },
            ],
            overrides: [
              dashedSeries('/ expected$/'),
            ],
          },
          {
            type: 'timeseries',
            title: 'Observed share per endpoint',
            description: 'Share of the cluster-wide new connections per endpoint (5m), with the expected share dashed.',
            width: 12,
            height: 9,
            unit: 'percentunit',
            min: 0,
            targets: [
              { expr: `namespace_service_port_endpoint:kube_balance_observed_share:ratio_rate5m{${SEL}}`, legend: '{{endpoint}}' },
              { expr: `namespace_service_port_endpoint:kube_balance_expected_share:ratio_rate5m{${SEL}}`, legend: '{{endpoint}} expected' },
            ],
            overrides: [
              dashedSeries('/ expected$/'),
            ],
          },
          {
            type: 'timeseries',
            title: 'Skew evidence: chi-square z (10m)',
            description: 'Normal score of the 10m chi-square statistic; the skew alert needs > 4 for 15m (with a material ratio). Gaps: endpoint churn or too few connections.',
            width: 12,
            height: 8,
            decimals: 1,
            thresholdLines: true,
            thresholds: [
              ['transparent', null],
              ['red', 4],
            ],
            targets: [{ expr: `namespace_service_port:kube_balance_chi_square_z:increase10m{${SEL}}`, legend: '{{port}} {{ip_family}} z' }],
          },
          {
            type: 'timeseries',
            title: 'Skew magnitude: observed/expected per endpoint (10m)',
            description: 'Each endpoint’s observed over expected count in the last 10m; dashed: the exporter’s own per-node skew ratio over its --window.',
            width: 12,
            height: 8,
            unit: 'x',
            decimals: 2,
            thresholdLines: true,
            thresholds: ratioThresholds,
            targets: [
              { expr: `namespace_service_port_endpoint:kube_balance_observed_over_expected:ratio_increase10m{${SEL}}`, legend: '{{endpoint}}' },
              { expr: `kube_balance_service_skew_ratio{${SEL}}`, legend: '{{node}} {{policy}} (exporter window)' },
            ],
            overrides: [
              dashedSeries('/exporter window/', [4, 6]),
            ],
          },
        ],
      },
      {
        row: 'Per node',
        panels: [
          {
            type: 'table',
            title: 'Which nodes send where (new connections/s)',
            description: 'Rows: the node whose rules chose the endpoint (the connection started on, or entered through, that node). Columns: endpoints. Empty cells: the endpoint is not in that node’s ladder (topology hints, local policy).',
            width: 12,
            height: 9,
            unit: 'cps',
            decimals: 2,
            targets: [{ expr: `sum by (node, endpoint) (${endpointRate})`, instant: true }],
            transformations: [{ id: 'groupingToMatrix', options: { columnField: 'endpoint', rowField: 'node', valueField: 'Value' } }],
          },
          {
            type: 'timeseries',
            title: 'New connections per node',
            description: 'New connections per second each node load-balanced for this service port, by ladder policy (cluster = KUBE-SVC, local = KUBE-SVL).',
            width: 12,
            height: 9,
            unit: 'cps',
            custom: { fillOpacity: 30, stacking: { group: 'A', mode: 'normal' } },
            targets: [{ expr: `sum by (node, policy) (rate(kube_balance_service_connections_total{${SEL}}[$__rate_interval]))`, legend: '{{node}} {{policy}}' }],
          },
          {
            type: 'table',
            title: 'Ladders per node',
            description:
              "Each node's ladder: endpoints (n), the largest deviation of the programmed probabilities from 1/n (non-zero: " +
              'stale or hand-edited rules), membership changed in the exporter window, counter resets in the last hour ' +
              '(kube-proxy rewrites), and the exporter’s per-node p-value and skew ratio over its --window.',
            width: 24,
            height: 8,
            targets: [
              { expr: `max by (node, policy) (kube_balance_service_endpoints{${SEL}})`, instant: true },
              { expr: `max by (node, policy) (kube_balance_service_programmed_deviation_ratio{${SEL}})`, instant: true },
              { expr: `max by (node, policy) (kube_balance_service_window_membership_changed{${SEL}})`, instant: true },
              { expr: `sum by (node, policy) (increase(kube_balance_service_resets_total{${SEL}}[1h]))`, instant: true },
              { expr: `min by (node, policy) (kube_balance_service_uniformity_p_value{${SEL}})`, instant: true },
              { expr: `max by (node, policy) (kube_balance_service_skew_ratio{${SEL}})`, instant: true },
            ],
            transformations: [
              { id: 'merge', options: {} },
              {
                id: 'organize',
                options: {
                  excludeByName: { Time: true },
                  renameByName: {
                    'Value #A': 'endpoints',
                    'Value #B': 'programmed deviation',
                    'Value #C': 'membership changed',
                    'Value #D': 'resets (1h)',
                    'Value #E': 'p-value (exporter window)',
                    'Value #F': 'skew ratio (exporter window)',
                  },
                },
              },
            ],
          },
        ],
      },
      {
        row: 'Load: open connections and bytes (requires --conntrack.enabled)',
        panels: [
          {
            type: 'barchart',
            title: 'Share per endpoint: new connections, open connections, bytes',
            description:
              'Requires --conntrack.enabled (bytes also net.netfilter.nf_conntrack_acct=1). Each endpoint’s share of the new ' +
              'connections (5m, rule counters), of the connections conntrack tracks now, and of the bytes those open ' +
              'connections have carried, summed over nodes. Even new connections with uneven bytes: long-lived ' +
              'connections carrying uneven load ("connections balanced, load not"), which kube-proxy cannot fix.',
            width: 12,
            height: 10,
            unit: 'percentunit',
            min: 0,
            targets: [
              { expr: shareOf(`namespace_service_port_endpoint:kube_balance_connections:rate5m{${SEL}}`), instant: true },
              { expr: shareOf(`kube_balance_endpoint_active_connections{${SEL}, state="all"}`), instant: true },
              { expr: shareOf(`kube_balance_endpoint_traffic_bytes{${SEL}}`), instant: true },
            ],
            options: { xField: 'endpoint' },
            transformations: [
              { id: 'merge', options: {} },
              { id: 'filterFieldsByName', options: { include: { names: ['endpoint', 'Value #A', 'Value #B', 'Value #C'] } } },
              { id: 'organize', options: { renameByName: { 'Value #A': 'new connections', 'Value #B': 'open connections', 'Value #C': 'bytes' } } },
            ],
          },
          {
            type: 'timeseries',
            title: 'Skew per node: new connections, open connections, bytes',
            description:
              'Requires --conntrack.enabled. Per node, the largest endpoint share over 1/n of: new connections in the ' +
              'exporter’s --window (rule counters), connections tracked now, and bytes of those connections. ' +
              'KubeBalanceLoadImbalancedConnectionsBalanced fires when bytes stay ≥ 1.5 (peaking ≥ 2) while open ' +
              'connections stay below 1.3.',
            width: 12,
            height: 10,
            unit: 'x',
            decimals: 2,
            min: 1,
            thresholdLines: true,
            thresholds: [
              ['transparent', null],
              ['orange', 1.5],
              ['red', 2],
            ],
            targets: [
              { expr: `max by (node) (kube_balance_service_skew_ratio{${SEL}})`, legend: '{{node}} new connections' },
              { expr: `max by (node) (kube_balance_service_active_skew_ratio{${SEL}})`, legend: '{{node}} open connections' },
              { expr: `max by (node) (kube_balance_service_bytes_skew_ratio{${SEL}})`, legend: '{{node}} bytes' },
            ],
            overrides: [
              dashedSeries('/ new connections$/', [4, 6]),
            ],
          },
          {
            type: 'timeseries',
            title: 'Open connections per endpoint',
            description: 'Requires --conntrack.enabled. Established connections (UDP: assured flows) to each endpoint that conntrack tracks now, summed over nodes.',
            width: 12,
            height: 8,
            targets: [{ expr: `sum by (endpoint) (kube_balance_endpoint_active_connections{${SEL}, state="established"})`, legend: '{{endpoint}}' }],
          },
          {
            type: 'timeseries',
            title: 'Bytes of open connections per endpoint',
            description:
              'Requires --conntrack.enabled and nf_conntrack_acct=1. Bytes (both directions) carried so far by the connections ' +
              'to each endpoint that conntrack tracks now, summed over nodes: not a counter, it drops when connections close.',
            width: 12,
            height: 8,
            unit: 'bytes',
            targets: [{ expr: `sum by (endpoint) (kube_balance_endpoint_traffic_bytes{${SEL}})`, legend: '{{endpoint}}' }],
          },
        ],
      },
      {
        row: 'Service and endpoints',
        panels: [
          {
            type: 'table',
            title: 'Service ladders',
            description: 'kube_balance_service_info: the KUBE-SVC/KUBE-SVL chain per node, cluster IP and session affinity (ClientIP affinity is non-uniform by design; skew alerts skip it).',
            width: 24,
            height: 6,
            targets: [{ expr: `max by (node, policy, protocol, ip_family, chain, cluster_ip, session_affinity) (kube_balance_service_info{${SEL}})`, instant: true }],
            transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true } } }],
          },
          {
            type: 'table',
            title: 'Endpoint info (requires --kube.enabled)',
            description:
              'Requires the exporter’s Kubernetes enrichment (--kube.enabled): pod, node, zone and readiness of each endpoint ' +
              'from the EndpointSlices (kube_balance_endpoint_info). Empty without it.',
            width: 24,
            height: 8,
            targets: [
              {
                expr: `max by (endpoint, pod, pod_node, zone, ready, serving, terminating) (kube_balance_endpoint_info{${SEL}})`,
                instant: true,
              },
            ],
            transformations: [{ id: 'organize', options: { excludeByName: { Time: true, Value: true } } }],
          },
        ],
      },
    ],
  });
}
