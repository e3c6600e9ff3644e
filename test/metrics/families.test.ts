import { describe, expect, it } from 'vitest';
import { METRIC_FAMILIES } from '../../src/metrics/families/index.js';

const METRIC_NAME = /^kube_balance_[a-z0-9_]+$/;
const LABEL_NAME = /^[a-z][a-z0-9_]*$/;

describe('family registry', () => {
  it('has unique names', () => {
    const names = METRIC_FAMILIES.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(METRIC_FAMILIES.map((f) => [f.name, f] as const))('%s follows the naming rules', (_name, family) => {
    expect(family.name).toMatch(METRIC_NAME);
    // Prometheus convention (and promtool lint): counters and only counters end in _total.
    expect(family.name.endsWith('_total')).toBe(family.type === 'counter');
    for (const label of family.labels) expect(label).toMatch(LABEL_NAME);
    expect(new Set(family.labels).size).toBe(family.labels.length);
    expect(family.help.length).toBeGreaterThan(20);
  });

  it('says in HELP which values are new connections, per node, or derived over the window', () => {
    for (const family of METRIC_FAMILIES) {
      if (/connections/.test(family.name) && !/affinity/.test(family.name)) {
        // The conntrack families count open connections instead, and say so (issue 9).
        expect(family.help, family.name).toMatch(/new connections|from the last conntrack scan/i);
      }
      if (/^kube_balance_(service|endpoint)_/.test(family.name)) expect(family.help, family.name).toMatch(/this node/);
      if (/observed|window_connections|skew|p_value|chi_square/.test(family.name)) {
        expect(family.help, family.name).toMatch(/derived over the --window|from the last conntrack scan/);
      }
    }
  });
});
