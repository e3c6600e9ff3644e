/** The rule files pass `promtool check rules`, the scenario unit tests pass `promtool test rules`, and both are current. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { runPromtool } from './promtool.js';
import { SCENARIOS } from './scenarios.js';
import { RULE_FILES, RULES_DIR, TESTS_DIR, buildUnitTest, unitTestPath, updateUnitTests, withoutAnnotations, type UnitTestFile } from './unit-tests.js';

const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

describe('promtool check rules', () => {
  it.each(RULE_FILES)('%s is a valid rule file', (file) => {
    const r = runPromtool(['check', 'rules', join(RULES_DIR, file)]);
    expect(r.output).toContain('SUCCESS');
    expect(r.ok, r.output).toBe(true);
  });

  it('recording rules use rate()/increase() only on counters (…_total)', () => {
    const text = readFileSync(join(RULES_DIR, 'kube-balance.rules.yaml'), 'utf8') + readFileSync(join(RULES_DIR, 'kube-balance.alerts.yaml'), 'utf8');
    const uses = [...text.matchAll(/\b(?:rate|increase|irate)\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/g)].map((m) => m[1]!);
    expect(uses.length).toBeGreaterThan(0);
    for (const metric of uses) expect(metric, `${metric} is not a counter`).toMatch(/_total$/);
  });
});

describe('promtool unit tests (deploy/prometheus/tests)', () => {
  if (UPDATE) updateUnitTests();

  it('there is one unit-test file per scenario and no other', () => {
    const files = readdirSync(TESTS_DIR).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(SCENARIOS.map((s) => `${s.name}.yaml`).sort());
  });

  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s is up to date with test/rules/scenarios.ts', (_name, scenario) => {
    const path = unitTestPath(scenario);
    expect(existsSync(path), `${path} missing: UPDATE_GOLDEN=1 npx vitest run test/rules`).toBe(true);
    const committed = YAML.parse(readFileSync(path, 'utf8')) as UnitTestFile;
    expect(withoutAnnotations(committed), 'regenerate: UPDATE_GOLDEN=1 npx vitest run test/rules').toEqual(buildUnitTest(scenario));
  });

  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s passes promtool test rules', (_name, scenario) => {
    const r = runPromtool(['test', 'rules', unitTestPath(scenario)]);
    expect(r.ok, r.output).toBe(true);
  });

  it('every alert fires in some scenario, and every annotation rendered cleanly', () => {
    const fired = new Set<string>();
    for (const scenario of SCENARIOS) {
      const file = YAML.parse(readFileSync(unitTestPath(scenario), 'utf8')) as UnitTestFile;
      for (const t of file.tests[0]!.alert_rule_test) {
        for (const a of t.exp_alerts) {
          fired.add(t.alertname);
          const ann = a.exp_annotations ?? {};
          expect(Object.keys(ann).sort()).toEqual(['description', 'runbook_url', 'summary']);
          for (const v of Object.values(ann)) expect(v).not.toMatch(/<no value>|%!|NaN|\+Inf|\{\{/);
        }
      }
    }
    const alerts = (YAML.parse(readFileSync(join(RULES_DIR, 'kube-balance.alerts.yaml'), 'utf8')) as { groups: { rules: { alert?: string }[] }[] }).groups
      .flatMap((g) => g.rules)
      .flatMap((r) => (r.alert === undefined ? [] : [r.alert]));
    expect([...fired].sort()).toEqual([...alerts].sort());
  });
});

describe('alert conventions', () => {
  const doc = YAML.parse(readFileSync(join(RULES_DIR, 'kube-balance.alerts.yaml'), 'utf8')) as {
    groups: { rules: { alert?: string; labels?: Record<string, string>; annotations?: Record<string, string>; for?: string }[] }[];
  };
  const alerts = doc.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
  const runbook = readFileSync(join(RULES_DIR, '..', '..', 'docs', 'alerts.md'), 'utf8');
  const anchors = new Set([...runbook.matchAll(/^##+ (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));

  it.each(alerts.map((a) => [a.alert!, a] as const))('%s: CamelCase, severity, summary/description, runbook section, for', (name, a) => {
    expect(name).toMatch(/^KubeBalance[A-Z][A-Za-z]+$/);
    expect(['critical', 'warning', 'info']).toContain(a.labels?.['severity']);
    expect(Object.keys(a.annotations ?? {}).sort()).toEqual(['description', 'runbook_url', 'summary']);
    const url = a.annotations!['runbook_url']!;
    expect(url).toMatch(/\/docs\/alerts\.md#[a-z]+$/);
    expect(anchors.has(url.split('#')[1]!), `docs/alerts.md has no section for ${name}`).toBe(true);
    expect(a.for).toMatch(/^\d+m$/);
  });
});

