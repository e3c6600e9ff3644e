import { describe, expect, test } from 'vitest';
import type { RunExporter } from '../../src/cli/main.js';
import { packageVersion } from '../../src/cli/version.js';
import type { ExporterConfig } from '../../src/config.js';
import { runCaptured } from './cli-io.js';

const NOW = () => new Date('2024-11-26T12:00:00.000Z');

/** A controllable shutdown signal: `fire('SIGTERM')` calls the handler main registered. */
function signals() {
  let handler: ((signal: string) => void) | null = null;
  let unregistered = false;
  return {
    onShutdownSignal(h: (signal: string) => void) {
      handler = h;
      return () => {
        unregistered = true;
      };
    },
    fire(signal: string) {
      handler?.(signal);
    },
    get registered() {
      return handler !== null;
    },
    get unregistered() {
      return unregistered;
    },
  };
}

function logLines(stderr: string): Record<string, string>[] {
  return stderr
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, string>);
}

describe('exporter mode', () => {
  test('logs the effective config, runs until SIGTERM, closes, exits 0', async () => {
    const sig = signals();
    const events: string[] = [];
    let seenConfig: ExporterConfig | undefined;
    let seenSignal: AbortSignal | undefined;
    const runExporter: RunExporter = async (config, { logger, signal }) => {
      seenConfig = config;
      seenSignal = signal;
      events.push('started');
      logger.info('listening');
      // The shutdown signal arrives while the exporter runs.
      setImmediate(() => sig.fire('SIGTERM'));
      return {
        async close() {
          events.push(`closed (aborted=${signal.aborted})`);
        },
      };
    };
    const result = await runCaptured(['--log.format=json', '--window=10m', '--source.file=/tmp/dump.txt'], {
      env: { KUBE_BALANCE_SAMPLE_INTERVAL: '20s', NODE_NAME: 'node-a' },
      onShutdownSignal: sig.onShutdownSignal,
      runExporter,
      now: NOW,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(events).toEqual(['started', 'closed (aborted=true)']);
    expect(seenSignal?.aborted).toBe(true);
    expect(seenConfig?.windowSeconds).toBe(600);
    expect(seenConfig?.sample.intervalSeconds).toBe(20);
    expect(seenConfig?.source.file).toBe('/tmp/dump.txt');
    expect(seenConfig?.kube?.nodeName).toBe('node-a');
    expect(sig.unregistered).toBe(true);

    const lines = logLines(result.stderr);
    expect(lines.map((l) => l.msg)).toEqual(['starting kube-balance-exporter', 'listening', 'shutting down', 'stopped']);
    expect(lines[0]).toMatchObject({
      ts: '2024-11-26T12:00:00.000Z',
      level: 'info',
      version: packageVersion(),
      window: '10m',
      'sample.interval': '20s',
      'source.file': '/tmp/dump.txt',
      'kube.node-name': 'node-a',
      'web.listen-address': ':10090',
    });
    expect(lines[2]).toMatchObject({ signal: 'SIGTERM' });
  });

  test('logs in logfmt by default and honours --log.level', async () => {
    const sig = signals();
    const result = await runCaptured(['--log.level=warn'], {
      env: { KUBE_BALANCE_TYPO: '1' },
      onShutdownSignal: sig.onShutdownSignal,
      runExporter: (_config, { logger }) => {
        logger.info('hidden at warn');
        logger.warn('shown at warn');
        setImmediate(() => sig.fire('SIGINT'));
        return { close: async () => {} };
      },
      now: NOW,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      [
        'ts=2024-11-26T12:00:00.000Z level=warn msg="environment variable KUBE_BALANCE_TYPO is not used by any flag"',
        'ts=2024-11-26T12:00:00.000Z level=warn msg="shown at warn"',
        '',
      ].join('\n'),
    );
  });

  test('a start-up failure is logged without a stack and exits 1', async () => {
    const sig = signals();
    const result = await runCaptured(['--log.format=json'], {
      onShutdownSignal: sig.onShutdownSignal,
      runExporter: async () => {
        throw Object.assign(new Error('listen EADDRINUSE: address already in use :::10090'), { code: 'EADDRINUSE' });
      },
      now: NOW,
    });
    expect(result.code).toBe(1);
    const lines = logLines(result.stderr);
    expect(lines.at(-1)).toEqual({
      ts: '2024-11-26T12:00:00.000Z',
      level: 'error',
      msg: 'exporter failed',
      err: 'listen EADDRINUSE: address already in use :::10090 (EADDRINUSE)',
    });
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(sig.unregistered).toBe(true);
  });

  test('a signal during start-up stops cleanly with exit 0', async () => {
    const sig = signals();
    const result = await runCaptured([], {
      onShutdownSignal: sig.onShutdownSignal,
      runExporter: (_config, { signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('aborted during first sample')));
          sig.fire('SIGTERM');
        }),
      now: NOW,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('msg="stopped during start-up" signal=SIGTERM reason="aborted during first sample"');
  });

  test('a failing close() exits 1', async () => {
    const sig = signals();
    const result = await runCaptured([], {
      onShutdownSignal: sig.onShutdownSignal,
      runExporter: () => {
        setImmediate(() => sig.fire('SIGTERM'));
        return {
          close: async () => {
            throw new Error('server did not close');
          },
        };
      },
      now: NOW,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('level=error msg="shutdown failed" err="server did not close"');
  });
});

describe('usage, help and version', () => {
  test('bad flags: every problem in one message, exit 2, the exporter never starts', async () => {
    let started = false;
    const result = await runCaptured(['--web.listen-adress=:1', '--sample.interval=10x', '--sample.max-age=5s'], {
      runExporter: () => {
        started = true;
        return { close: async () => {} };
      },
    });
    expect(started).toBe(false);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        'kube-balance-exporter: 2 problems with the command line:',
        '  - unknown flag --web.listen-adress (did you mean --web.listen-address?)',
        '  - --sample.interval=10x: not a duration (use a number with a unit: 500ms, 10s, 5m, 1h30m)',
        "Run 'kube-balance-exporter --help' for usage.",
        '',
      ].join('\n'),
    );
  });

  test('a single problem reads as one', async () => {
    const result = await runCaptured(['--sample.interval=5m']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      [
        'kube-balance-exporter: invalid command line:',
        '  - --sample.interval (5m) is longer than --sample.max-age (2m): the data would go stale between samples',
        "Run 'kube-balance-exporter --help' for usage.",
        '',
      ].join('\n'),
    );
  });

  test.each([
    [['--help'], 'usage: kube-balance-exporter [<flags>]'],
    [['-h'], 'usage: kube-balance-exporter [<flags>]'],
    [['report', '--help'], 'usage: kube-balance-exporter report [--input FILE|-]'],
    [['report', '-h'], 'usage: kube-balance-exporter report [--input FILE|-]'],
  ])('%j prints help on stdout, exit 0', async (argv, first) => {
    const result = await runCaptured(argv);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.startsWith(first)).toBe(true);
  });

  test('--version prints the package version', async () => {
    const result = await runCaptured(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^kube-balance-exporter \d+\.\d+\.\d+\S*\n$/);
  });
});
