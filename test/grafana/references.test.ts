/**
 * Every metric a dashboard or rule references exists: a family documented in docs/metrics.md, a
 * recording rule in deploy/prometheus, a reserved enrichment metric (explicit allowlist, only in
 * marked rules/panels), or Prometheus' `up`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  allDashboardExpressions,
  documentedFamilies,
  metricNames,
  PROMETHEUS_SERIES,
  recordedNames,
  RESERVED_ENRICHMENT,
  ROOT,
  RULE_FILE_PATHS,
  ruleExpressions,
} from '../rules/promql.js';

const METRICS_MD = join(ROOT, 'docs', 'metrics.md');

describe('metric references', () => {
  it('docs/metrics.md documents the metric families', () => {
    expect(existsSync(METRICS_MD)).toBe(true);
    const families = documentedFamilies(readFileSync(METRICS_MD, 'utf8'));
    expect(families.size).toBeGreaterThan(20);
    expect(families).toContain('kube_balance_endpoint_connections_total');
  });

  it('every rule and dashboard expression references only known metrics', () => {
    const known = new Set([...documentedFamilies(readFileSync(METRICS_MD, 'utf8')), ...recordedNames(), ...RESERVED_ENRICHMENT, ...PROMETHEUS_SERIES]);
    const unknown: string[] = [];
    for (const e of [...ruleExpressions(), ...allDashboardExpressions()]) {
      for (const name of metricNames(e.expr)) if (!known.has(name)) unknown.push(`${e.name}: ${name}`);
    }
    expect(unknown).toEqual([]);
  });

  it('recording rules follow level:metric:operations and feed something', () => {
    const used = new Set([...ruleExpressions(), ...allDashboardExpressions()].flatMap((e) => [...metricNames(e.expr)]));
    for (const name of recordedNames()) {
      expect(name).toMatch(/^[a-z_]+:kube_balance_[a-z_]+:[a-z0-9_]+$/);
      expect(used.has(name), `${name} is recorded but never used`).toBe(true);
    }
  });

  it('reserved enrichment metrics appear only in the marked drift group', () => {
    for (const path of RULE_FILE_PATHS) {
      const doc = YAML.parse(readFileSync(path, 'utf8')) as { groups: { name: string; rules: { expr: string }[] }[] };
      for (const g of doc.groups) {
        const reserved = g.rules.flatMap((r) => [...metricNames(r.expr)].filter((n) => RESERVED_ENRICHMENT.has(n)));
        if (reserved.length > 0) expect(g.name, reserved.join(', ')).toBe('kube-balance.drift');
      }
    }
    expect(readFileSync(RULE_FILE_PATHS[1]!, 'utf8')).toMatch(/# Requires --kube\.enabled[\s\S]{0,300}?- name: kube-balance\.drift\n/);
  });
});

describe('metricNames', () => {
  it.each([
    ['sum by (node, endpoint) (rate(kube_balance_endpoint_connections_total{namespace="a:b", port=~"$port"}[5m]))', ['kube_balance_endpoint_connections_total']],
    ['a:b:c / on (x, y) group_left () (d > 0) unless ignoring (endpoint) e{z="f(g)"} offset 5m', ['a:b:c', 'd', 'e']],
    ['topk(20, x and on (p) (y > bool 4)) or vector(0)', ['x', 'y']],
    ['(time() - m1) > 3 * m2 unless m3 == 0', ['m1', 'm2', 'm3']],
    ['max_over_time(m[10m:1m]) ^ (1 / 3) - 2e3', ['m']],
  ])('%s', (expr, names) => {
    expect([...metricNames(expr)].sort()).toEqual(names);
  });
});
