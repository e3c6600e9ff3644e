/** Thin wrappers around Debian's promtool: check rules, run unit tests, and read its failure report. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';

export const PROMTOOL = process.env['PROMTOOL'] ?? 'promtool';

export interface PromtoolResult {
  readonly ok: boolean;
  readonly status: number | null;
  readonly output: string;
}

export function runPromtool(args: readonly string[], cwd?: string): PromtoolResult {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`cannot run ${PROMTOOL} (Debian package prometheus): ${r.error.message}`, { cause: r.error });
  return { ok: r.status === 0, status: r.status, output: `${r.stdout}${r.stderr}` };
}

/**
 * `promtool check rules` on PromQL expressions that are not in a rule file (dashboard panels): each
 * becomes a recording rule in a temporary file, so the real Prometheus parser checks its syntax.
 */
export function checkExpressions(exprs: readonly { readonly name: string; readonly expr: string }[]): PromtoolResult {
  const dir = mkdtempSync(join(tmpdir(), 'kube-balance-exprs-'));
  try {
    const rules = exprs.map((e, i) => ({ record: `check:expr_${i}:${e.name.replace(/[^a-zA-Z0-9_]/g, '_')}`, expr: e.expr }));
    const file = join(dir, 'exprs.rules.yaml');
    writeFileSync(file, YAML.stringify({ groups: [{ name: 'expressions', rules }] }, { lineWidth: 0 }));
    return runPromtool(['check', 'rules', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type LabelMap = Record<string, string>;

export interface GotAlert {
  readonly labels: LabelMap;
  readonly annotations: LabelMap;
}

export interface AlertMismatch {
  readonly alertname: string;
  /** As promtool prints it, e.g. `24m0s` (Go duration). */
  readonly time: string;
  readonly exp: readonly GotAlert[];
  readonly got: readonly GotAlert[];
}

/** Parses Go's `labels.Labels.String()`: `{a="b", c="d\"e"}` (values are Go %q strings). */
export function parseGoLabels(text: string): LabelMap {
  const out: LabelMap = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const m of text.matchAll(re)) out[m[1]!] = JSON.parse(`"${m[2]!}"`) as string;
  return out;
}

function parseAlertList(block: string): GotAlert[] {
  const out: GotAlert[] = [];
  const re = /Labels:(\{.*\})\s*\n\s*Annotations:(\{.*\})/g;
  for (const m of block.matchAll(re)) out.push({ labels: parseGoLabels(m[1]!), annotations: parseGoLabels(m[2]!) });
  return out;
}

/** The alert comparisons promtool reported as failed (its `alertname: …, time: …, exp:…, got:…` blocks). */
export function parseAlertMismatches(output: string): AlertMismatch[] {
  const out: AlertMismatch[] = [];
  const re = /alertname: (\S+), time: (\S+), \n\s*exp:([\s\S]*?), \n\s*got:([\s\S]*?)(?=\n\s*alertname: |\n\s*$|$)/g;
  for (const m of output.matchAll(re)) {
    out.push({ alertname: m[1]!, time: m[2]!, exp: parseAlertList(m[3]!), got: parseAlertList(m[4]!) });
  }
  return out;
}
