/**
 * The real Prometheus harness, proven: Prometheus scrapes a tiny HTTP server serving kube_balance_*
 * exposition for two nodes, loads deploy/prometheus, and the recording rules' cluster-wide shares
 * match hand-checked numbers through the HTTP API. Every rule and dashboard expression evaluates.
 *
 * Both nodes' series come from ONE target (with `node`/`instance` labels in the exposition and
 * honor_labels, as a federating Prometheus would see them): rate() extrapolates by how much of the 5m
 * range a series' samples cover, and only series scraped at the same instants share that factor, so
 * only then are cluster-wide shares exact seconds after start rather than after 5 minutes.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, type PrometheusHandle, type Sample } from '../support/prometheus.js';
import { allDashboardExpressions, RULE_FILE_PATHS, ruleExpressions, substituteGrafanaVariables } from './promql.js';

const SVC = { namespace: 'shop', service: 'web', port: 'http', protocol: 'tcp', ip_family: 'ipv4' };
const A = '10.244.1.10:8080';
const B = '10.244.2.10:8080';
const C = '10.244.3.10:8080';

/**
 * Rates in tenths of a connection per second (low, so the chi-square z of this mild skew stays
 * below the alert threshold for minutes):
 * node-a: topology hints give its KUBE-SVC ladder only A and B (1/2 each); it sends A 12, B 8.
 * node-b: KUBE-SVC ladder A, B, C (1/3 each) at 10 each; its KUBE-SVL ladder (C is local) 5.
 *
 * Cluster-wide: A 22, B 18, C 15, 55 in all → observed shares 0.4, 18/55, 15/55.
 * Weighted expected: A = (20·1/2 + 30·1/3)/55 = 20/55, B = 20/55, C = (30·1/3 + 5·1)/55 = 15/55.
 * (An average of per-node expected ratios would give A (1/2 + 1/3)/2 = 0.4167: wrong.)
 * observed/expected: A 1.1, B 0.9, C 1. Chi-square per connection: (2²/20 + 2²/20 + 0)/55 = 0.4/55, df 2.
 */
const LADDERS = [
  { node: 'node-a', instance: '10.0.0.11:10090', policy: 'cluster', endpoints: [[A, 12], [B, 8]] },
  { node: 'node-b', instance: '10.0.0.12:10090', policy: 'cluster', endpoints: [[A, 10], [B, 10], [C, 10]] },
  { node: 'node-b', instance: '10.0.0.12:10090', policy: 'local', endpoints: [[C, 5]] },
] as const;

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}

/** Counters grow linearly from t0, so rate() over any window is exact up to extrapolation. */
function exposition(t0: number, now: number): string {
  const dt = now - t0;
  const out: string[] = [];
  const fam = (name: string, type: string) => out.push(`# HELP ${name} test fixture`, `# TYPE ${name} ${type}`);
  const each = (fn: (l: (typeof LADDERS)[number], base: Record<string, string>) => void) => {
    for (const l of LADDERS) fn(l, { node: l.node, instance: l.instance, ...SVC, policy: l.policy });
  };
  const perEndpoint = (name: string, type: string, value: (rate: number, n: number) => number) => {
    fam(name, type);
    each((l, base) => {
      for (const [ep, rate] of l.endpoints) out.push(`${name}${labels({ ...base, endpoint: ep })} ${value(rate, l.endpoints.length)}`);
    });
  };
  const perLadder = (name: string, type: string, value: (total: number, n: number) => number, extra: Record<string, string> = {}) => {
    fam(name, type);
    each((l, base) => {
      const total = l.endpoints.reduce((s, [, r]) => s + r, 0);
      out.push(`${name}${labels({ ...base, ...extra })} ${value(total, l.endpoints.length)}`);
    });
  };
  perEndpoint('kube_balance_endpoint_connections_total', 'counter', (r) => (r / 10) * dt);
  perEndpoint('kube_balance_endpoint_expected_ratio', 'gauge', (_r, n) => 1 / n);
  perEndpoint('kube_balance_endpoint_programmed_ratio', 'gauge', (_r, n) => 1 / n);
  perEndpoint('kube_balance_endpoint_observed_ratio', 'gauge', (_r, n) => 1 / n);
  perLadder('kube_balance_service_connections_total', 'counter', (t) => (t / 10) * dt);
  perLadder('kube_balance_service_endpoints', 'gauge', (_t, n) => n);
  perLadder('kube_balance_service_window_connections', 'gauge', (t) => (t / 10) * 300);
  perLadder('kube_balance_service_window_span_seconds', 'gauge', () => 300);
  perLadder('kube_balance_service_skew_ratio', 'gauge', () => 1.05);
  perLadder('kube_balance_service_uniformity_p_value', 'gauge', () => 0.5);
  perLadder('kube_balance_service_chi_square', 'gauge', () => 1.2);
  perLadder('kube_balance_service_window_membership_changed', 'gauge', () => 0);
  perLadder('kube_balance_service_programmed_deviation_ratio', 'gauge', () => 0);
  perLadder('kube_balance_service_resets_total', 'counter', () => 1);
  // The conntrack view (--conntrack.enabled, nf_conntrack_acct=1) on node-b: balanced, 10 open
  // connections and 1 MB per endpoint (no policy label: a flow does not say which ladder chose it).
  const ct = { node: 'node-b', instance: '10.0.0.12:10090', ...SVC };
  fam('kube_balance_endpoint_active_connections', 'gauge');
  for (const ep of [A, B, C]) for (const state of ['established', 'all']) out.push(`kube_balance_endpoint_active_connections${labels({ ...ct, endpoint: ep, state })} 10`);
  fam('kube_balance_endpoint_traffic_bytes', 'gauge');
  for (const ep of [A, B, C]) for (const direction of ['original', 'reply']) out.push(`kube_balance_endpoint_traffic_bytes${labels({ ...ct, endpoint: ep, direction })} 500000`);
  fam('kube_balance_service_active_skew_ratio', 'gauge');
  out.push(`kube_balance_service_active_skew_ratio${labels(ct)} 1`);
  fam('kube_balance_service_bytes_skew_ratio', 'gauge');
  out.push(`kube_balance_service_bytes_skew_ratio${labels(ct)} 1`);
  fam('kube_balance_service_info', 'gauge');
  each((l, base) => out.push(`kube_balance_service_info${labels({ ...base, cluster_ip: '10.96.0.20', session_affinity: 'None', chain: 'KUBE-SVC-TESTTESTTESTTEST' })} 1`));
  const perNode = (name: string, type: string, value: number, extra: Record<string, string> = {}) => {
    fam(name, type);
    for (const [node, instance] of [['node-a', '10.0.0.11:10090'], ['node-b', '10.0.0.12:10090']] as const) {
      out.push(`${name}${labels({ node, instance, ...extra })} ${value}`);
    }
  };
  perNode('kube_balance_up', 'gauge', 1);
  perNode('kube_balance_data_stale', 'gauge', 0);
  perNode('kube_balance_last_sample_timestamp_seconds', 'gauge', Math.floor(now) - 1);
  perNode('kube_balance_sample_duration_seconds', 'gauge', 0.12);
  perNode('kube_balance_sample_interval_seconds', 'gauge', 10);
  perNode('kube_balance_sample_errors_total', 'counter', 0, { stage: 'save' });
  perNode('kube_balance_samples_total', 'counter', Math.floor(dt / 10));
  perNode('kube_balance_resets_total', 'counter', 1);
  // One read in four parsed (rules rewritten), the others refreshed: the "reads that parsed" panel shows 0.25.
  fam('kube_balance_sample_reads_total', 'counter');
  for (const [node, instance] of [['node-a', '10.0.0.11:10090'], ['node-b', '10.0.0.12:10090']] as const) {
    out.push(`kube_balance_sample_reads_total${labels({ node, instance, ip_family: 'ipv4', read: 'parsed' })} ${dt / 40}`);
    out.push(`kube_balance_sample_reads_total${labels({ node, instance, ip_family: 'ipv4', read: 'refreshed' })} ${(dt * 3) / 40}`);
  }
  perNode('kube_balance_rules_skipped_total', 'counter', 0, { reason: 'malformed-rule' });
  perNode('kube_balance_build_info', 'gauge', 1, { version: '0.1.0', revision: 'test', nodejs_version: process.version });
  perNode('kube_balance_window_seconds', 'gauge', 300);
  perNode('kube_balance_save_duration_seconds', 'gauge', 0.1, { ip_family: 'ipv4' });
  perNode('kube_balance_save_output_bytes', 'gauge', 123456, { ip_family: 'ipv4' });
  perNode('kube_balance_save_success', 'gauge', 1, { ip_family: 'ipv4', backend: 'nft' });
  perNode('kube_balance_ladders_withheld', 'gauge', 0, { reason: 'stale' });
  perNode('kube_balance_endpoints_withheld', 'gauge', 0, { reason: 'filter' });
  return `${out.join('\n')}\n`;
}

/** Expressions with no result on this healthy fixture (no skew, no starvation, no enrichment metrics). */
const EXPECTED_EMPTY = [
  'kube-balance-overview/Exporters synced with the API (requires --kube.enabled)/A',
  'kube-balance-overview/Most skewed service ports/A',
  'kube-balance-overview/Most skewed service ports/B',
  'kube-balance-overview/Most skewed service ports/C',
  'kube-balance-overview/Rules drift (requires --kube.enabled)/A',
  'kube-balance-overview/Rules drift (requires --kube.enabled)/B',
  'kube-balance-overview/Rules not programmed uniformly/A',
  'kube-balance-overview/Starved endpoints/A',
  'kube-balance-service/Endpoint info (requires --kube.enabled)/A',
  'rules:KubeBalanceEndpointSkewed',
  'rules:KubeBalanceEndpointStarved',
  'rules:KubeBalanceExporterAbsent',
  'rules:KubeBalanceExporterDataStale',
  'rules:KubeBalanceExporterDown',
  'rules:KubeBalanceExporterNotUp',
  'rules:KubeBalanceLoadImbalancedConnectionsBalanced',
  'rules:KubeBalanceProgrammedSplitNotUniform',
  'rules:KubeBalanceRulesDrift',
  'rules:KubeBalanceSamplingFailing',
];

let server: Server;
let prom: PrometheusHandle;

beforeAll(async () => {
  const t0 = Date.now() / 1000 - 100;
  server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(exposition(t0, Date.now() / 1000));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  prom = await startPrometheus({
    jobs: [{ job: 'kube-balance-exporter', targets: [{ address: `127.0.0.1:${port}` }] }],
    ruleFiles: RULE_FILE_PATHS,
  });
});

afterAll(async () => {
  await prom?.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

function byEndpoint(samples: readonly Sample[]): Record<string, number> {
  return Object.fromEntries(samples.map((s) => [s.metric['endpoint'] ?? '', s.value]));
}

/** Waits until the rule's series exist for all three endpoints (two scrapes and an evaluation). */
async function endpointValues(record: string): Promise<Record<string, number>> {
  return prom.waitFor(record, async () => {
    const r = await prom.query(record);
    return r.length === 3 ? byEndpoint(r) : undefined;
  });
}

describe('real Prometheus harness', () => {
  it('scrapes the target and loads every rule group healthy', async () => {
    const up = await prom.waitFor('up', async () => {
      const r = await prom.query('up{job="kube-balance-exporter"}');
      return r.length === 1 ? r[0] : undefined;
    });
    expect(up.value).toBe(1);
    const groups = await prom.waitFor('rules evaluated', async () => {
      const g = await prom.rules();
      return g.every((x) => x.rules.every((r) => r.health === 'ok')) && g.length > 0 ? g : undefined;
    });
    expect(groups.map((g) => g.name).sort()).toEqual([
      'kube-balance.conntrack',
      'kube-balance.distribution',
      'kube-balance.drift',
      'kube-balance.exporter',
      'kube-balance.rates',
      'kube-balance.uniformity',
    ]);
  });

  it('computes the cluster-wide observed share (sum over nodes and policies)', async () => {
    const shares = await endpointValues('namespace_service_port_endpoint:kube_balance_observed_share:ratio_rate5m');
    expect(shares[A]).toBeCloseTo(0.4, 9);
    expect(shares[B]).toBeCloseTo(18 / 55, 9);
    expect(shares[C]).toBeCloseTo(15 / 55, 9);
  });

  it('weights the expected share by each node ladder’s traffic, not by averaging per-node ratios', async () => {
    const expected = await endpointValues('namespace_service_port_endpoint:kube_balance_expected_share:ratio_rate5m');
    expect(expected[A]).toBeCloseTo(20 / 55, 9);
    expect(expected[B]).toBeCloseTo(20 / 55, 9);
    expect(expected[C]).toBeCloseTo(15 / 55, 9);
    const naive = byEndpoint(await prom.query(`avg by (endpoint) (kube_balance_endpoint_expected_ratio{policy="cluster"})`));
    expect(naive[A]).toBeCloseTo(5 / 12, 9);
    expect(Math.abs(naive[A]! - expected[A]!)).toBeGreaterThan(0.05);
  });

  it('computes observed/expected, chi-square and its degrees of freedom from the 10m counts', async () => {
    const ratio = await endpointValues('namespace_service_port_endpoint:kube_balance_observed_over_expected:ratio_increase10m');
    expect(ratio[A]).toBeCloseTo(1.1, 9);
    expect(ratio[B]).toBeCloseTo(0.9, 9);
    expect(ratio[C]).toBeCloseTo(1, 9);
    const skew = await prom.query('namespace_service_port:kube_balance_skew_ratio:increase10m');
    expect(skew.map((s) => s.value)).toEqual([expect.closeTo(1.1, 9)]);
    const df = await prom.query('namespace_service_port:kube_balance_chi_square_df:increase10m');
    expect(df.map((s) => s.value)).toEqual([2]);
    // Withheld until every endpoint expects ≥ 5 connections; it grows with the sample, but per
    // connection it is fixed by the shares.
    const perConnection = await prom.waitFor('chi-square', async () => {
      const r = await prom.query(
        'namespace_service_port:kube_balance_chi_square:increase10m / namespace_service_port:kube_balance_connections:increase10m',
      );
      return r.length > 0 ? r : undefined;
    });
    expect(perConnection.map((s) => s.value)).toEqual([expect.closeTo(0.4 / 55, 9)]);
    expect(perConnection[0]!.metric).toEqual(SVC);
    const z = await prom.query('namespace_service_port:kube_balance_chi_square_z:increase10m');
    expect(z).toHaveLength(1);
  });

  it('the overview’s "reads that parsed the rules" panel gives each node’s share of parsed reads (one in four here)', async () => {
    const expr = allDashboardExpressions().find((e) => e.name === 'kube-balance-overview/Reads that parsed the rules, per node/A');
    expect(expr).toBeDefined();
    const shares = await prom.waitFor('parsed share', async () => {
      const r = await prom.query(substituteGrafanaVariables(expr!.expr, { namespace: 'shop', service: 'web' }));
      return r.length === 2 ? r : undefined;
    });
    expect(Object.fromEntries(shares.map((s) => [s.metric['node'], s.value]))).toEqual({ 'node-a': expect.closeTo(0.25, 9), 'node-b': expect.closeTo(0.25, 9) });
  });

  it('has no pending or firing alert for this healthy, uniform-per-node fleet', async () => {
    const alerts = await prom.alerts();
    expect(alerts).toEqual([]);
  });

  it('evaluates every rule and dashboard expression without error, and with data unless nothing is wrong', async () => {
    const exprs = [...ruleExpressions(), ...allDashboardExpressions()];
    const failures: string[] = [];
    const empty: string[] = [];
    for (const e of exprs) {
      try {
        if ((await prom.query(substituteGrafanaVariables(e.expr, { namespace: 'shop', service: 'web' }))).length === 0) empty.push(e.name);
      } catch (err) {
        failures.push(`${e.name}: ${String(err)}`);
      }
    }
    expect(failures).toEqual([]);
    // Empty only where this healthy fleet has nothing to show: alerts, problem tables, reserved metrics.
    expect(empty.sort()).toEqual(EXPECTED_EMPTY);
  });
});
