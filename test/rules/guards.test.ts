/**
 * Each guard in the rules earns its place: remove it (a mutated copy of deploy/prometheus) and the
 * scenario it exists for must fail promtool with a false alert.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAlertMismatches, runPromtool } from './promtool.js';
import { RULES_DIR } from './unit-tests.js';

const SP = 'cluster, namespace, service, port, protocol, ip_family';

interface Mutation {
  readonly name: string;
  readonly file: 'kube-balance.rules.yaml' | 'kube-balance.alerts.yaml';
  readonly from: string;
  readonly to: string;
  readonly scenario: string;
  readonly falseAlert: string;
}

const MUTATIONS: readonly Mutation[] = [
  {
    name: 'expected share = 1/endpoints instead of weighted by node traffic',
    file: 'kube-balance.rules.yaml',
    from: `              kube_balance_endpoint_expected_ratio
            * ignoring (endpoint) group_left ()
              sum without (endpoint) (increase(kube_balance_endpoint_connections_total[10m]))`,
    to: `              count by (${SP}, endpoint) (kube_balance_endpoint_expected_ratio) * 0
            + on (${SP}) group_left ()
              (sum by (${SP}) (increase(kube_balance_endpoint_connections_total[10m]))
                / count by (${SP}) (count by (${SP}, endpoint) (kube_balance_endpoint_expected_ratio)))`,
    scenario: 'uniform-high-traffic-topology',
    falseAlert: 'KubeBalanceEndpointSkewed',
  },
  {
    name: 'no membership-change gate on the chi-square statistic',
    file: 'kube-balance.rules.yaml',
    from: 'max_over_time(kube_balance_service_window_membership_changed[10m])',
    to: '0 * max_over_time(kube_balance_service_window_membership_changed[10m])',
    scenario: 'endpoint-churn',
    falseAlert: 'KubeBalanceEndpointSkewed',
  },
  {
    name: 'skew alert without the ClientIP-affinity exclusion',
    file: 'kube-balance.alerts.yaml',
    from: `          unless on (cluster, namespace, service)
            kube_balance_service_info{session_affinity="ClientIP"}
          unless on (${SP})`,
    to: `          unless on (${SP})`,
    scenario: 'session-affinity',
    falseAlert: 'KubeBalanceEndpointSkewed',
  },
  {
    name: 'starvation alert without the 20-expected-connections floor',
    file: 'kube-balance.alerts.yaml',
    from: `(namespace_service_port_endpoint:kube_balance_expected_connections:increase10m >= 20)
          )
          unless on (cluster, namespace, service)
            kube_balance_service_info{session_affinity="ClientIP"}
        for: 10m`,
    to: `(namespace_service_port_endpoint:kube_balance_expected_connections:increase10m >= 0)
          )
          unless on (cluster, namespace, service)
            kube_balance_service_info{session_affinity="ClientIP"}
        for: 10m`,
    scenario: 'uniform-low-traffic',
    falseAlert: 'KubeBalanceEndpointStarved',
  },
  {
    name: "skew alert reporting a starved endpoint's peers again",
    file: 'kube-balance.alerts.yaml',
    from: `          unless on (${SP})
            (
                (namespace_service_port_endpoint:kube_balance_connections:increase10m == 0)
              and
                (namespace_service_port_endpoint:kube_balance_expected_connections:increase10m >= 20)
            )
        for: 15m`,
    to: `        for: 15m`,
    scenario: 'starved-endpoint',
    falseAlert: 'KubeBalanceEndpointSkewed',
  },
  {
    name: 'load alert without the balanced-open-connections condition',
    file: 'kube-balance.alerts.yaml',
    from: `          and
            (max_over_time(kube_balance_service_active_skew_ratio[15m]) < 1.3)`,
    to: '',
    scenario: 'load-balanced',
    falseAlert: 'KubeBalanceLoadImbalancedConnectionsBalanced',
  },
  {
    name: 'load alert on a bytes-skew peak without the sustained 1.5x floor',
    file: 'kube-balance.alerts.yaml',
    from: 'min_over_time(kube_balance_service_bytes_skew_ratio[15m]) >= 1.5',
    to: 'min_over_time(kube_balance_service_bytes_skew_ratio[15m]) >= 0',
    scenario: 'load-balanced',
    falseAlert: 'KubeBalanceLoadImbalancedConnectionsBalanced',
  },
];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('rule guards', () => {
  it.each(MUTATIONS.map((m) => [m.name, m] as const))('without it: %s → false alert', (_name, m) => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-balance-mutant-'));
    dirs.push(dir);
    cpSync(RULES_DIR, dir, { recursive: true });
    const path = join(dir, m.file);
    const text = readFileSync(path, 'utf8');
    expect(text.includes(m.from), `mutation "${m.name}" no longer applies to ${m.file}`).toBe(true);
    writeFileSync(path, text.replace(m.from, m.to));
    expect(runPromtool(['check', 'rules', path]).ok).toBe(true);
    const r = runPromtool(['test', 'rules', join(dir, 'tests', `${m.scenario}.yaml`)]);
    expect(r.ok).toBe(false);
    const failed = parseAlertMismatches(r.output);
    expect(failed.length, r.output).toBeGreaterThan(0);
    // Only false positives: the mutant fires the guarded alert where the scenario expects silence.
    for (const f of failed) {
      expect(f.alertname).toBe(m.falseAlert);
      expect(f.got.length).toBeGreaterThan(f.exp.length);
    }
  });
});
