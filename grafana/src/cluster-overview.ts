/** "Cluster overview": the most skewed service ports, starved endpoints, non-uniform rules, and exporter health per node. */
import { dashboard, dashedSeries, datasourceVariable, queryVariable, type JsonObject } from './builders.js';

const C = 'cluster=~"$cluster"';
const J = 'cluster=~"$cluster", job=~"$job"';
const SP = 'cluster, namespace, service, port, protocol, ip_family';

const z = `namespace_service_port:kube_balance_chi_square_z:increase10m{${C}}`;
const ratio = `namespace_service_port_endpoint:kube_balance_observed_over_expected:ratio_increase10m{${C}}`;
const significant = `(${z} > 4)`;
const mostSkewed = `topk(20, namespace_service_port:kube_balance_skew_ratio:increase10m{${C}} and on (${SP}) ${significant})`;
// As the KubeBalanceEndpointStarved alert: ClientIP-affinity services idle endpoints by design.
const starved =
  `(namespace_service_port_endpoint:kube_balance_expected_connections:increase10m{${C}} >= 20\n` +
  `and on (${SP}, endpoint)\n(namespace_service_port_endpoint:kube_balance_connections:increase10m{${C}} == 0))\n` +
  `unless on (cluster, namespace, service) kube_balance_service_info{${C}, session_affinity="ClientIP"}`;

const serviceLink = {
  title: 'Service load balance',
  url:
    '/d/kube-balance-service/service-load-balance?${datasource:queryparam}&${cluster:queryparam}' +
    '&var-namespace=${__data.fields.namespace}&var-service=${__data.fields.service}&${__url_time_range}',
};

const byNode = (expr: string) => ({ expr: `max by (node, instance) (${expr})`, instant: true });

export function clusterOverview(): JsonObject {
  return dashboard({
    uid: 'kube-balance-overview',
    title: 'Cluster overview',
    description:
      'kube-balance-exporter across the cluster: service ports whose new connections are significantly and materially ' +
      'skewed, starved endpoints, non-uniform kube-proxy rules, and the health of the exporter on every node. Needs ' +
      'deploy/prometheus/kube-balance.rules.yaml.',
    variables: [
      datasourceVariable(),
      queryVariable({
        name: 'cluster',
        label: 'cluster',
        query: 'label_values(kube_balance_build_info, cluster)',
        includeAll: true,
        description: 'The `cluster` label, if your Prometheus adds one; "All" also matches series without it.',
      }),
      queryVariable({
        name: 'job',
        label: 'job',
        query: 'label_values(kube_balance_build_info{cluster=~"$cluster"}, job)',
        includeAll: true,
        description: 'The scrape job(s) of kube-balance-exporter.',
      }),
    ],
    rows: [
      {
        row: 'Load balance',
        panels: [
          {
            type: 'stat',
            title: 'Service ports with traffic',
            description: 'Service ports (per protocol and IP family) with new connections in the last 5m.',
            width: 6,
            height: 4,
            targets: [{ expr: `count(namespace_service_port:kube_balance_connections:rate5m{${C}} > 0) or vector(0)`, legend: 'service ports' }],
          },
          {
            type: 'stat',
            title: 'New connections/s',
            description: 'New connections per second load-balanced by kube-proxy over all service ports and nodes (5m rate).',
            width: 6,
            height: 4,
            unit: 'cps',
            targets: [{ expr: `sum(namespace_service_port:kube_balance_connections:rate5m{${C}})`, legend: 'connections/s' }],
          },
          {
            type: 'stat',
            title: 'Skewed endpoints',
            description: 'Endpoints whose observed/expected ratio (10m) is ≥ 1.25 or ≤ 0.75 in a service port with skew z > 4: what KubeBalanceEndpointSkewed watches (before its 15m `for` and exclusions).',
            width: 6,
            height: 4,
            thresholds: [
              ['green', null],
              ['red', 1],
            ],
            targets: [
              {
                expr: `count(\n  (${ratio} >= 1.25 or ${ratio} <= 0.75)\n  and on (${SP}) ${significant}\n) or vector(0)`,
                legend: 'endpoints',
              },
            ],
          },
          {
            type: 'stat',
            title: 'Starved endpoints',
            description: 'Endpoints that received no new connections in 10m although they should have received at least 20.',
            width: 6,
            height: 4,
            thresholds: [
              ['green', null],
              ['red', 1],
            ],
            targets: [{ expr: `count(\n${starved}\n) or vector(0)`, legend: 'endpoints' }],
          },
          {
            type: 'table',
            title: 'Most skewed service ports',
            description:
              'Service ports whose 10m split differs significantly (z > 4) from the traffic-weighted expectation, ranked by ' +
              'the largest observed/expected ratio. Click a row to open Service load balance.',
            width: 24,
            height: 9,
            links: [serviceLink],
            targets: [
              { expr: mostSkewed, instant: true },
              { expr: `${z} and on (${SP}) ${mostSkewed}`, instant: true },
              { expr: `namespace_service_port:kube_balance_connections:rate5m{${C}} and on (${SP}) ${mostSkewed}`, instant: true },
            ],
            transformations: [
              { id: 'merge', options: {} },
              {
                id: 'organize',
                options: {
                  excludeByName: { Time: true },
                  renameByName: { 'Value #A': 'max observed/expected', 'Value #B': 'z', 'Value #C': 'connections/s' },
                },
              },
              { id: 'sortBy', options: { sort: [{ desc: true, field: 'max observed/expected' }] } },
            ],
          },
          {
            type: 'timeseries',
            title: 'Skew evidence (z) of the top 10 service ports',
            description: 'Normal score of the 10m chi-square statistic per service port; above 4 is significant (the line).',
            width: 12,
            height: 8,
            decimals: 1,
            thresholdLines: true,
            thresholds: [
              ['transparent', null],
              ['red', 4],
            ],
            targets: [{ expr: `topk(10, ${z})`, legend: '{{namespace}}/{{service}}:{{port}} {{ip_family}}' }],
          },
          {
            type: 'table',
            title: 'Starved endpoints',
            description: 'Endpoints with no new connections in 10m and the number they should have received (traffic-weighted).',
            width: 12,
            height: 8,
            decimals: 0,
            links: [serviceLink],
            targets: [{ expr: starved, instant: true }],
            transformations: [{ id: 'organize', options: { excludeByName: { Time: true }, renameByName: { Value: 'expected connections (10m)' } } }],
          },
          {
            type: 'table',
            title: 'Rules not programmed uniformly',
            description: 'Node ladders whose --probability rules deviate from 1/n by more than 0.01: stale or hand-edited rules (kube-proxy writes 1/(n−i)).',
            width: 24,
            height: 7,
            decimals: 3,
            targets: [{ expr: `kube_balance_service_programmed_deviation_ratio{${C}} > 0.01`, instant: true }],
            transformations: [
              {
                id: 'organize',
                options: {
                  excludeByName: { Time: true, __name__: true, job: true, pod: true, container: true, endpoint: true },
                  renameByName: { Value: 'max |programmed − 1/n|' },
                },
              },
            ],
          },
        ],
      },
      {
        row: 'Exporter health',
        panels: [
          {
            type: 'table',
            title: 'Exporter health per node',
            description:
              'Per exporter: scraped (up), last sample good (kube_balance_up), data withheld as stale, age of the data, ' +
              'sampling interval in force, duration of the last sample, failed samples per minute, and iptables-save lines ' +
              'skipped per minute.',
            width: 24,
            height: 9,
            targets: [
              byNode(`up{${J}}`),
              byNode(`kube_balance_up{${J}}`),
              byNode(`kube_balance_data_stale{${J}}`),
              byNode(`time() - kube_balance_last_sample_timestamp_seconds{${J}}`),
              byNode(`kube_balance_sample_interval_seconds{${J}}`),
              byNode(`kube_balance_sample_duration_seconds{${J}}`),
              { expr: `sum by (node, instance) (rate(kube_balance_sample_errors_total{${J}}[$__rate_interval])) * 60`, instant: true },
              { expr: `sum by (node, instance) (rate(kube_balance_rules_skipped_total{${J}}[$__rate_interval])) * 60`, instant: true },
            ],
            transformations: [
              { id: 'merge', options: {} },
              {
                id: 'organize',
                options: {
                  excludeByName: { Time: true },
                  renameByName: {
                    'Value #A': 'up',
                    'Value #B': 'sample ok',
                    'Value #C': 'stale',
                    'Value #D': 'data age (s)',
                    'Value #E': 'interval (s)',
                    'Value #F': 'sample duration (s)',
                    'Value #G': 'errors/min',
                    'Value #H': 'skipped lines/min',
                  },
                },
              },
              { id: 'sortBy', options: { sort: [{ desc: false, field: 'sample ok' }] } },
            ],
          },
          {
            type: 'timeseries',
            title: 'Data age per node',
            description: 'Seconds since each exporter’s last successful sample. KubeBalanceExporterDataStale fires above 3 sampling intervals.',
            width: 12,
            height: 8,
            unit: 's',
            targets: [{ expr: `time() - kube_balance_last_sample_timestamp_seconds{${J}}`, legend: '{{node}}' }],
          },
          {
            type: 'timeseries',
            title: 'Sample duration and interval per node',
            description: 'How long one sample (iptables-save, parse, analysis) takes, and the interval in force (raised automatically when iptables-save is slow).',
            width: 12,
            height: 8,
            unit: 's',
            targets: [
              { expr: `kube_balance_sample_duration_seconds{${J}}`, legend: '{{node}} duration' },
              { expr: `kube_balance_sample_interval_seconds{${J}}`, legend: '{{node}} interval' },
            ],
            overrides: [
              dashedSeries('/ interval$/'),
            ],
          },
          {
            type: 'timeseries',
            title: 'Failed samples by stage',
            description: 'Failed samples per minute by pipeline stage (save = iptables-save itself).',
            width: 8,
            height: 8,
            unit: 'short',
            targets: [{ expr: `sum by (node, stage) (rate(kube_balance_sample_errors_total{${J}}[$__rate_interval])) * 60`, legend: '{{node}} {{stage}}' }],
          },
          {
            type: 'timeseries',
            title: 'Counter resets (kube-proxy chain rewrites) per node',
            description: 'Counter resets detected per minute: kube-proxy rewrote a ladder (Service/EndpointSlice change or full sync). The exporter compensates; frequent resets mean busy churn.',
            width: 8,
            height: 8,
            unit: 'short',
            targets: [{ expr: `sum by (node) (rate(kube_balance_resets_total{${J}}[$__rate_interval])) * 60`, legend: '{{node}}' }],
          },
          {
            type: 'timeseries',
            title: 'Reads that parsed the rules, per node',
            description:
              'Share of iptables reads that parsed and modelled the rules because kube-proxy had rewritten them since the last ' +
              'sample (read="parsed" or "reparsed"); the others only re-read the counters, several times cheaper. Near 0 on a quiet ' +
              'node; near 1 where rules change every sample, which then costs a full parse each time (docs/benchmarks.md).',
            width: 8,
            height: 8,
            unit: 'percentunit',
            targets: [
              {
                expr:
                  `sum by (node) (rate(kube_balance_sample_reads_total{${J}, read=~"parsed|reparsed"}[$__rate_interval])) ` +
                  `/ sum by (node) (rate(kube_balance_sample_reads_total{${J}}[$__rate_interval]))`,
                legend: '{{node}}',
              },
            ],
          },
        ],
      },
      {
        row: 'Kubernetes enrichment (requires --kube.enabled)',
        panels: [
          {
            type: 'table',
            title: 'Rules drift (requires --kube.enabled)',
            description:
              'Requires the exporter’s Kubernetes enrichment (--kube.enabled): node ladders whose endpoints differ from the ' +
              'EndpointSlices (missing: ready endpoints not in the rules; stale: rules for endpoints no longer there). Empty without it.',
            width: 16,
            height: 7,
            targets: [
              { expr: `kube_balance_service_drift_missing_endpoints{${C}} > 0`, instant: true },
              { expr: `kube_balance_service_drift_stale_endpoints{${C}} > 0`, instant: true },
            ],
            transformations: [
              { id: 'merge', options: {} },
              {
                id: 'organize',
                options: { excludeByName: { Time: true, __name__: true, endpoint: true }, renameByName: { 'Value #A': 'missing endpoints', 'Value #B': 'stale endpoints' } },
              },
            ],
          },
          {
            type: 'stat',
            title: 'Exporters synced with the API (requires --kube.enabled)',
            description: 'Requires --kube.enabled: exporters whose Kubernetes informers have synced, out of those reporting.',
            width: 8,
            height: 7,
            targets: [{ expr: `sum(kube_balance_kube_synced{${J}}) / count(kube_balance_kube_synced{${J}})`, legend: 'synced' }],
            unit: 'percentunit',
          },
        ],
      },
    ],
  });
}
