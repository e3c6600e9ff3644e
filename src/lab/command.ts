/** Runs lab commands (`ip`, `iptables-restore`, `sysctl`) with arguments as arrays and errors that carry the command, exit code and stderr. */
import { spawn } from 'node:child_process';

export class LabCommandError extends Error {
  readonly code = 'LAB_COMMAND';
  constructor(
    message: string,
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface RunOptions {
  /** Written to stdin, then stdin is closed. */
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Resolve with a non-zero exit code instead of throwing. */
  readonly allowFailure?: boolean;
}

function tail(text: string, max = 600): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `…${trimmed.slice(-max)}`;
}

/** Runs `file args...` (no shell). Throws LabCommandError on spawn failure, timeout or (unless allowed) a non-zero exit. */
export function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const command = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.stdin.on('error', () => {});
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new LabCommandError(`${command}: ${error.message}`, command, null, '', { cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), exitCode: code ?? -1 };
      if (timedOut) {
        reject(new LabCommandError(`${command}: timed out after ${options.timeoutMs ?? 30_000} ms`, command, code, tail(result.stderr)));
      } else if (result.exitCode !== 0 && options.allowFailure !== true) {
        reject(new LabCommandError(`${command}: exit ${result.exitCode}: ${tail(result.stderr)}`, command, result.exitCode, tail(result.stderr)));
      } else {
        resolve(result);
      }
    });
    child.stdin.end(options.input ?? '');
  });
}

/** `ip netns exec NS file args...`: the way every lab command enters a namespace. */
export function runInNamespace(namespace: string, file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return runCommand('ip', ['netns', 'exec', namespace, file, ...args], options);
}
