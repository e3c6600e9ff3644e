/** Entry point logic: dispatch `report` vs the exporter, map errors to exit codes (0 ok, 1 failure, 2 usage). */
import type { Readable } from 'node:stream';
import type { ExporterConfig } from '../config.js';
import type { Logger } from '../logger-types.js';
import { isSaveError } from '../source/save-error.js';
import { describeError, NotADumpError, UsageError } from './errors.js';
import { parseExporterFlags } from './flags.js';
import { PROGRAM, renderExporterHelp, renderReportHelp } from './help.js';
import { createLogger, type LogSink } from './logger.js';
import { runReport, type ReportIo } from './report.js';
import { parseReportFlags } from './report-flags.js';
import { packageVersion } from './version.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface RunningExporter {
  close(): Promise<void>;
}

/** The runtime's entry point (src/run-exporter.ts). */
export type RunExporter = (
  config: ExporterConfig,
  options: { readonly logger: Logger; readonly signal: AbortSignal; readonly stdin?: Readable },
) => Promise<RunningExporter> | RunningExporter;

export interface CliIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: LogSink;
  readonly stderr: LogSink;
  readonly stdin: Readable;
  /**
   * Calls `handler` once on the first SIGTERM or SIGINT; returns a function that unregisters it.
   * Default: process signals. After the first signal the default handlers apply again, so a second
   * Ctrl-C still kills a shutdown that hangs.
   */
  readonly onShutdownSignal?: (handler: (signal: string) => void) => () => void;
  /** Default: src/run-exporter.ts, loaded lazily so `--help` and `report` do not load the server. */
  readonly runExporter?: RunExporter;
  readonly readLive?: ReportIo['readLive'];
  readonly now?: () => Date;
}

function processShutdownSignal(handler: (signal: string) => void): () => void {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  let received = false;
  // The listeners stay registered until the exporter has stopped: execa's signal-exit re-raises a
  // signal when it finds itself the only listener left, which would kill us mid-way through the
  // graceful close (and leave the killed iptables-save unreaped). A second signal forces the exit.
  const listener = (signal: NodeJS.Signals): void => {
    if (received) process.exit(signal === 'SIGINT' ? 130 : 143);
    received = true;
    handler(signal);
  };
  for (const s of signals) process.on(s, listener);
  return () => {
    for (const s of signals) process.removeListener(s, listener);
  };
}

async function loadRunExporter(): Promise<RunExporter> {
  const module = await import('../run-exporter.js');
  return module.runExporter;
}

function usageFailure(io: CliIo, error: UsageError): number {
  const command = error.command === '' ? PROGRAM : `${PROGRAM} ${error.command}`;
  const heading = error.problems.length === 1 ? 'invalid command line:' : `${error.problems.length} problems with the command line:`;
  io.stderr.write(
    `${command}: ${heading}\n${error.problems.map((p) => `  - ${p}`).join('\n')}\nRun '${command} --help' for usage.\n`,
  );
  return EXIT_USAGE;
}

async function reportCommand(io: CliIo, argv: readonly string[]): Promise<number> {
  const invocation = parseReportFlags(argv, io.env);
  if (invocation.kind === 'help') {
    io.stdout.write(renderReportHelp());
    return EXIT_OK;
  }
  try {
    await runReport(invocation.options, {
      stdout: io.stdout,
      stderr: io.stderr,
      stdin: io.stdin,
      ...(io.readLive ? { readLive: io.readLive } : {}),
    });
    return EXIT_OK;
  } catch (error) {
    // These messages are complete (file or command, what went wrong, a hint); their causes
    // (ENOENT: ...) would only repeat them. Anything else gets its cause chain. Never a stack.
    const complete = error instanceof NotADumpError || isSaveError(error);
    io.stderr.write(`${PROGRAM} report: ${complete ? (error as Error).message : describeError(error)}\n`);
    return EXIT_FAILURE;
  }
}

async function exporterCommand(io: CliIo): Promise<number> {
  const invocation = parseExporterFlags(io.argv, io.env);
  if (invocation.kind === 'help') {
    io.stdout.write(renderExporterHelp());
    return EXIT_OK;
  }
  if (invocation.kind === 'version') {
    io.stdout.write(`${PROGRAM} ${packageVersion()}\n`);
    return EXIT_OK;
  }
  const { config } = invocation;
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format,
    sink: io.stderr,
    ...(io.now ? { now: io.now } : {}),
  });
  for (const warning of invocation.warnings) logger.warn(warning);
  logger.info(`starting ${PROGRAM}`, { version: packageVersion(), node: process.version, ...invocation.effective });

  const controller = new AbortController();
  let received: string | null = null;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const unregister = (io.onShutdownSignal ?? processShutdownSignal)((signal) => {
    received = signal;
    logger.info('shutting down', { signal });
    // Aborting first lets a start-up still in progress (first sample, listen) give up promptly.
    controller.abort();
    wake();
  });
  try {
    let exporter: RunningExporter;
    try {
      const runExporter = io.runExporter ?? (await loadRunExporter());
      exporter = await runExporter(config, { logger, signal: controller.signal, stdin: io.stdin });
    } catch (error) {
      if (received !== null) {
        // Start-up was cut short by the shutdown signal: a clean stop, not a failure.
        logger.info('stopped during start-up', { signal: received, reason: describeError(error) });
        return EXIT_OK;
      }
      logger.error('exporter failed', { err: error });
      return EXIT_FAILURE;
    }
    await stopped;
    try {
      await exporter.close();
    } catch (error) {
      logger.error('shutdown failed', { err: error });
      return EXIT_FAILURE;
    }
    logger.info('stopped');
    return EXIT_OK;
  } finally {
    unregister();
  }
}

/** Runs the CLI and returns the exit code. Never throws and never prints a stack trace. */
export async function runCli(io: CliIo): Promise<number> {
  try {
    if (io.argv[0] === 'report') return await reportCommand(io, io.argv.slice(1));
    return await exporterCommand(io);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(io, error);
    io.stderr.write(`${PROGRAM}: ${describeError(error)}\n`);
    return EXIT_FAILURE;
  }
}

/** The bin's main(): sets process.exitCode rather than exiting, so pending output is flushed. */
export async function main(): Promise<void> {
  process.exitCode = await runCli({
    argv: process.argv.slice(2),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  });
}
