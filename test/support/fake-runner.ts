/** A CommandRunner for tests that scripts each command's output, streamed in small chunks as a pipe would. */
import type { CommandRunner, RunCommandOptions } from '../../src/source/run-command.js';
import { assertReadOnlySaveCommand, formatCommand } from '../../src/source/save-command.js';
import { SaveError } from '../../src/source/save-error.js';

export interface FakeRunnerOptions {
  /** Characters per onStdout call: small and odd, so lines are split across chunks. */
  readonly chunkSize: number;
  /** What the run reports as the child's CPU seconds. */
  readonly cpuSeconds: number | null;
}

/**
 * Like the real runner: refuses a command outside the allow-list, throws an Error output as the run's
 * failure, and reports an exception from the stdout callback as a PARSE SaveError. Outputs may be
 * changed between runs; every command run is appended to `calls`.
 */
export function fakeRunner(outputs: Record<string, string | Error>, calls: string[], options: FakeRunnerOptions): CommandRunner {
  return async (run: RunCommandOptions) => {
    assertReadOnlySaveCommand(run.command);
    const text = formatCommand(run.command);
    calls.push(text);
    const out = outputs[text];
    if (out instanceof Error) throw out;
    const body = out ?? '';
    try {
      for (let i = 0; i < body.length; i += options.chunkSize) run.onStdout(body.slice(i, i + options.chunkSize));
    } catch (error) {
      throw new SaveError('PARSE', `reading the output failed: ${String(error)}`, { command: text }, { cause: error });
    }
    return { outputBytes: body.length, durationSeconds: 0.01, cpuSeconds: options.cpuSeconds, stderrTail: '' };
  };
}
