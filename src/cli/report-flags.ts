/** The `report` command's flag table and its parsing into ReportOptions. */
import type { BackendChoice } from '../config.js';
import type { IpFamily } from '../iptables/types.js';
import { UsageError } from './errors.js';
import { FlagValues, parseArgs, type FlagDef } from './parse-args.js';

export type ReportFormat = 'table' | 'json';

export interface ReportOptions {
  /** A dump file, '-' for stdin, or null to read the live node with iptables-save. */
  readonly input: string | null;
  readonly format: ReportFormat;
  /** null = from the dump (ipv6 when its rules carry IPv6 addresses), ipv4 on a live node. */
  readonly family: IpFamily | null;
  readonly backend: BackendChoice;
}

export const REPORT_FLAGS: readonly FlagDef[] = [
  { name: 'help', short: 'h', type: 'bool', default: 'false', env: null, help: 'Show this help and exit.' },
  {
    name: 'input',
    short: 'i',
    type: 'path',
    default: '',
    env: null,
    placeholder: 'FILE',
    help: 'Saved dump to read (iptables-save -c -t nat output, or iptables -S -v); "-" reads stdin. Without it, runs iptables-save on this node.',
  },
  {
    name: 'format',
    type: 'enum',
    default: 'table',
    values: ['table', 'json'],
    env: null,
    placeholder: 'FORMAT',
    help: 'table (for people) or json (a stable contract for scripts).',
  },
  {
    name: 'family',
    type: 'enum',
    default: 'auto',
    values: ['auto', 'ipv4', 'ipv6'],
    env: null,
    placeholder: 'FAMILY',
    help: 'IP family of the rules: auto (from the dump\'s addresses; ipv4 on a live node), ipv4 or ipv6.',
  },
  {
    name: 'iptables.backend',
    type: 'enum',
    default: 'auto',
    values: ['auto', 'nft', 'legacy'],
    placeholder: 'BACKEND',
    help: 'Backend for the live node: auto (detected like kube-proxy\'s iptables-wrappers), nft or legacy.',
  },
];

export type ReportInvocation = { readonly kind: 'help' } | { readonly kind: 'run'; readonly options: ReportOptions };

/** Parses the arguments after `report`; throws a UsageError listing every problem. */
export function parseReportFlags(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ReportInvocation {
  const parsed = parseArgs(REPORT_FLAGS, argv, env);
  if (parsed.values.get('help') === true) return { kind: 'help' };
  const problems = [...parsed.problems, ...parsed.positionals.map((p) => `unexpected argument ${JSON.stringify(p)} (use --input ${p})`)];
  if (problems.length > 0) throw new UsageError(problems, 'report');
  const values = new FlagValues(parsed);
  const family = values.string('family');
  return {
    kind: 'run',
    options: {
      input: values.string('input'),
      format: (values.string('format') ?? 'table') as ReportFormat,
      family: family === 'ipv4' || family === 'ipv6' ? family : null,
      backend: (values.string('iptables.backend') ?? 'auto') as BackendChoice,
    },
  };
}
