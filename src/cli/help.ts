/** --help text and the README flags section, both generated from the flag tables. */
import { EXPORTER_FLAGS } from './flags.js';
import { envNamesOf, type FlagDef } from './parse-args.js';
import { REPORT_FLAGS } from './report-flags.js';

export const PROGRAM = 'kube-balance-exporter';
const WIDTH = 100;
const INDENT = '        ';

/** Greedy word wrap; `[bracketed groups]` are kept on one line. */
function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.match(/\[[^\]]*\]|\S+/g) ?? []) {
    if (line !== '' && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

function usage(def: FlagDef): string {
  if (def.type === 'bool') return def.default === 'true' ? `--[no-]${def.name}` : `--${def.name}`;
  return `--${def.name}=${def.placeholder ?? 'VALUE'}`;
}

/** Enum values are listed unless the help text already names every one of them. */
function unlistedValues(def: FlagDef): readonly string[] | null {
  if (def.type !== 'enum' || def.values === undefined) return null;
  return def.values.every((v) => def.help.includes(v)) ? null : def.values;
}

function details(def: FlagDef): string {
  const parts: string[] = [];
  const values = unlistedValues(def);
  if (values !== null) {
    parts.push(`[one of: ${values.join(', ')}]`);
  }
  if (def.default !== '' && !(def.type === 'bool' && def.default === 'false')) parts.push(`[default: ${def.default}]`);
  const envs = envNamesOf(def);
  if (envs.length > 0) parts.push(`[env: ${envs.join(', ')}]`);
  return parts.join(' ');
}

function renderFlags(defs: readonly FlagDef[]): string[] {
  const lines: string[] = [];
  for (const def of defs) {
    lines.push(`  ${def.short === undefined ? '    ' : `-${def.short}, `}${usage(def)}`);
    lines.push(...wrap(`${def.help} ${details(def)}`.trim(), INDENT));
  }
  return lines;
}

/** `kube-balance-exporter --help`. */
export function renderExporterHelp(): string {
  return [
    `usage: ${PROGRAM} [<flags>]`,
    `       ${PROGRAM} report [<flags>]`,
    '',
    ...wrap(
      'Prometheus exporter for how evenly kube-proxy (iptables mode) spreads new connections over each ' +
        "Service's endpoints, read from the counters of the nat table's load-balancing rules on this node.",
      '',
    ),
    '',
    'Flags (flags win over environment variables, which win over defaults):',
    ...renderFlags(EXPORTER_FLAGS),
    '',
    'Commands:',
    `  report  One-shot report of a saved dump or of this node (${PROGRAM} report --help).`,
    '',
  ].join('\n');
}

/** `kube-balance-exporter report --help`. */
export function renderReportHelp(): string {
  return [
    `usage: ${PROGRAM} report [--input FILE|-] [--format table|json] [--family ipv4|ipv6]`,
    '',
    ...wrap(
      'One-shot report of how kube-proxy spreads new connections over each service port\'s endpoints, ' +
        'from the rule counters of a saved dump or of this node. Counters count new connections on one ' +
        'node since kube-proxy last rewrote the chain. Exit status: 0 when the dump was read (skipped ' +
        'lines are listed on stderr), 1 when the input cannot be read or is not iptables output, 2 for bad flags.',
      '',
    ),
    '',
    'Flags:',
    ...renderFlags(REPORT_FLAGS),
    '',
  ].join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function markdownTable(defs: readonly FlagDef[]): string[] {
  const rows = ['| flag | environment | default | meaning |', '|---|---|---|---|'];
  for (const def of defs) {
    const flag = [def.short === undefined ? null : `-${def.short}`, usage(def)].filter((s) => s !== null);
    const envs = envNamesOf(def).map((e) => `\`${e}\``).join(', ');
    const dflt = def.default === '' || (def.type === 'bool' && def.default === 'false') ? '' : `\`${def.default}\``;
    const values = unlistedValues(def);
    const oneOf = values === null ? '' : ` One of ${values.map((v) => `\`${v}\``).join(', ')}.`;
    rows.push(`| ${flag.map((f) => `\`${f}\``).join(', ')} | ${envs} | ${cell(dflt)} | ${cell(def.help + oneOf)} |`);
  }
  return rows;
}

/** The README section between `<!-- flags:start -->` and `<!-- flags:end -->` (markers excluded). */
export function renderFlagsMarkdown(): string {
  return [
    '<!-- Generated from src/cli/flags.ts and src/cli/report-flags.ts; update with: UPDATE_DOCS=1 npx vitest run test/cli -->',
    '',
    `### Exporter: \`${PROGRAM} [<flags>]\``,
    '',
    'Flags win over environment variables, which win over defaults. Durations take a unit (`500ms`, `10s`, ' +
      '`5m`, `1h30m`); sizes take bytes or a unit (`64KiB`, `512MiB`, `1GB`). Regexes are anchored: they ' +
      'must match the whole name. Invalid flags print every problem at once and exit with status 2.',
    '',
    ...markdownTable(EXPORTER_FLAGS),
    '',
    `### Report: \`${PROGRAM} report [<flags>]\``,
    '',
    'One-shot analysis of a saved dump or of this node. Exit status 0 when the dump was read (skipped lines ' +
      'are listed on stderr), 1 when the input cannot be read or is not iptables output, 2 for bad flags.',
    '',
    ...markdownTable(REPORT_FLAGS),
    '',
  ].join('\n');
}
