/** Runs one read-only save command with execa, streaming stdout to a callback, bounded in time, output and stderr. */
import { StringDecoder } from 'node:string_decoder';
import { execa } from 'execa';
import { paceStream } from './paced-stream.js';
import { readProcCpuSeconds } from './proc-cpu.js';
import { assertReadOnlySaveCommand, formatCommand, type SaveCommand } from './save-command.js';
import { SaveError } from './save-error.js';
import { connectStdoutSocket } from './stdout-socket.js';

export interface RunCommandOptions {
  readonly command: SaveCommand;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  /** Receives stdout decoded as UTF-8 (multi-byte characters are never split), chunk by chunk. */
  readonly onStdout: (chunk: string) => void;
  /**
   * Receives stdout's raw chunks instead of onStdout (a reader of bytes, like the dump parser, is
   * spared decoding 100 MB to text and encoding it back). A fake runner may call onStdout only:
   * callers must accept both.
   */
  readonly onStdoutBytes?: (chunk: Buffer) => void;
  readonly signal?: AbortSignal;
}

export interface RunCommandResult {
  readonly outputBytes: number;
  readonly durationSeconds: number;
  /** The child's user + system CPU seconds from /proc, read just before it exited; null when unavailable. */
  readonly cpuSeconds: number | null;
  readonly stderrTail: string;
}

/** Runs a command or throws a SaveError. Injected wherever a command is run, so tests can fake it. */
export type CommandRunner = (options: RunCommandOptions) => Promise<RunCommandResult>;

export interface CommandRunnerOptions {
  /** Environment for the child (merged over process.env); PATH here decides which binary runs. */
  readonly env?: Readonly<Record<string, string>>;
  /** Monotonic milliseconds (the run's duration, and the slices stdout is handed on in). */
  readonly now?: () => number;
  /** How much of stderr to keep for error messages. */
  readonly stderrTailBytes?: number;
  readonly readCpuSeconds?: (pid: number) => number | null;
  /**
   * Read stdout through a socket into one reused buffer (stdout-socket.ts; default true). false reads
   * a pipe, as the runner also does when the socket cannot be made.
   */
  readonly stdoutSocket?: boolean;
}

const PERMISSION_STDERR = /permission denied|you must be root|operation not permitted/i;

/** The real runner: execa with a fixed argument array and no shell. */
export function createCommandRunner(options: CommandRunnerOptions = {}): CommandRunner {
  const now = options.now ?? (() => performance.now());
  const stderrTailBytes = options.stderrTailBytes ?? 2048;
  const readCpu = options.readCpuSeconds ?? readProcCpuSeconds;

  return async function runCommand(run: RunCommandOptions): Promise<RunCommandResult> {
    assertReadOnlySaveCommand(run.command);
    const commandText = formatCommand(run.command);
    if (run.signal?.aborted) throw new SaveError('ABORTED', 'aborted before start', { command: commandText });

    const started = now();
    // stdout is read into one reused buffer where it can be (stdout-socket.ts), else from a pipe.
    let onSocketRead: (bytes: Buffer) => void = () => {};
    const socket = options.stdoutSocket === false ? null : await connectStdoutSocket((bytes) => onSocketRead(bytes)).catch(() => null);
    const subprocess = execa(run.command.file, [...run.command.args], {
      buffer: false,
      reject: false,
      shell: false,
      stdin: 'ignore',
      stdout: socket?.childEnd ?? 'pipe',
      stderr: 'pipe',
      ...(options.env ? { env: options.env } : {}),
    });
    // The child has its own copy: ours closed, the reader sees the end of output when the child exits.
    socket?.childEnd.destroy();
    const stdoutStream = socket?.reader ?? subprocess.stdout;
    if (stdoutStream === null) {
      // Not reached: stdout is the socket or 'pipe'. Said for the type, without leaving a child behind.
      subprocess.kill('SIGKILL');
      throw new SaveError('EXIT', 'the child has no stdout to read', { command: commandText });
    }
    let readError: Error | null = null;
    const stdoutEnded = new Promise<void>((resolve) => {
      stdoutStream.once('end', resolve);
      stdoutStream.once('close', resolve);
    });

    let killedFor: 'timeout' | 'size' | 'abort' | null = null;
    let callbackError: unknown = null;
    let outputBytes = 0;
    let stderrTail = Buffer.alloc(0);
    let cpuSeconds: number | null = null;
    const decoder = new StringDecoder('utf8');

    const kill = (reason: 'timeout' | 'size' | 'abort'): void => {
      killedFor ??= reason;
      subprocess.kill('SIGKILL');
    };
    const readFinalCpu = (): void => {
      // Null when the child was already reaped: the caller then falls back to wall time.
      if (subprocess.pid !== undefined) cpuSeconds = readCpu(subprocess.pid);
    };

    const timer = setTimeout(() => kill('timeout'), run.timeoutMs);
    const onAbort = (): void => kill('abort');
    run.signal?.addEventListener('abort', onAbort, { once: true });

    // Handed on in pieces, a slice of time per turn of the event loop (paced-stream.ts). From the
    // socket, a read's bytes are the reused buffer's: the pacer pauses the socket while any wait.
    const stdout = paceStream(stdoutStream, (piece: Buffer) => {
      if (killedFor !== null || callbackError !== null) return;
      outputBytes += piece.length;
      if (outputBytes > run.maxOutputBytes) {
        kill('size');
        return;
      }
      try {
        if (run.onStdoutBytes !== undefined) run.onStdoutBytes(piece);
        else run.onStdout(decoder.write(piece));
      } catch (error) {
        callbackError = error;
        subprocess.kill('SIGKILL');
      }
    }, { now });
    if (socket === null) stdoutStream.on('data', stdout.onData);
    else onSocketRead = stdout.onData;
    stdoutStream.once('error', (error: Error) => {
      readError ??= error;
      subprocess.kill('SIGKILL');
    });
    // EOF on stdout comes when the child closes it at exit, before it is reaped: the last chance to read /proc.
    stdoutStream.once('end', readFinalCpu);
    subprocess.stderr.on('data', (chunk: Buffer) => {
      stderrTail = Buffer.concat([stderrTail, chunk]);
      if (stderrTail.length > stderrTailBytes) stderrTail = stderrTail.subarray(stderrTail.length - stderrTailBytes);
    });

    let result;
    try {
      result = await subprocess;
      // The child may exit before its last output is read (the socket is not the child's, so execa
      // does not wait for it), and the last pieces may wait for a turn: the output is whole only then.
      await stdoutEnded;
      await stdout.drained();
    } finally {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      socket?.reader.destroy();
    }
    const durationSeconds = (now() - started) / 1000;
    const stderrText = stderrTail.toString('utf8').trim();
    const context = {
      command: commandText,
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      stderrTail: stderrText,
      outputBytes,
      durationSeconds,
    };

    // Assigned in callbacks: TypeScript's narrowing cannot see that, so widen it back.
    switch (killedFor as 'timeout' | 'size' | 'abort' | null) {
      case 'abort':
        throw new SaveError('ABORTED', 'aborted', context);
      case 'timeout':
        throw new SaveError('TIMEOUT', `still running after ${run.timeoutMs / 1000}s: killed (raise --sample.timeout?)`, context);
      case 'size':
        throw new SaveError('OUTPUT_TOO_LARGE', `printed more than ${run.maxOutputBytes} bytes: killed (raise --sample.max-output-bytes?)`, context);
      case null:
        break;
    }
    if ((readError as Error | null) !== null) {
      throw new SaveError('EXIT', `reading its output failed: ${String(readError)}`, context, { cause: readError });
    }
    if ((callbackError as unknown) !== null) {
      throw new SaveError('PARSE', `reading the output failed: ${String(callbackError)}`, context, { cause: callbackError });
    }
    if (result.failed && result.exitCode === undefined && result.signal === undefined) {
      // The spawn itself failed: no process ever ran.
      if (result.code === 'ENOENT') throw new SaveError('ENOENT_BINARY', `${run.command.file} not found on PATH`, context, { cause: result });
      if (result.code === 'EACCES') throw new SaveError('PERMISSION', `cannot execute ${run.command.file} (EACCES)`, context, { cause: result });
      throw new SaveError('EXIT', `could not start: ${result.code ?? result.shortMessage}`, context, { cause: result });
    }
    if (result.exitCode !== 0) {
      const how = result.signal ? `killed by ${result.signal}` : `exited with code ${result.exitCode}`;
      if (PERMISSION_STDERR.test(stderrText)) throw new SaveError('PERMISSION', how, context);
      throw new SaveError('EXIT', how, context);
    }
    const rest = decoder.end();
    try {
      if (rest.length > 0) run.onStdout(rest);
    } catch (error) {
      throw new SaveError('PARSE', `reading the output failed: ${String(error)}`, context, { cause: error });
    }
    return { outputBytes, durationSeconds, cpuSeconds, stderrTail: stderrText };
  };
}
