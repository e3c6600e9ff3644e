/**
 * PromQL expressions of the rule files and dashboards, Grafana-variable substitution, and the metric
 * names an expression references (a small lexer: strings, label matchers, ranges and grouping
 * clauses are skipped; identifiers followed by `(` are functions or aggregations).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export const ROOT = join(import.meta.dirname, '..', '..');
export const RULE_FILE_PATHS = ['kube-balance.rules.yaml', 'kube-balance.alerts.yaml'].map((f) => join(ROOT, 'deploy', 'prometheus', f));
export const DASHBOARD_DIR = join(ROOT, 'grafana');

export interface NamedExpr {
  /** Where it comes from: `rules:<record|alert>` or `<dashboard uid>/<panel title>/<refId>`. */
  readonly name: string;
  readonly expr: string;
}

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}

export function ruleExpressions(): NamedExpr[] {
  return RULE_FILE_PATHS.flatMap((path) => {
    const doc = YAML.parse(readFileSync(path, 'utf8')) as RuleFile;
    return doc.groups.flatMap((g) => g.rules.map((r) => ({ name: `rules:${r.record ?? r.alert}`, expr: r.expr })));
  });
}

export function recordedNames(): Set<string> {
  const out = new Set<string>();
  for (const path of RULE_FILE_PATHS) {
    const doc = YAML.parse(readFileSync(path, 'utf8')) as RuleFile;
    for (const g of doc.groups) for (const r of g.rules) if (r.record !== undefined) out.add(r.record);
  }
  return out;
}

interface Panel {
  title?: string;
  type?: string;
  targets?: { refId?: string; expr?: string }[];
  panels?: Panel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: unknown; definition?: string }[] };
  [key: string]: unknown;
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(DASHBOARD_DIR, f));
}

export function loadDashboard(path: string): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Panel target expressions and query-variable queries (`label_values(<expr>, label)` → `<expr>`). */
export function dashboardExpressions(d: Dashboard): NamedExpr[] {
  const out: NamedExpr[] = [];
  for (const p of allPanels(d.panels)) {
    for (const t of p.targets ?? []) if (t.expr !== undefined) out.push({ name: `${d.uid}/${p.title ?? p.type}/${t.refId ?? '?'}`, expr: t.expr });
  }
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : ((v.query as { query?: string } | undefined)?.query ?? '');
    const m = /^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$/s.exec(q);
    if (m !== null) out.push({ name: `${d.uid}/$${v.name}`, expr: m[1]! });
    else if (q !== '') out.push({ name: `${d.uid}/$${v.name}`, expr: q });
  }
  return out;
}

export function allDashboardExpressions(): NamedExpr[] {
  return dashboardFiles().flatMap((f) => dashboardExpressions(loadDashboard(f)));
}

/** Values for Grafana's built-in time variables (default: 5m for all, `$__range_s` 300). */
export interface GrafanaDurations {
  readonly rateInterval?: string;
  readonly interval?: string;
  readonly range?: string;
  readonly rangeSeconds?: number;
}

/**
 * Grafana variables → values PromQL accepts: ranges become 5m (or `durations`), `$__range_s` seconds,
 * template variables the given value or `.*` (a valid regex and a valid label value).
 */
export function substituteGrafanaVariables(expr: string, values: Readonly<Record<string, string>> = {}, durations: GrafanaDurations = {}): string {
  const builtin = (name: string): string =>
    name === 'rate_interval' ? (durations.rateInterval ?? '5m') : name === 'interval' ? (durations.interval ?? '5m') : (durations.range ?? '5m');
  return expr
    .replace(/\$__range_s\b/g, String(durations.rangeSeconds ?? 300))
    .replace(/\$__(rate_interval|interval|range)\b/g, (_m, name: string) => builtin(name))
    .replace(/\$\{__(rate_interval|interval|range)\}/g, (_m, name: string) => builtin(name))
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => values[a ?? b ?? ''] ?? '.*');
}

const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan', 'atan2',
]);

/** Metric names referenced by an expression (no functions, keywords, labels, or durations). */
export function metricNames(expr: string): Set<string> {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/#[^\n]*/g, '') // comments
    .replace(/\{[^}]*\}/g, '{}') // label matchers
    .replace(/\[[^\]]*\]/g, '[]'); // ranges and subqueries
  // Label lists of grouping and matching clauses.
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = m[0];
    const start = m.index;
    const before = s[start - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // 1e3, 5m remnants
    const rest = s.slice(start + name.length);
    if (/^\s*\(/.test(rest)) continue; // function or aggregation
    if (KEYWORDS.has(name.toLowerCase())) continue;
    out.add(name);
  }
  return out;
}

/** Metric family names in docs/metrics.md's tables (first column, backticked). */
export function documentedFamilies(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = /^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*(counter|gauge|histogram|summary|info|stateset|untyped)\s*\|/.exec(line);
    if (m !== null) out.add(m[1]!);
  }
  return out;
}

/** Reserved for the Kubernetes enrichment (--kube.enabled): not on /metrics yet, referenced only in marked rules/panels. */
export const RESERVED_ENRICHMENT = new Set([
  'kube_balance_endpoint_info',
  'kube_balance_service_drift_missing_endpoints',
  'kube_balance_service_drift_stale_endpoints',
  'kube_balance_kube_synced',
]);

/** Prometheus' own series that rules and dashboards may reference. */
export const PROMETHEUS_SERIES = new Set(['up']);
