/** Runs a save command only to look for a line, stopping the child as soon as the answer is known. */
import { LineScanner } from './line-scanner.js';
import type { CommandRunner } from './run-command.js';
import { formatCommand, type SaveCommand } from './save-command.js';
import { isSaveError } from './save-error.js';

export interface ProbeOptions {
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly signal?: AbortSignal;
}

export interface ProbeResult {
  readonly command: string;
  readonly matched: boolean;
  /** Why the command could not answer (not installed, not permitted...); null when it ran. */
  readonly error: string | null;
}

/**
 * True when some output line satisfies `match` (called with each line and the current `*table`).
 * Errors never throw: like iptables-wrappers, a probe that fails simply did not find the pattern.
 * Aborting the caller's signal still throws.
 */
export async function probe(
  run: CommandRunner,
  command: SaveCommand,
  match: (line: string, table: string | null) => boolean,
  options: ProbeOptions,
): Promise<ProbeResult> {
  const early = new AbortController();
  const onOuterAbort = (): void => early.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let table: string | null = null;
  let matched = false;
  const scanner = new LineScanner((line) => {
    if (line.startsWith('*')) table = line.slice(1).trim();
    if (match(line, table)) {
      matched = true;
      scanner.stop();
      early.abort();
    }
  });
  try {
    await run({
      command,
      timeoutMs: options.timeoutMs,
      maxOutputBytes: options.maxOutputBytes,
      signal: early.signal,
      onStdout: (chunk) => scanner.push(chunk),
    });
    scanner.end();
    return { command: formatCommand(command), matched, error: null };
  } catch (error) {
    if (matched) return { command: formatCommand(command), matched, error: null };
    if (options.signal?.aborted) throw error;
    return { command: formatCommand(command), matched: false, error: isSaveError(error) ? `${error.code}: ${error.message}` : String(error) };
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}
