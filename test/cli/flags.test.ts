import { describe, expect, test } from 'vitest';
import type { ExporterConfig } from '../../src/config.js';
import { UsageError } from '../../src/cli/errors.js';
import { EXPORTER_FLAGS, parseExporterFlags, unknownEnvWarnings } from '../../src/cli/flags.js';
import { convertValue, envNameFor, envNamesOf } from '../../src/cli/parse-args.js';
import { parseReportFlags } from '../../src/cli/report-flags.js';

function run(argv: string[], env: Record<string, string> = {}): ExporterConfig {
  const invocation = parseExporterFlags(argv, env);
  if (invocation.kind !== 'run') throw new Error(`expected a run, got ${invocation.kind}`);
  return invocation.config;
}

function problems(argv: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    parseExporterFlags(argv, env);
  } catch (error) {
    if (error instanceof UsageError) return error.problems;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('the flag table', () => {
  test('every default parses and passes its own validation', () => {
    for (const def of EXPORTER_FLAGS) {
      const converted = convertValue(def, def.default);
      expect(converted, def.name).toHaveProperty('value');
      if ('value' in converted) expect(def.validate?.(converted.value) ?? null, def.name).toBeNull();
    }
  });

  test('env names are KUBE_BALANCE_<UPPER_SNAKE>, with NODE_NAME as a fallback for the node name', () => {
    expect(envNameFor('sample.max-output-bytes')).toBe('KUBE_BALANCE_SAMPLE_MAX_OUTPUT_BYTES');
    const byName = new Map(EXPORTER_FLAGS.map((d) => [d.name, envNamesOf(d)]));
    expect(byName.get('web.listen-address')).toEqual(['KUBE_BALANCE_WEB_LISTEN_ADDRESS']);
    expect(byName.get('kube.node-name')).toEqual(['KUBE_BALANCE_KUBE_NODE_NAME', 'NODE_NAME']);
    expect(byName.get('help')).toEqual([]);
    expect(byName.get('version')).toEqual([]);
  });

  test('names are unique and every flag has help text', () => {
    const names = EXPORTER_FLAGS.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    for (const def of EXPORTER_FLAGS) expect(def.help.length, def.name).toBeGreaterThan(10);
  });

  test('the architecture doc lists every exporter flag of the documented table', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/`--([a-z0-9.-]+)`/g)].map((m) => m[1]);
    const names = new Set(EXPORTER_FLAGS.map((d) => d.name));
    for (const name of documented) expect(names.has(name ?? ''), `--${name}`).toBe(true);
  });
});

describe('defaults', () => {
  test('no flags and no env give the documented defaults', () => {
    expect(run([])).toEqual({
      web: { listenAddress: ':10090', telemetryPath: '/metrics', configFile: null, maxRequests: 40 },
      sample: { intervalSeconds: 10, timeoutSeconds: 30, maxOutputBytes: 256 * 1024 * 1024, maxAgeSeconds: 120, maxCpu: 0.1, refreshCounters: true },
      windowSeconds: 300,
      iptables: { backend: 'auto', families: 'auto' },
      source: { file: null },
      metrics: { includeNamespaces: null, excludeNamespaces: null, includeServices: null, excludeServices: null, maxEndpoints: 100000 },
      log: { level: 'info', format: 'logfmt' },
      kube: { enabled: true, kubeconfig: null, nodeName: null },
      conntrack: { enabled: false, intervalSeconds: 10, timeoutSeconds: 10, maxEntries: 1_000_000, proxyMode: 'auto' },
    } satisfies ExporterConfig);
  });
});

describe('syntax', () => {
  test.each([
    [['--sample.interval=20s'], 20],
    [['--sample.interval', '20s'], 20],
    [['--sample.interval=1m30s'], 90],
  ])('%j sets the interval', (argv, seconds) => {
    expect(run(argv).sample.intervalSeconds).toBe(seconds);
  });

  test.each([
    [['--kube.enabled'], true],
    [['--no-kube.enabled'], false],
    [['--kube.enabled=false'], false],
    [['--kube.enabled=true'], true],
    [['--kube.enabled=0'], false],
  ])('%j sets kube.enabled to %s', (argv, enabled) => {
    expect(run(argv).kube?.enabled).toBe(enabled);
  });

  test('a value may start with a single dash ("-" is stdin)', () => {
    expect(run(['--source.file', '-']).source.file).toBe('-');
  });

  test('everything after -- is positional', () => {
    expect(problems(['--', '--window=1m'])).toEqual(['unexpected argument "--window=1m"']);
  });

  test.each([
    ['--iptables.families=ipv4,ipv6', ['ipv4', 'ipv6']],
    ['--iptables.families=ipv6', ['ipv6']],
    ['--iptables.families=auto', 'auto'],
  ])('%s', (arg, families) => {
    expect(run([arg]).iptables.families).toEqual(families);
  });

  test('regexes are anchored: they match whole names only', () => {
    const config = run(['--metrics.include-namespaces=kube-.*|default', '--metrics.exclude-services=shop/cart']);
    const include = config.metrics.includeNamespaces;
    expect(include?.source).toBe('^(?:kube-.*|default)$');
    expect(include?.test('kube-system')).toBe(true);
    expect(include?.test('default')).toBe(true);
    expect(include?.test('not-default')).toBe(false);
    expect(include?.test('defaults')).toBe(false);
    expect(config.metrics.excludeServices?.test('shop/cart')).toBe(true);
    expect(config.metrics.excludeServices?.test('shop/carts')).toBe(false);
  });

  test('--help and --version win over other problems', () => {
    expect(parseExporterFlags(['--bogus', '--help'], {})).toEqual({ kind: 'help' });
    expect(parseExporterFlags(['-h'], {})).toEqual({ kind: 'help' });
    expect(parseExporterFlags(['--window=nope', '--version'], {})).toEqual({ kind: 'version' });
  });

  test('the effective configuration is reported as text per flag', () => {
    const invocation = parseExporterFlags(['--window=10m'], { KUBE_BALANCE_LOG_LEVEL: 'debug' });
    expect(invocation.kind === 'run' && invocation.effective).toMatchObject({
      window: '10m',
      'log.level': 'debug',
      'sample.interval': '10s',
      'source.file': '',
    });
  });
});

describe('precedence: flags beat env beat defaults', () => {
  test.each<{ argv: string[]; env: Record<string, string>; expected: number }>([
    { argv: [], env: {}, expected: 10 },
    { argv: [], env: { KUBE_BALANCE_SAMPLE_INTERVAL: '15s' }, expected: 15 },
    { argv: ['--sample.interval=20s'], env: { KUBE_BALANCE_SAMPLE_INTERVAL: '15s' }, expected: 20 },
    // An empty variable (a templated `value: ""`) counts as unset.
    { argv: [], env: { KUBE_BALANCE_SAMPLE_INTERVAL: '' }, expected: 10 },
  ])('argv $argv env $env → $expected s', ({ argv, env, expected }) => {
    expect(run(argv, env).sample.intervalSeconds).toBe(expected);
  });

  test.each<{ argv: string[]; env: Record<string, string>; expected: string | null }>([
    { argv: [], env: { NODE_NAME: 'node-a' }, expected: 'node-a' },
    { argv: [], env: { NODE_NAME: 'node-a', KUBE_BALANCE_KUBE_NODE_NAME: 'node-b' }, expected: 'node-b' },
    { argv: ['--kube.node-name=node-c'], env: { NODE_NAME: 'node-a', KUBE_BALANCE_KUBE_NODE_NAME: 'node-b' }, expected: 'node-c' },
    { argv: [], env: {}, expected: null },
  ])('node name from argv $argv env $env', ({ argv, env, expected }) => {
    expect(run(argv, env).kube?.nodeName).toBe(expected);
  });

  test('--sample.refresh-counters=false turns the counter refresh off (every sample parses)', () => {
    expect(run(['--sample.refresh-counters=false']).sample.refreshCounters).toBe(false);
    expect(run([], { KUBE_BALANCE_SAMPLE_REFRESH_COUNTERS: 'false' }).sample.refreshCounters).toBe(false);
  });

  test('env fallbacks cover every kind of value', () => {
    const config = run([], {
      KUBE_BALANCE_WEB_LISTEN_ADDRESS: '127.0.0.1:9999',
      KUBE_BALANCE_SAMPLE_MAX_OUTPUT_BYTES: '64MiB',
      KUBE_BALANCE_SAMPLE_MAX_CPU: '0.25',
      KUBE_BALANCE_IPTABLES_BACKEND: 'legacy',
      KUBE_BALANCE_METRICS_INCLUDE_SERVICES: 'default/.*',
      KUBE_BALANCE_LOG_FORMAT: 'json',
      KUBE_BALANCE_KUBE_ENABLED: 'false',
      KUBE_BALANCE_KUBECONFIG: '/etc/kube/config',
    });
    expect(config.web.listenAddress).toBe('127.0.0.1:9999');
    expect(config.sample.maxOutputBytes).toBe(64 * 2 ** 20);
    expect(config.sample.maxCpu).toBe(0.25);
    expect(config.iptables.backend).toBe('legacy');
    expect(config.metrics.includeServices?.test('default/web')).toBe(true);
    expect(config.log.format).toBe('json');
    expect(config.kube).toEqual({ enabled: false, kubeconfig: '/etc/kube/config', nodeName: null });
  });
});

describe('validation', () => {
  test.each([
    [['--web.listen-adress=:1'], 'unknown flag --web.listen-adress (did you mean --web.listen-address?)'],
    [['--listen-address=:1'], 'unknown flag --listen-address (did you mean --web.listen-address?)'],
    [['-web.listen-address=:1'], 'unknown flag -web.listen-address (did you mean --web.listen-address?)'],
    [['--frobnicate'], 'unknown flag --frobnicate'],
    [['-x'], 'unknown flag -x'],
    [['--window'], 'flag --window needs a value (--window=DURATION)'],
    [['--window', '--log.level=debug'], 'flag --window needs a value (--window=DURATION)'],
    [['--window=5'], '--window=5: not a duration (use a number with a unit: 500ms, 10s, 5m, 1h30m)'],
    [['--window=0s'], '--window=0s: must be greater than zero'],
    [['--sample.max-output-bytes=lots'], '--sample.max-output-bytes=lots: not a size (use bytes or a unit: 64KiB, 512MiB, 1GB)'],
    [['--sample.max-cpu=0'], '--sample.max-cpu=0: must be greater than 0'],
    [['--sample.max-cpu=2'], '--sample.max-cpu=2: must be at most 1'],
    [['--sample.max-cpu=abc'], '--sample.max-cpu=abc: not a number'],
    [['--log.level=verbose'], '--log.level=verbose: must be one of debug, info, warn, error'],
    [['--log.level=wran'], '--log.level=wran: must be one of debug, info, warn, error (did you mean warn?)'],
    [['--iptables.families=ipv5'], '--iptables.families=ipv5: must be one of auto, ipv4, ipv6, ipv4,ipv6 (did you mean ipv4?)'],
    [['--metrics.include-namespaces=(kube'], '--metrics.include-namespaces="(kube": not a valid regular expression'],
    [['--metrics.include-namespaces=a)|(b'], '--metrics.include-namespaces="a)|(b": not a valid regular expression'],
    [['--web.listen-address=10090'], '--web.listen-address=10090: must be host:port'],
    [['--web.listen-address=:99999'], '--web.listen-address=:99999: port must be at most 65535'],
    [['--web.telemetry-path=metrics'], '--web.telemetry-path=metrics: must be a path starting with "/"'],
    [['--web.telemetry-path=/-/metrics'], '--web.telemetry-path=/-/metrics: must not be "/" or under "/-/"'],
    [['--kube.enabled=maybe'], '--kube.enabled=maybe: not a boolean (use true or false)'],
    [['--no-kube.enabled=true'], 'flag --no-kube.enabled takes no value'],
    [['--kube.node-name=Node_1'], '--kube.node-name=Node_1: must be a Kubernetes node name'],
    [['--window=1m', '--window=2m'], 'flag --window given more than once'],
    [['--sample.interval=5m'], '--sample.interval (5m) is longer than --sample.max-age (2m): the data would go stale between samples'],
    [['--window=5s'], '--window (5s) is shorter than --sample.interval (10s): a window needs at least two samples'],
    [['reprot'], 'unexpected argument "reprot" (the report command must come first: kube-balance-exporter report ...)'],
  ])('%j → %s', (argv, expected) => {
    const found = problems(argv);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(expected);
  });

  test('bad env values name the variable', () => {
    expect(problems([], { KUBE_BALANCE_WINDOW: 'forever', NODE_NAME: 'UPPER' })).toEqual([
      'KUBE_BALANCE_WINDOW=forever: not a duration (use a number with a unit: 500ms, 10s, 5m, 1h30m)',
      'NODE_NAME=UPPER: must be a Kubernetes node name (lower-case DNS subdomain)',
    ]);
  });

  test('every problem is reported at once', () => {
    const found = problems(
      ['--web.listen-adress=:1', '--sample.interval=10x', '--metrics.include-services=[', '--log.format=xml', 'extra'],
      { KUBE_BALANCE_SAMPLE_MAX_AGE: 'soon' },
    );
    expect(found).toEqual([
      'unknown flag --web.listen-adress (did you mean --web.listen-address?)',
      '--sample.interval=10x: not a duration (use a number with a unit: 500ms, 10s, 5m, 1h30m)',
      'KUBE_BALANCE_SAMPLE_MAX_AGE=soon: not a duration (use a number with a unit: 500ms, 10s, 5m, 1h30m)',
      expect.stringMatching(/^--metrics\.include-services="\[": not a valid regular expression \(.+\)$/),
      '--log.format=xml: must be one of logfmt, json',
      'unexpected argument "extra"',
    ]);
  });

  test('cross-flag checks run alongside single-flag problems', () => {
    expect(problems(['--sample.interval=3m', '--window=1m', '--log.level=loud'])).toEqual([
      '--log.level=loud: must be one of debug, info, warn, error',
      '--sample.interval (3m) is longer than --sample.max-age (2m): the data would go stale between samples',
      '--window (1m) is shorter than --sample.interval (3m): a window needs at least two samples',
    ]);
  });
});

describe('unknown KUBE_BALANCE_* variables', () => {
  test('are warnings with a suggestion, not errors', () => {
    const env = { KUBE_BALANCE_SAMPLE_INTERVALL: '10s', KUBE_BALANCE_ZZZ: 'x', KUBE_BALANCE_WINDOW: '5m', HOME: '/root' };
    expect(() => run([], env)).not.toThrow();
    expect(unknownEnvWarnings(env)).toEqual([
      'environment variable KUBE_BALANCE_SAMPLE_INTERVALL is not used by any flag (did you mean KUBE_BALANCE_SAMPLE_INTERVAL?)',
      'environment variable KUBE_BALANCE_ZZZ is not used by any flag',
    ]);
  });
});

describe('report flags', () => {
  test.each([
    { argv: [], expected: { input: null, format: 'table', family: null, backend: 'auto' } },
    { argv: ['--input', 'dump.txt', '--format=json', '--family=ipv6'], expected: { input: 'dump.txt', format: 'json', family: 'ipv6', backend: 'auto' } },
    { argv: ['-i', '-', '--iptables.backend=legacy'], expected: { input: '-', format: 'table', family: null, backend: 'legacy' } },
  ])('$argv', ({ argv, expected }) => {
    expect(parseReportFlags(argv, {})).toEqual({ kind: 'run', options: expected });
  });

  test('every problem at once, with the report command named', () => {
    try {
      parseReportFlags(['--format=yaml', '--famly=ipv4', 'dump.txt'], {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).command).toBe('report');
      expect((error as UsageError).problems).toEqual([
        'unknown flag --famly (did you mean --family?)',
        '--format=yaml: must be one of table, json',
        'unexpected argument "dump.txt" (use --input dump.txt)',
      ]);
    }
  });
});
