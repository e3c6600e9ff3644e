/** The exporter's flag table (the single source for parsing, --help and the README) and ExporterConfig building. */
import type { BackendChoice, ExporterConfig, LogFormat, LogLevel } from '../config.js';
import type { IpFamily } from '../iptables/types.js';
import { didYouMean } from './did-you-mean.js';
import { WEB_FLAGS, webFlagsConfig } from './flags-web.js';
import { CONNTRACK_FLAGS, conntrackFlagsConfig } from './flags-conntrack.js';
import { UsageError } from './errors.js';
import { ENV_PREFIX, envNamesOf, FlagValues, parseArgs, type FlagDef, type FlagValue, type ParsedArgs } from './parse-args.js';
import { formatDuration } from './units.js';

function validateListenAddress(value: FlagValue): string | null {
  const match = /^(\[[0-9A-Fa-f:.]+(?:%[\w.-]+)?\]|[^:[\]\s]*):(\d{1,5})$/.exec(String(value));
  if (match === null) return 'must be host:port (":10090", "0.0.0.0:10090", "[::1]:10090")';
  return Number(match[2]) > 65535 ? 'port must be at most 65535' : null;
}

function validateTelemetryPath(value: FlagValue): string | null {
  const path = String(value);
  if (!/^\/[^\s?#]*$/.test(path)) return 'must be a path starting with "/" (no spaces, query or fragment)';
  // `/` is the landing page and `/-/` holds the health endpoints.
  if (path === '/' || path.startsWith('/-/')) return 'must not be "/" or under "/-/" (used by the landing page and health checks)';
  return null;
}

function validateNodeName(value: FlagValue): string | null {
  if (value === null) return null;
  const name = String(value);
  const label = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
  return name.length <= 253 && new RegExp(`^${label}(?:\\.${label})*$`).test(name)
    ? null
    : 'must be a Kubernetes node name (lower-case DNS subdomain)';
}

function positive(value: FlagValue): string | null {
  return typeof value === 'number' && value > 0 ? null : 'must be greater than zero';
}

/**
 * Every exporter flag, in help order. Env fallbacks are KUBE_BALANCE_<UPPER_SNAKE> unless `env` says
 * otherwise; flags beat env, env beats defaults.
 */
export const EXPORTER_FLAGS: readonly FlagDef[] = [
  { name: 'help', short: 'h', type: 'bool', default: 'false', env: null, help: 'Show this help and exit.' },
  { name: 'version', type: 'bool', default: 'false', env: null, help: 'Print the version and exit.' },
  {
    name: 'web.listen-address',
    type: 'string',
    default: ':10090',
    placeholder: 'ADDRESS',
    help: 'Address to listen on for the metrics page and health checks (host:port; empty host = all interfaces).',
    validate: validateListenAddress,
  },
  {
    name: 'web.telemetry-path',
    type: 'string',
    default: '/metrics',
    placeholder: 'PATH',
    help: 'Path of the metrics page.',
    validate: validateTelemetryPath,
  },
  ...WEB_FLAGS,
  {
    name: 'sample.interval',
    type: 'duration',
    default: '10s',
    placeholder: 'DURATION',
    help: 'Minimum time between samples; raised automatically when iptables-save is slow (see --sample.max-cpu).',
    validate: positive,
  },
  {
    name: 'sample.timeout',
    type: 'duration',
    default: '30s',
    placeholder: 'DURATION',
    help: 'Kill an iptables-save that runs longer than this.',
    validate: positive,
  },
  {
    name: 'sample.max-output-bytes',
    type: 'bytes',
    default: '256MiB',
    placeholder: 'BYTES',
    // The largest kube-proxy dumps we benchmark (20,000 services × 10 endpoints) are ~115 MB; the
    // exporter's peak RSS is about 100 MiB + 2.3 × this bound, so it also sizes the memory limit.
    help: 'Kill an iptables-save whose output is larger than this (a 20,000-service node prints about 115 MB).',
    validate: positive,
  },
  {
    name: 'sample.max-age',
    type: 'duration',
    default: '2m',
    placeholder: 'DURATION',
    help: 'Serve the last good data until it is this old, then withhold it.',
    validate: positive,
  },
  {
    name: 'sample.max-cpu',
    type: 'number',
    default: '0.1',
    placeholder: 'FRACTION',
    min: 0,
    minExclusive: true,
    max: 1,
    help: 'Fraction of one core iptables-save may use; the interval grows to keep under it.',
  },
  {
    name: 'sample.refresh-counters',
    type: 'bool',
    default: 'true',
    help: 'While kube-proxy has not rewritten its rules (a digest of the output without counters tells; KUBE-SERVICES and KUBE-NODEPORTS, which every sync writes in a new order, are compared as sets), read only the counters into the last parsed model instead of parsing the whole output again; --no-sample.refresh-counters parses every sample.',
  },
  {
    name: 'window',
    type: 'duration',
    default: '5m',
    placeholder: 'DURATION',
    help: 'Sliding window for observed shares, skew and p-values.',
    validate: positive,
  },
  {
    name: 'iptables.backend',
    type: 'enum',
    default: 'auto',
    values: ['auto', 'nft', 'legacy'],
    placeholder: 'BACKEND',
    help: 'iptables backend kube-proxy uses: auto (detected like kube-proxy\'s iptables-wrappers), nft or legacy.',
  },
  {
    name: 'iptables.families',
    type: 'enum',
    default: 'auto',
    values: ['auto', 'ipv4', 'ipv6', 'ipv4,ipv6'],
    placeholder: 'FAMILIES',
    help: 'IP families to sample: auto (ipv6 too when the node has ip6tables KUBE rules), ipv4, ipv6 or ipv4,ipv6.',
  },
  {
    name: 'source.file',
    type: 'path',
    default: '',
    placeholder: 'PATH',
    help: 'Read a saved dump (iptables-save -c output) instead of running iptables-save; "-" reads stdin.',
  },
  {
    name: 'metrics.include-namespaces',
    type: 'regex',
    default: '',
    placeholder: 'REGEX',
    help: 'Only export per-endpoint series for namespaces matching this regex (anchored).',
  },
  {
    name: 'metrics.exclude-namespaces',
    type: 'regex',
    default: '',
    placeholder: 'REGEX',
    help: 'Do not export per-endpoint series for namespaces matching this regex (anchored).',
  },
  {
    name: 'metrics.include-services',
    type: 'regex',
    default: '',
    placeholder: 'REGEX',
    help: 'Only export per-endpoint series for services whose namespace/service matches this regex (anchored).',
  },
  {
    name: 'metrics.exclude-services',
    type: 'regex',
    default: '',
    placeholder: 'REGEX',
    help: 'Do not export per-endpoint series for services whose namespace/service matches this regex (anchored).',
  },
  {
    name: 'metrics.max-endpoints',
    type: 'number',
    default: '100000',
    placeholder: 'N',
    // About 4 series per endpoint: the default bounds a node's page near 400k per-endpoint series.
    help:
      'Series budget: at most this many endpoints get per-endpoint series; beyond it the least active ladders lose ' +
      'their endpoint detail first (service-level series stay). 0 = no limit.',
    validate: (value) => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? null : 'must be a whole number (0 = no limit)'),
  },
  {
    name: 'log.level',
    type: 'enum',
    default: 'info',
    values: ['debug', 'info', 'warn', 'error'],
    placeholder: 'LEVEL',
    help: 'Only log messages with this severity or above.',
  },
  {
    name: 'log.format',
    type: 'enum',
    default: 'logfmt',
    values: ['logfmt', 'json'],
    placeholder: 'FORMAT',
    help: 'Log format on stderr: logfmt or json (one object per line).',
  },
  {
    name: 'kube.enabled',
    type: 'bool',
    default: 'true',
    help: 'Watch Services and EndpointSlices (in-cluster config, or --kubeconfig / KUBECONFIG / ~/.kube/config) to add endpoint info, name comment-less chains and detect rule drift. Turns itself off, with one log line, when no credentials exist.',
  },
  {
    name: 'kubeconfig',
    type: 'path',
    default: '',
    placeholder: 'PATH',
    help: 'Kubeconfig file to use outside a cluster (default: in-cluster service account, then KUBECONFIG, then ~/.kube/config).',
  },
  {
    name: 'kube.node-name',
    type: 'string',
    default: '',
    placeholder: 'NAME',
    envAliases: ['NODE_NAME'],
    help: 'This node\'s name, usually NODE_NAME from the downward API: Local-policy and topology-hint drift need it.',
    validate: validateNodeName,
  },
  ...CONNTRACK_FLAGS,
];

/** What the exporter command line asks for. */
export type ExporterInvocation =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'run';
      readonly config: ExporterConfig;
      /** Flag name → effective value as text, for logging the configuration. */
      readonly effective: Readonly<Record<string, string>>;
      /** Not fatal, worth a log line: unknown KUBE_BALANCE_* variables (likely typos). */
      readonly warnings: readonly string[];
    };

/**
 * KUBE_BALANCE_* variables no flag reads. Warnings rather than errors: Kubernetes injects
 * `<SERVICE>_PORT`-style variables for Services, and one named kube-balance would collide.
 */
export function unknownEnvWarnings(env: Readonly<Record<string, string | undefined>>): string[] {
  const known = EXPORTER_FLAGS.flatMap(envNamesOf);
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.includes(name))
    .sort()
    .map((name) => {
      // Compare without the shared prefix, or every long name would look close to every other.
      const suffixes = known.filter((k) => k.startsWith(ENV_PREFIX)).map((k) => k.slice(ENV_PREFIX.length));
      const suggestion = didYouMean(name.slice(ENV_PREFIX.length), suffixes);
      return `environment variable ${name} is not used by any flag${suggestion === null ? '' : ` (did you mean ${ENV_PREFIX}${suggestion}?)`}`;
    });
}

/** Relations between flags that each look fine alone. */
function crossCheck(values: FlagValues): string[] {
  const problems: string[] = [];
  const interval = values.number('sample.interval');
  const maxAge = values.number('sample.max-age');
  const window = values.number('window');
  if (interval > maxAge) {
    problems.push(
      `--sample.interval (${formatDuration(interval)}) is longer than --sample.max-age (${formatDuration(maxAge)}): the data would go stale between samples`,
    );
  }
  if (window < interval) {
    problems.push(
      `--window (${formatDuration(window)}) is shorter than --sample.interval (${formatDuration(interval)}): a window needs at least two samples`,
    );
  }
  return problems;
}

function toConfig(values: FlagValues): ExporterConfig {
  const families = values.string('iptables.families') ?? 'auto';
  return {
    web: {
      listenAddress: values.string('web.listen-address') ?? ':10090',
      telemetryPath: values.string('web.telemetry-path') ?? '/metrics',
      ...webFlagsConfig(values),
    },
    sample: {
      intervalSeconds: values.number('sample.interval'),
      timeoutSeconds: values.number('sample.timeout'),
      maxOutputBytes: values.number('sample.max-output-bytes'),
      maxAgeSeconds: values.number('sample.max-age'),
      maxCpu: values.number('sample.max-cpu'),
      refreshCounters: values.bool('sample.refresh-counters'),
    },
    windowSeconds: values.number('window'),
    iptables: {
      backend: (values.string('iptables.backend') ?? 'auto') as BackendChoice,
      families: families === 'auto' ? 'auto' : (families.split(',') as IpFamily[]),
    },
    source: { file: values.string('source.file') },
    metrics: {
      includeNamespaces: values.regex('metrics.include-namespaces'),
      excludeNamespaces: values.regex('metrics.exclude-namespaces'),
      includeServices: values.regex('metrics.include-services'),
      excludeServices: values.regex('metrics.exclude-services'),
      maxEndpoints: values.number('metrics.max-endpoints'),
    },
    log: {
      level: (values.string('log.level') ?? 'info') as LogLevel,
      format: (values.string('log.format') ?? 'logfmt') as LogFormat,
    },
    conntrack: conntrackFlagsConfig(values),
    kube: {
      enabled: values.bool('kube.enabled'),
      kubeconfig: values.string('kubeconfig'),
      nodeName: values.string('kube.node-name'),
    },
  };
}

function effectiveOf(parsed: ParsedArgs): Record<string, string> {
  const effective: Record<string, string> = {};
  for (const def of EXPORTER_FLAGS) {
    if (def.name === 'help' || def.name === 'version') continue;
    effective[def.name] = parsed.texts.get(def.name) ?? '';
  }
  return effective;
}

/**
 * Parses the exporter's command line. --help and --version win over any other problem; otherwise
 * throws a UsageError listing every problem at once.
 */
export function parseExporterFlags(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ExporterInvocation {
  const parsed = parseArgs(EXPORTER_FLAGS, argv, env);
  if (parsed.values.get('help') === true) return { kind: 'help' };
  if (parsed.values.get('version') === true) return { kind: 'version' };
  const problems = [...parsed.problems];
  for (const positional of parsed.positionals) {
    const command = didYouMean(positional, ['report']);
    // `report` is only recognised as the first argument; elsewhere it is a misplaced command.
    problems.push(
      `unexpected argument ${JSON.stringify(positional)}${command === null ? '' : ` (the ${command} command must come first: kube-balance-exporter ${command} ...)`}`,
    );
  }
  const values = new FlagValues(parsed);
  const crossCheckable = ['sample.interval', 'sample.max-age', 'window'].every((n) => values.has(n));
  if (crossCheckable) problems.push(...crossCheck(values));
  if (problems.length > 0) throw new UsageError(problems);
  return { kind: 'run', config: toConfig(values), effective: effectiveOf(parsed), warnings: unknownEnvWarnings(env) };
}
