/** grafana/*.json are exactly what grafana/src generates, importable on current Grafana, and follow the conventions. */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDashboard, SCHEMA_VERSION } from '../../grafana/src/builders.js';
import { DASHBOARDS } from '../../grafana/src/index.js';
import { DASHBOARD_DIR, dashboardExpressions, loadDashboard, type Dashboard } from '../rules/promql.js';

const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
if (UPDATE) for (const d of DASHBOARDS) writeFileSync(join(DASHBOARD_DIR, d.file), renderDashboard(d.build()));

interface AnyPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { datasource?: { uid: string }; expr: string; refId: string }[];
}

const cases = DASHBOARDS.map((d) => [d.file, d] as const);

describe('dashboards', () => {
  it('grafana/ holds exactly the generated dashboards', () => {
    const files = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(DASHBOARDS.map((d) => d.file).sort());
  });

  it.each(cases)('%s is up to date with grafana/src (UPDATE_GOLDEN=1 npx vitest run test/grafana)', (file, d) => {
    const path = join(DASHBOARD_DIR, file);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(renderDashboard(d.build()));
  });

  it('uids are the documented, stable ones', () => {
    expect(DASHBOARDS.map((d) => loadDashboard(join(DASHBOARD_DIR, d.file)).uid)).toEqual(['kube-balance-service', 'kube-balance-overview']);
    expect(DASHBOARDS.map((d) => loadDashboard(join(DASHBOARD_DIR, d.file)).title)).toEqual(['Service load balance', 'Cluster overview']);
  });

  it.each(cases)('%s is importable: schema, datasource variable without __inputs, tags, ids, layout', (file) => {
    const d = loadDashboard(join(DASHBOARD_DIR, file)) as Dashboard & Record<string, unknown>;
    expect(d['__inputs']).toBeUndefined();
    expect(d['__requires']).toBeUndefined();
    expect(d['schemaVersion']).toBeGreaterThanOrEqual(39);
    expect(d['schemaVersion']).toBe(SCHEMA_VERSION);
    expect(d['id']).toBeNull();
    expect(d['tags']).toContain('kube-balance');
    const vars = d.templating.list;
    expect(vars[0]).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    expect(vars.map((v) => v.name)).toContain('cluster');
    const panels = d.panels as unknown as AnyPanel[];
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    // No two panels overlap on the 24-column grid.
    const cells = new Set<string>();
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.description, p.title).toBeTruthy();
      for (const t of p.targets ?? []) expect(t.datasource?.uid, `${p.title}/${t.refId}`).toBe('${datasource}');
    }
    for (const v of vars.filter((x) => x.type === 'query')) expect((v as { datasource?: { uid: string } }).datasource?.uid).toBe('${datasource}');
  });

  it.each(cases)('%s: every kube_balance selector filters on $cluster, and rates use $__rate_interval', (file) => {
    const d = loadDashboard(join(DASHBOARD_DIR, file));
    for (const e of dashboardExpressions(d)) {
      if (e.name.endsWith('/$cluster')) continue;
      for (const m of e.expr.matchAll(/\b((?:[a-z_]+:)?kube_balance_[a-z0-9_:]+|up)(\{[^}]*\})?/g)) {
        expect(m[2] ?? '', `${e.name}: ${m[1]} without cluster filter`).toContain('cluster=~"$cluster"');
      }
      for (const m of e.expr.matchAll(/\brate\([^\[]*\[([^\]]*)\]/g)) expect(m[1], e.name).toBe('$__rate_interval');
    }
  });

  it('panels that read reserved enrichment metrics say they require --kube.enabled', () => {
    for (const { file } of DASHBOARDS) {
      const d = loadDashboard(join(DASHBOARD_DIR, file));
      for (const p of d.panels as unknown as AnyPanel[]) {
        const exprs = (p.targets ?? []).map((t) => t.expr).join('\n');
        if (/kube_balance_(endpoint_info|service_drift_|kube_synced)/.test(exprs)) {
          expect(p.title, p.title).toContain('requires --kube.enabled');
          expect(p.description, p.title).toContain('--kube.enabled');
        }
      }
    }
  });
});
