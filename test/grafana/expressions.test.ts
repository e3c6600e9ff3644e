/** Every PromQL expression in the dashboards and rules parses with the real Prometheus parser (promtool). */
import { describe, expect, it } from 'vitest';
import { checkExpressions } from '../rules/promtool.js';
import { allDashboardExpressions, ruleExpressions, substituteGrafanaVariables } from '../rules/promql.js';

describe('PromQL syntax (promtool check rules)', () => {
  it('every dashboard panel and variable expression parses after substituting Grafana variables', () => {
    const exprs = allDashboardExpressions().map((e) => ({ name: e.name, expr: substituteGrafanaVariables(e.expr) }));
    expect(exprs.length).toBeGreaterThan(30);
    for (const e of exprs) expect(e.expr, e.name).not.toMatch(/\$/);
    const r = checkExpressions(exprs);
    expect(r.output).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(r.ok, r.output).toBe(true);
  });

  it('every rule expression parses on its own', () => {
    const r = checkExpressions(ruleExpressions());
    expect(r.ok, r.output).toBe(true);
  });

  it('substitutes Grafana variables into valid PromQL', () => {
    expect(substituteGrafanaVariables('rate(x{a=~"$cluster", b="${service}"}[$__rate_interval])')).toBe('rate(x{a=~".*", b=".*"}[5m])');
  });
});
