/**
 * The whole chain, for real: kube-proxy rules in the lab's node namespace → the built exporter
 * (`dist/cli.js`, run in that namespace) → Debian's Prometheus (also in that namespace, scraping the
 * exporter on the namespace's 127.0.0.1 every second, loading deploy/prometheus with a 1s evaluation
 * interval) → PromQL. Everything is asserted through Prometheus' HTTP API, queried from inside the
 * namespace (test/support/prometheus.ts' request pump), never from the host network.
 *
 * What it proves:
 *  (a) every expression of every rule and dashboard panel (and query variable) executes without error
 *      against real exporter data, and everything returns data except a short list of panels and
 *      alerts that are empty for a documented reason (kube enrichment off, nothing down, …);
 *  (b) the recorded cluster-wide observed share of every endpoint equals the ground truth of the
 *      lab's traffic (which endpoint answered each connection), and the recorded expected share is
 *      the traffic-weighted one (the Local-policy Service mixes a 2-endpoint KUBE-SVL and a
 *      3-endpoint KUBE-SVC ladder);
 *  (c) the KubeBalanceEndpointSkewed expression holds for the deliberately non-uniform Service
 *      (shop/search: a hand-edited 0.8 ladder) and for nothing else — not the uniform Services, not
 *      the ClientIP-affinity one — and Prometheus' own rule evaluation puts the alert in `pending`
 *      for exactly those series. Its `for: 15m` (and the 10m counting window) are far longer than a
 *      test may run, so `firing` is not waited for; the `for:` clause itself is covered by the
 *      promtool unit tests (deploy/prometheus/tests/hot-endpoint.yaml, programmed-not-uniform.yaml).
 *
 * Root only (network namespaces, iptables); skipped with a printed reason otherwise, and an error in
 * CI (test/support/lab-env.ts). Needs the built CLI: `npx tsc -p tsconfig.build.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter, type ExporterHandle } from '../../src/lab/exporter-process.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { setSysctls } from '../../src/lab/netns.js';
import { findPort, findService, resolveEndpoints } from '../../src/lab/scenario.js';
import { driveTraffic, type TrafficRequest } from '../../src/lab/traffic.js';
import YAML from 'yaml';
import { labAvailable } from '../support/lab-env.js';
import { startPrometheus, type PrometheusHandle, type Sample } from '../support/prometheus.js';
import { allDashboardExpressions, RULE_FILE_PATHS, ruleExpressions, substituteGrafanaVariables, type NamedExpr } from '../rules/promql.js';

const CLI = 'dist/cli.js';
const EXPORTER_ADDRESS = '127.0.0.1:10090';
/** Inside the lab's node namespace: its own loopback, so no clash with anything on the host. */
const PROMETHEUS_PORT = 9090;
const NODE = 'lab-node';
/**
 * Grafana's $__rate_interval is max(4 × scrape interval, step + scrape interval): with 1s scrapes
 * and a short dashboard range that is a few seconds; 30s keeps the traffic rounds inside it.
 */
const DURATIONS = { rateInterval: '30s', interval: '30s', range: '5m', rangeSeconds: 300 } as const;
const ROUNDS = 3;

/**
 * Tolerance for recorded shares against the ground truth: 0.005 (half a percentage point).
 * rate() and increase() extrapolate a counter's increase beyond its first and last sample in the
 * range, so a recorded rate is not "connections / 300s". But every endpoint series of a service port
 * comes from the same target, so all have the same sample timestamps and the same extrapolation
 * towards the end of the range; and their first sample in the range is 0 (Prometheus scrapes the
 * idle lab before any traffic, and the test ends long before the 5m range slides past that first
 * scrape), so none is extrapolated towards the start (Prometheus stops at the counter's zero). The
 * factor is thus identical for all endpoints of a service port and cancels in a share: once
 * Prometheus has the final counters (waited for, exactly) the recorded share is the ground truth up
 * to floating point (measured: ~1e-16). The 0.005 margin only covers a slow run in which the range
 * start passes the first scrape: the start extrapolation then differs per series by at most
 * ~half a scrape interval out of minutes (< 0.5 %), while the smallest effect the test relies on
 * (search's 0.8 against 0.5) is 60 times larger.
 */
const SHARE_TOLERANCE = 0.005;

type Policy = 'cluster' | 'local';

interface PortKey {
  readonly namespace: string;
  readonly service: string;
  readonly port: string;
}
const keyOf = (k: PortKey) => `${k.namespace}/${k.service}:${k.port}`;

/** Ground truth per service port and ladder policy: answered connections per endpoint. */
class GroundTruth {
  readonly byPort = new Map<string, { key: PortKey; policies: Map<Policy, Map<string, number>> }>();
  add(key: PortKey, policy: Policy, counts: ReadonlyMap<string, number>): void {
    const entry = this.byPort.get(keyOf(key)) ?? { key, policies: new Map() };
    this.byPort.set(keyOf(key), entry);
    const m = entry.policies.get(policy) ?? new Map<string, number>();
    entry.policies.set(policy, m);
    for (const [e, n] of counts) m.set(e, (m.get(e) ?? 0) + n);
  }
  /** Connections per endpoint over all policies. */
  counts(key: PortKey): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of this.byPort.get(keyOf(key))?.policies.values() ?? []) for (const [e, n] of m) out.set(e, (out.get(e) ?? 0) + n);
    return out;
  }
}

interface Drive {
  readonly key: PortKey;
  readonly policy: Policy;
  readonly request: TrafficRequest;
}

/** One round of traffic over the default lab scenario (from the node: ClusterIP via nat OUTPUT; from the client: NodePort). */
function round(): Drive[] {
  const d = (namespace: string, service: string, port: string, policy: Policy, count: number, extra: Partial<TrafficRequest> = {}): Drive => ({
    key: { namespace, service, port },
    policy,
    request: { service: `${namespace}/${service}`, port, count, from: 'node', concurrency: 16, ...extra },
  });
  return [
    d('shop', 'web', '', 'cluster', 150),
    // The deliberately non-uniform ladder: --probability 0.8 then unconditional (80/20).
    d('shop', 'search', 'http', 'cluster', 150),
    d('kube-system', 'dns', 'dns', 'cluster', 80),
    d('kube-system', 'dns', 'dns-tcp', 'cluster', 60),
    // Local policy: NodePort traffic from outside takes KUBE-SVL (the 2 node-local pods), ClusterIP
    // traffic from the node KUBE-SVC (all 3): the expected share must be traffic-weighted.
    d('shop', 'checkout', 'http', 'local', 70, { from: 'client', via: 'node-port' }),
    d('shop', 'checkout', 'http', 'cluster', 60),
    d('shop', 'web6', 'http', 'cluster', 80),
    // ClientIP affinity: every connection from the node sticks to one endpoint (non-uniform by design).
    d('shop', 'cart', 'http', 'cluster', 20, { concurrency: 1 }),
    d('default', 'kubernetes', 'https', 'cluster', 10),
  ];
}

/**
 * Expressions that may legitimately return nothing on this lab, and why. Everything else must return
 * data (that includes every recording rule, the skew and programmed-split alerts, and every
 * per-endpoint rate, share and skew panel).
 */
const MAY_BE_EMPTY: Readonly<Record<string, string>> = {
  'kube-balance-overview/Exporters synced with the API (requires --kube.enabled)/A': 'kube enrichment is off in the lab (no API server)',
  'kube-balance-overview/Rules drift (requires --kube.enabled)/A': 'kube enrichment is off',
  'kube-balance-overview/Rules drift (requires --kube.enabled)/B': 'kube enrichment is off',
  'kube-balance-service/Endpoint info (requires --kube.enabled)/A': 'kube enrichment is off',
  'rules:KubeBalanceRulesDrift': 'kube enrichment is off',
  'rules:KubeBalanceExporterDown': 'the exporter is up',
  'rules:KubeBalanceExporterAbsent': 'the exporter is scraped',
  'rules:KubeBalanceExporterNotUp': 'sampling works',
  'rules:KubeBalanceSamplingFailing': 'sampling works',
  'rules:KubeBalanceExporterDataStale': 'sampling works',
  'rules:KubeBalanceLoadImbalancedConnectionsBalanced': 'short connections: bytes follow connections',
  // Only ClientIP-affinity endpoints can be starved here (cart's idle endpoints), and only when the
  // traffic through cart's ladder reaches the 20-expected-connections floor; the alert excludes them.
  'kube-balance-overview/Starved endpoints/A': 'cart: ≈20 expected, borderline',
  'kube-balance-overview/Starved endpoints/B': 'cart: ≈20 expected, borderline',
  'kube-balance-overview/Starved endpoints/C': 'cart: ≈20 expected, borderline',
  'rules:KubeBalanceEndpointStarved': 'no non-affinity endpoint is starved',
};

let lab: Lab | undefined;
let exporter: ExporterHandle | undefined;
let prom: PrometheusHandle | undefined;
const truth = new GroundTruth();
/** All instant queries of the assertions run at this one evaluation time (consistent snapshot). */
let evalTime = 0;

async function q(expr: string): Promise<Sample[]> {
  return prom!.query(expr, evalTime === 0 ? undefined : evalTime);
}

function diagnostics(): string {
  return `\n--- prometheus log ---\n${prom?.logTail() ?? ''}\n--- exporter log ---\n${exporter?.logs().slice(-2000) ?? ''}`;
}

describe.skipIf(!labAvailable)('real Prometheus scraping the exporter in the lab (rules and dashboards)', () => {
  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p tsconfig.build.json\` first`);
    lab = await startLab({ backend: 'nft' });
    // Per-namespace sysctl (the lab node's, never the host's): per-flow bytes for the conntrack view.
    await setSysctls(lab.nodeNamespace, { 'net.netfilter.nf_conntrack_acct': 1 });
    exporter = await startExporter(lab, {
      cliPath: CLI,
      listenAddress: EXPORTER_ADDRESS,
      args: ['--sample.interval=1s', '--window=60s', '--kube.enabled=false', '--log.level=warn', '--conntrack.enabled', '--conntrack.interval=2s'],
    });
    prom = await startPrometheus({
      namespace: lab.nodeNamespace,
      port: PROMETHEUS_PORT,
      interval: '1s',
      jobs: [{ job: 'kube-balance-exporter', targets: [{ address: EXPORTER_ADDRESS, labels: { node: NODE } }] }],
      ruleFiles: RULE_FILE_PATHS,
    });
    // Two scrapes of the idle lab first: every counter's first sample is 0 (see SHARE_TOLERANCE).
    await prom.waitFor('two scrapes of the idle exporter', async () => {
      const r = await prom!.query('count_over_time(kube_balance_samples_total[1m])');
      return (r[0]?.value ?? 0) >= 2 ? true : undefined;
    });
    for (let i = 0; i < ROUNDS; i++) {
      for (const drive of round()) {
        const result = await driveTraffic(lab, drive.request);
        if (result.failures > 0) throw new Error(`${keyOf(drive.key)}: ${result.failures} failed connections: ${result.errors.slice(0, 3).join('; ')}`);
        truth.add(drive.key, drive.policy, result.counts);
      }
    }
    // Prometheus has scraped the final counters when its raw per-endpoint sums equal the ground truth…
    const caughtUp = await prom.waitFor(
      'Prometheus to scrape the final counters',
      async () => {
        const raw = await prom!.query('sum by (namespace, service, port, endpoint) (kube_balance_endpoint_connections_total)');
        for (const { key } of truth.byPort.values()) {
          for (const [endpoint, n] of truth.counts(key)) {
            const got = raw.find((s) => s.metric['namespace'] === key.namespace && s.metric['service'] === key.service && (s.metric['port'] ?? '') === key.port && s.metric['endpoint'] === endpoint);
            if (got?.value !== n) return undefined;
          }
        }
        const t = await prom!.query('max(timestamp(kube_balance_samples_total))');
        return t[0]?.value;
      },
      60_000,
    );
    // …and the rules have been evaluated on them: the last recording group two evaluations later (so it
    // read the first group's results of the final counters), every group (alerts too) since then.
    evalTime = await prom.waitFor(
      'rule evaluations after the final scrape',
      async () => {
        const t = (await prom!.query('min(timestamp(namespace_service_port:kube_balance_chi_square_z:increase10m))'))[0]?.value ?? 0;
        const groups = await prom!.api<{ groups: { name: string; lastEvaluation: string }[] }>('rules');
        const lastEvaluation = Math.min(...groups.groups.map((g) => Date.parse(g.lastEvaluation) / 1000));
        return t >= caughtUp + 2 && lastEvaluation >= caughtUp + 3 ? t : undefined;
      },
      60_000,
    );
  }, 240_000);

  afterAll(async () => {
    const errors: unknown[] = [];
    for (const stop of [() => prom?.stop(), () => exporter?.stop(), () => lab?.teardown()]) {
      try {
        await stop();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'teardown failed');
  }, 60_000);

  it('loads every rule group healthy and scrapes the exporter with the node label', async () => {
    const up = await q('up{job="kube-balance-exporter"}');
    expect(up.map((s) => [s.metric['node'], s.value])).toEqual([[NODE, 1]]);
    const groups = await prom!.rules();
    const unhealthy = groups.flatMap((g) => g.rules.filter((r) => r.health !== 'ok').map((r) => `${g.name}/${r.name}: ${r.health} ${r.lastError ?? ''}`));
    expect(unhealthy, diagnostics()).toEqual([]);
    const inFiles = RULE_FILE_PATHS.flatMap((f) => (YAML.parse(readFileSync(f, 'utf8')) as { groups: { name: string }[] }).groups.map((g) => g.name));
    expect(groups.map((g) => g.name).sort()).toEqual([...inFiles].sort());
  });

  it('(a) every rule and dashboard expression executes; all but the documented ones return data', async () => {
    const values = { namespace: 'shop', service: 'search' };
    const exprs: NamedExpr[] = [...ruleExpressions(), ...allDashboardExpressions()];
    const failures: string[] = [];
    const empty: string[] = [];
    const withData: string[] = [];
    for (const e of exprs) {
      const expr = substituteGrafanaVariables(e.expr, values, DURATIONS);
      expect(expr, e.name).not.toMatch(/\$/);
      try {
        ((await q(expr)).length === 0 ? empty : withData).push(e.name);
      } catch (err) {
        failures.push(`${e.name}: ${String(err)}`);
      }
    }
    console.log(
      `[lab-prometheus] ${exprs.length} expressions (dashboards for shop/search, $__rate_interval=${DURATIONS.rateInterval}): ` +
        `${withData.length} with data, ${empty.length} empty:\n  ${empty.sort().map((n) => `${n}${MAY_BE_EMPTY[n] === undefined ? '' : ` (${MAY_BE_EMPTY[n]})`}`).join('\n  ')}`,
    );
    expect(failures, diagnostics()).toEqual([]);
    expect(empty.filter((n) => MAY_BE_EMPTY[n] === undefined).sort(), 'expressions without data that should have some').toEqual([]);
    // The core of the dashboards and rules, named explicitly so a renamed panel cannot slip into "may be empty".
    for (const core of [
      'rules:namespace_service_port_endpoint:kube_balance_connections:rate5m',
      'rules:namespace_service_port_endpoint:kube_balance_observed_share:ratio_rate5m',
      'rules:namespace_service_port_endpoint:kube_balance_expected_share:ratio_rate5m',
      'rules:namespace_service_port:kube_balance_chi_square_z:increase10m',
      'rules:namespace_service_port:kube_balance_skew_ratio:increase10m',
      'rules:KubeBalanceEndpointSkewed',
      'kube-balance-service/New connections per endpoint/A',
      'kube-balance-service/Observed vs expected share per endpoint/A',
      'kube-balance-service/Observed vs expected share per endpoint/B',
      'kube-balance-service/Skew evidence: chi-square z (10m)/A',
      'kube-balance-service/Skew magnitude: observed/expected per endpoint (10m)/A',
      'kube-balance-overview/Most skewed service ports/A',
      // The load view (the exporter runs with --conntrack.enabled, the node namespace with nf_conntrack_acct=1).
      'kube-balance-service/Share per endpoint: new connections, open connections, bytes/B',
      'kube-balance-service/Share per endpoint: new connections, open connections, bytes/C',
      'kube-balance-service/Skew per node: new connections, open connections, bytes/C',
    ]) {
      expect(withData, core).toContain(core);
    }
  });

  it('(b) the recorded cluster-wide observed and expected shares match the ground truth', async () => {
    const observed = await q('namespace_service_port_endpoint:kube_balance_observed_share:ratio_rate5m');
    const expected = await q('namespace_service_port_endpoint:kube_balance_expected_share:ratio_rate5m');
    const pick = (samples: readonly Sample[], key: PortKey) =>
      new Map(
        samples
          .filter((s) => s.metric['namespace'] === key.namespace && s.metric['service'] === key.service && (s.metric['port'] ?? '') === key.port)
          .map((s) => [s.metric['endpoint']!, s.value]),
      );
    const report: string[] = [];
    let worst = 0;
    for (const { key, policies } of truth.byPort.values()) {
      const counts = truth.counts(key);
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const tolerance = SHARE_TOLERANCE;
      // Traffic-weighted expectation from the ground truth: each ladder's connections × its 1/n, with
      // the ladder's members from the lab scenario (KUBE-SVL: only the node-local pods).
      const service = findService(lab!.scenario, `${key.namespace}/${key.service}`);
      const all = resolveEndpoints(lab!.scenario, service, findPort(service, key.port));
      const weighted = new Map<string, number>();
      for (const [policy, m] of policies) {
        const members = all.filter((e) => policy === 'cluster' || e.pod.local).map((e) => e.endpoint);
        const ladderTotal = [...m.values()].reduce((a, b) => a + b, 0);
        for (const e of members) weighted.set(e, (weighted.get(e) ?? 0) + ladderTotal / members.length);
      }
      const obs = pick(observed, key);
      const exp = pick(expected, key);
      expect([...obs.keys()].sort(), keyOf(key)).toEqual(expect.arrayContaining([...counts.keys()].filter((e) => counts.get(e)! > 0)));
      for (const [endpoint, n] of counts) {
        const share = n / total;
        const got = obs.get(endpoint) ?? 0;
        worst = Math.max(worst, Math.abs(got - share));
        report.push(`${keyOf(key)} ${endpoint}: truth ${share.toFixed(4)} (${n}/${total}) observed ${got.toFixed(4)} expected ${(exp.get(endpoint) ?? NaN).toFixed(4)}`);
        expect(got, `${keyOf(key)} ${endpoint} observed share`).toBeGreaterThanOrEqual(share - tolerance);
        expect(got, `${keyOf(key)} ${endpoint} observed share`).toBeLessThanOrEqual(share + tolerance);
        const want = (weighted.get(endpoint) ?? 0) / total;
        expect(Math.abs((exp.get(endpoint) ?? NaN) - want), `${keyOf(key)} ${endpoint} expected share ${want}`).toBeLessThanOrEqual(tolerance);
      }
    }
    console.log(`[lab-prometheus] shares (worst |observed − truth| = ${worst.toExponential(2)}):\n  ${report.join('\n  ')}`);
    // The non-uniform service really is ~80/20 in the ground truth (so (c) tests something).
    const search = truth.counts({ namespace: 'shop', service: 'search', port: 'http' });
    expect(Math.max(...search.values()) / [...search.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0.7);
  });

  it('(c) the skew alert expression holds for the non-uniform service only; Prometheus has the alert pending for it', async () => {
    const alerts = (YAML.parse(readFileSync(RULE_FILE_PATHS[1]!, 'utf8')) as { groups: { rules: { alert?: string; expr: string; for?: string }[] }[] }).groups.flatMap((g) => g.rules);
    const skewed = alerts.find((r) => r.alert === 'KubeBalanceEndpointSkewed')!;
    expect(skewed.for).toBe('15m');
    const result = await q(skewed.expr);
    const services = [...new Set(result.map((s) => `${s.metric['namespace']}/${s.metric['service']}:${s.metric['port'] ?? ''}`))];
    expect(services, 'services with skewed endpoints').toEqual(['shop/search:http']);
    // 80/20 against 50/50: one endpoint at ≈1.6×, the other at ≈0.4× its expected share; both count.
    const ratios = result.map((s) => s.value).sort((a, b) => a - b);
    expect(ratios).toHaveLength(2);
    expect(ratios[0]).toBeLessThan(0.75);
    expect(ratios[1]).toBeGreaterThan(1.25);
    // The same verdict from Prometheus' own rule evaluation: pending (its `for: 15m` has not elapsed).
    const active = (await prom!.alerts()).filter((a) => a.labels['alertname'] === 'KubeBalanceEndpointSkewed');
    expect(active.map((a) => `${a.labels['namespace']}/${a.labels['service']} ${a.labels['endpoint']} ${a.state}`).sort()).toEqual(
      result.map((s) => `shop/search ${s.metric['endpoint']} pending`).sort(),
    );
    // And why: the evidence (z) is far above 4 for search, below it for every uniform service port.
    const z = await q('namespace_service_port:kube_balance_chi_square_z:increase10m');
    const zOf = new Map(z.map((s) => [`${s.metric['namespace']}/${s.metric['service']}:${s.metric['port'] ?? ''}`, s.value]));
    expect(zOf.get('shop/search:http')).toBeGreaterThan(4);
    for (const uniform of ['shop/web:', 'shop/web6:http', 'kube-system/dns:dns', 'kube-system/dns:dns-tcp', 'shop/checkout:http']) {
      expect(zOf.get(uniform), uniform).toBeDefined();
    }
    // The rules of the non-uniform ladder are themselves non-uniform: that alert is pending for it too.
    const programmed = (await prom!.alerts()).filter((a) => a.labels['alertname'] === 'KubeBalanceProgrammedSplitNotUniform');
    expect(programmed.map((a) => `${a.labels['namespace']}/${a.labels['service']} ${a.labels['node']} ${a.state}`)).toEqual([`shop/search ${NODE} pending`]);
  });
});
