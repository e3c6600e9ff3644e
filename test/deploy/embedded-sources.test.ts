/** The PrometheusRule and dashboard components embed exactly deploy/prometheus/ and grafana/: no drifting copies. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLIENT_SIDE_APPLY_LIMIT, SOURCE_ANNOTATION, renderAll, renderDashboards, renderRules } from '../../deploy/generate.mjs';
import { REPO, kustomize, overlayDir, removeOverlays, validateObject, type KubeObject } from './render.js';

afterAll(removeOverlays);

/** Repo-relative files under `dir` (recursively when asked) whose names match `re`. */
function filesUnder(dir: string, re: RegExp, recursive: boolean): string[] {
  const abs = join(REPO, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((name) => {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) return recursive ? filesUnder(join(dir, name), re, true) : [];
    return re.test(name) ? [relative(REPO, p)] : [];
  });
}

const ruleFiles = filesUnder('deploy/prometheus', /\.ya?ml$/, true).filter((f) => {
  const data = parse(readFileSync(join(REPO, f), 'utf8')) as { groups?: unknown } | null;
  return Array.isArray(data?.groups);
});
const dashboards = filesUnder('grafana', /\.json$/, false);

describe('generated components', () => {
  it('are up to date with their sources (`node deploy/generate.mjs --check`)', () => {
    try {
      execFileSync(process.execPath, [join(REPO, 'deploy/generate.mjs'), '--check'], { cwd: REPO, stdio: 'pipe', encoding: 'utf8' });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      expect.fail(`rendered components differ from deploy/prometheus/ or grafana/; run \`node deploy/generate.mjs\`\n${e.stderr ?? e.message}`);
    }
  });

  it('the PrometheusRules hold exactly the rule files under deploy/prometheus/, one each', () => {
    const rules = kustomize(overlayDir(['prometheusrule'])).filter((o) => o.kind === 'PrometheusRule');
    for (const r of rules) validateObject(r);
    expect(rules.map((r) => r.metadata.annotations?.[SOURCE_ANNOTATION]).sort()).toEqual([...ruleFiles].sort());
    for (const file of ruleFiles) {
      const rule = rules.find((r) => r.metadata.annotations?.[SOURCE_ANNOTATION] === file) as KubeObject & { spec: unknown };
      expect(rule.spec, file).toEqual(parse(readFileSync(join(REPO, file), 'utf8')));
    }
  });

  it('the dashboard ConfigMaps hold exactly grafana/*.json, byte for byte, labelled for the Grafana sidecar', () => {
    const maps = kustomize(overlayDir(['grafana-dashboards'])).filter((o) => o.kind === 'ConfigMap');
    for (const m of maps) validateObject(m);
    expect(maps.map((m) => m.metadata.annotations?.[SOURCE_ANNOTATION]).sort()).toEqual([...dashboards].sort());
    for (const file of dashboards) {
      const cm = maps.find((m) => m.metadata.annotations?.[SOURCE_ANNOTATION] === file) as KubeObject & { data: Record<string, string> };
      expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
      const text = readFileSync(join(REPO, file), 'utf8');
      expect(cm.data).toEqual({ [file.split('/').pop() as string]: text });
      expect(
        Buffer.byteLength(text),
        `${file} is too big for client-side \`kubectl apply\` (last-applied annotation); use --server-side or shrink it`,
      ).toBeLessThan(CLIENT_SIDE_APPLY_LIMIT - 8_192);
    }
  });
});

describe('deploy/generate.mjs on sample sources', () => {
  const root = mkdtempSync(join(tmpdir(), 'kube-balance-generate-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write(
    'deploy/prometheus/alerts.yaml',
    [
      'groups:',
      '  - name: kube-balance.alerts',
      '    rules:',
      '      # why this alert exists',
      '      - alert: KubeBalanceEndpointStarved',
      '        expr: kube_balance:endpoint_share:ratio == 0',
      '        for: 15m',
      '        labels: { severity: warning }',
      '        annotations:',
      '          description: |',
      '            {{ $labels.endpoint }} of {{ $labels.namespace }}/{{ $labels.service }}',
      '            gets no new connections.',
      '',
    ].join('\n'),
  );
  write('deploy/prometheus/tests/alerts_test.yaml', 'rule_files: [../alerts.yaml]\ntests: []\n');
  write('deploy/prometheus/prometheus.yml', 'global: { scrape_interval: 5s }\nscrape_configs: []\n');
  write('grafana/service-load-balance.json', '{\n  "uid": "kb-service",\n  "title": "x"  \n}\n');

  it('embeds rule files node for node (comments kept) and skips promtool tests and Prometheus configs', () => {
    const out = renderRules(root);
    expect(out.sources).toEqual(['deploy/prometheus/alerts.yaml']);
    expect(out.text).toContain('# why this alert exists');
    const doc = parse(out.text.split('\n---\n')[1] ?? '') as KubeObject & { spec: unknown };
    validateObject(doc);
    expect(doc.metadata.name).toBe('kube-balance-alerts');
    expect(doc.spec).toEqual(parse(readFileSync(join(root, 'deploy/prometheus/alerts.yaml'), 'utf8')));
  });

  it('keeps dashboard text verbatim, trailing spaces included', () => {
    const out = renderDashboards(root);
    const doc = parse(out.text.split('\n---\n')[1] ?? '') as KubeObject & { data: Record<string, string> };
    expect(doc.data['service-load-balance.json']).toBe(readFileSync(join(root, 'grafana/service-load-balance.json'), 'utf8'));
  });

  it('refuses a YAML file that is neither a rule file nor a promtool test', () => {
    write('deploy/prometheus/notes.yaml', 'hello: world\n');
    expect(() => renderAll(root)).toThrow(/notes\.yaml: neither a Prometheus rule file/);
  });
});
