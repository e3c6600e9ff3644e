/** Scenario → iptables-restore text (kube-proxy's input, or iptables-save's normalised form), full or as a partial sync. */
import type { Counters, IpFamily } from '../../iptables/types.js';
import { serviceKey, type Scenario } from '../scenario.js';
import { writeCurrentLayout } from './current-layout.js';
import { commentArgs, quoted, RulesetBuilder, type RulesetLine, type TableName } from './ruleset-lines.js';
import { toSaveRule } from './save-format.js';
import { writeV120Layout } from './v1-20-layout.js';

/** `current`: v1.24+ (KUBE-SVC/SVL/EXT, `"<svc> -> <ep>"` comments). `v1.20`: pre-1.24 (KUBE-XLB, `<svc>` comments). */
export type Layout = 'current' | 'v1.20';

export interface RenderOptions {
  readonly family: IpFamily;
  readonly layout?: Layout;
  /** false = large-cluster mode: no comments on SVC→SEP and SEP rules. Default true. */
  readonly comments?: boolean;
  readonly masqueradeMark?: string;
  readonly randomFully?: boolean;
  /** `restore` (default): kube-proxy's own restore input. `save`: what `iptables-save -c` prints back. */
  readonly style?: 'restore' | 'save';
  /**
   * Also write the built-in chains, the jump rules kube-proxy installs with `iptables -I`
   * (proxier.go `iptablesJumpChains`) and the mangle-table hint/canary chains kubelet and kube-proxy
   * create (what kubernetes-sigs/iptables-wrappers looks for): a complete ruleset for a fresh node.
   */
  readonly bootstrap?: boolean;
  /** Counters for `save` style; rules without an entry print `[0:0]`. */
  readonly counters?: (line: RulesetLine) => Counters | null;
}

const BUILTIN: Record<TableName, readonly string[]> = {
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};
const TABLE_ORDER: readonly TableName[] = ['mangle', 'filter', 'nat'];

function writeBootstrap(b: RulesetBuilder, options: RenderOptions): void {
  for (const table of TABLE_ORDER) for (const chain of BUILTIN[table]) b.chain(table, chain, null, 'ACCEPT');
  // kubelet's KUBE-IPTABLES-HINT tells iptables-wrappers which backend the node uses; the canaries
  // let kubelet and kube-proxy notice a flush (proxier.go `ipt.Monitor`).
  for (const chain of ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY', 'KUBE-PROXY-CANARY']) b.chain('mangle', chain);
  for (const table of ['filter', 'nat'] as const) for (const chain of ['KUBE-KUBELET-CANARY', 'KUBE-PROXY-CANARY']) b.chain(table, chain);

  const newOnly = ['-m', 'conntrack', '--ctstate', 'NEW'];
  const jump = (table: TableName, from: string, extra: readonly string[], comment: string | null, to: string): void => {
    b.chain(table, to);
    b.rule(table, from, null, extra, comment === null ? [] : commentArgs(quoted(comment)), '-j', to);
  };
  // EnsureRule(Prepend, ...) in list order leaves the chains in reverse order; these are the results.
  const current = (options.layout ?? 'current') === 'current';
  const v4 = options.family === 'ipv4';
  if (current && v4) jump('filter', 'INPUT', [], null, 'KUBE-FIREWALL');
  if (current) jump('filter', 'INPUT', newOnly, 'kubernetes load balancer firewall', 'KUBE-PROXY-FIREWALL');
  if (current) jump('filter', 'INPUT', [], 'kubernetes health check service ports', 'KUBE-NODEPORTS');
  jump('filter', 'INPUT', newOnly, 'kubernetes externally-visible service portals', 'KUBE-EXTERNAL-SERVICES');
  if (current) jump('filter', 'FORWARD', newOnly, 'kubernetes load balancer firewall', 'KUBE-PROXY-FIREWALL');
  jump('filter', 'FORWARD', [], 'kubernetes forwarding rules', 'KUBE-FORWARD');
  jump('filter', 'FORWARD', newOnly, 'kubernetes service portals', 'KUBE-SERVICES');
  jump('filter', 'FORWARD', newOnly, 'kubernetes externally-visible service portals', 'KUBE-EXTERNAL-SERVICES');
  if (current && v4) jump('filter', 'OUTPUT', [], null, 'KUBE-FIREWALL');
  if (current) jump('filter', 'OUTPUT', newOnly, 'kubernetes load balancer firewall', 'KUBE-PROXY-FIREWALL');
  jump('filter', 'OUTPUT', newOnly, 'kubernetes service portals', 'KUBE-SERVICES');
  jump('nat', 'PREROUTING', [], 'kubernetes service portals', 'KUBE-SERVICES');
  jump('nat', 'OUTPUT', [], 'kubernetes service portals', 'KUBE-SERVICES');
  jump('nat', 'POSTROUTING', [], 'kubernetes postrouting rules', 'KUBE-POSTROUTING');
}

/** Every line of the ruleset for one IP family, in kube-proxy's write order. */
export function buildRulesetLines(scenario: Scenario, options: RenderOptions): RulesetLine[] {
  const b = new RulesetBuilder();
  if (options.bootstrap === true) writeBootstrap(b, options);
  const layoutOptions = {
    family: options.family,
    comments: options.comments ?? true,
    masqueradeMark: options.masqueradeMark ?? '0x4000',
    randomFully: options.randomFully ?? true,
  };
  if ((options.layout ?? 'current') === 'current') writeCurrentLayout(b, scenario, layoutOptions);
  else writeV120Layout(b, scenario, layoutOptions);
  return b.lines;
}

/** Full text: `*table`, chain lines, rules, `COMMIT` per table. */
export function renderRuleset(scenario: Scenario, options: RenderOptions): string {
  return renderLines(buildRulesetLines(scenario, options), options);
}

/**
 * What kube-proxy's partial sync (v1.27+) writes when only `changed` Services changed: the shared
 * chains (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ and the whole filter
 * table) are always rewritten; of the per-service chains only those of changed Services are
 * (flushed, refilled, counters restarting at zero); `staleChains` are flushed and deleted (`-X`),
 * as proxier.go does for chains it no longer needs. Apply with `iptables-restore --noflush --counters`.
 */
export function renderPartialSync(scenario: Scenario, changed: readonly string[], staleChains: readonly string[], options: RenderOptions): string {
  const keep = new Set(changed);
  const lines = buildRulesetLines(scenario, { ...options, bootstrap: false, style: 'restore' }).filter(
    (line) => line.owner === null || keep.has(line.owner),
  );
  for (const chain of staleChains) {
    lines.push({ table: 'nat', kind: 'chain', chain, owner: null, args: [] });
    lines.push({ table: 'nat', kind: 'rule', chain, owner: null, args: ['-X'] });
  }
  return renderLines(lines, { ...options, style: 'restore' });
}

/** Names of the nat chains a Service owns (SVC/SVL/EXT/FW/XLB/SEP), for deleting them or rewriting them. */
export function serviceChains(scenario: Scenario, key: string, options: RenderOptions): string[] {
  const chains = new Set<string>();
  for (const line of buildRulesetLines(scenario, options)) if (line.kind === 'chain' && line.owner === key) chains.add(line.chain);
  return [...chains];
}

/** Keys of every Service in the scenario for a family. */
export function serviceKeys(scenario: Scenario, family: IpFamily): string[] {
  return scenario.services.filter((s) => s.ipFamily === family).map(serviceKey);
}

function renderLines(lines: readonly RulesetLine[], options: RenderOptions): string {
  const save = options.style === 'save';
  const out: string[] = [];
  for (const table of TABLE_ORDER) {
    const tableLines = lines.filter((l) => l.table === table);
    if (tableLines.length === 0) continue;
    out.push(`*${table}`);
    const chains = tableLines.filter((l) => l.kind === 'chain');
    const rules = tableLines.filter((l) => l.kind === 'rule');
    if (save) {
      // iptables-save prints built-in chains in hook order, then user chains sorted by name, and
      // the rules grouped by chain in that same order.
      const order = [...BUILTIN[table].filter((c) => chains.some((l) => l.chain === c)), ...chains.filter((l) => l.policy === undefined).map((l) => l.chain).sort(compareBytes)];
      for (const chain of order) {
        const line = chains.find((l) => l.chain === chain);
        out.push(line?.policy !== undefined ? `:${chain} ${line.policy} [0:0]` : `:${chain} - [0:0]`);
      }
      for (const chain of order) {
        for (const rule of rules) {
          if (rule.chain !== chain) continue;
          const c = options.counters?.(rule) ?? { packets: 0, bytes: 0 };
          out.push(`[${c.packets}:${c.bytes}] ${toSaveRule(rule.chain, rule.args, options.family)}`);
        }
      }
    } else {
      for (const line of chains) out.push(line.policy !== undefined ? `:${line.chain} ${line.policy} [0:0]` : `:${line.chain} - [0:0]`);
      for (const line of rules) out.push(line.args[0] === '-X' ? `-X ${line.chain}` : `-A ${line.chain} ${line.args.join(' ')}`);
    }
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
