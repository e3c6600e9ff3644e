/** IO edge of the conntrack view: lists the table per family (streamed, capped, timed out) and reads nf_conntrack_acct. */
import { readFileSync } from 'node:fs';
import type { IpFamily } from '../iptables/types.js';
import { LineScanner } from '../source/line-scanner.js';
import type { CommandRunner } from '../source/run-command.js';
import { formatCommand } from '../source/save-command.js';
import { isSaveError } from '../source/save-error.js';
import { CONNTRACK_ACCT_PATH, conntrackListCommand } from './commands.js';
import { ScanLimitReached, type ConntrackScanner } from './scan.js';

/** `nf_conntrack_acct` as a boolean; null when it cannot be read (nf_conntrack not loaded, no /proc). Never written. */
export function readConntrackAccounting(read: (path: string) => string = (p) => readFileSync(p, 'utf8')): boolean | null {
  try {
    const text = read(CONNTRACK_ACCT_PATH).trim();
    return text === '1' ? true : text === '0' ? false : null;
  } catch {
    return null;
  }
}

export interface ListConntrackOptions {
  readonly run: CommandRunner;
  readonly families: readonly IpFamily[];
  readonly scanner: ConntrackScanner;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly signal?: AbortSignal;
}

export interface ListConntrackResult {
  /** The scanner hit its entry limit: the tallies cover only part of the table. */
  readonly truncated: boolean;
  readonly outputBytes: number;
  readonly commands: readonly string[];
}

/**
 * Streams `conntrack -L` of each family into the scanner, one listing at a time. Throws the runner's
 * SaveError on failure; stops early (truncated) when the scanner's entry limit is reached.
 */
export async function listConntrack(options: ListConntrackOptions): Promise<ListConntrackResult> {
  let outputBytes = 0;
  const commands: string[] = [];
  for (const family of options.families) {
    const command = conntrackListCommand(family);
    commands.push(formatCommand(command));
    const lines = new LineScanner((line) => options.scanner.push(line));
    try {
      const result = await options.run({
        command,
        timeoutMs: options.timeoutMs,
        // The line scanner keeps whole lines only: conntrack lines are ~250 bytes.
        maxOutputBytes: options.maxOutputBytes,
        onStdout: (chunk) => lines.push(chunk),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      lines.end();
      outputBytes += result.outputBytes;
    } catch (error) {
      if (isSaveError(error, 'PARSE') && error.cause instanceof ScanLimitReached) return { truncated: true, outputBytes, commands };
      throw error;
    }
  }
  return { truncated: false, outputBytes, commands };
}
