/** Test helpers: run the CLI in-process with captured stdout/stderr and an optional stdin text. */
import { Readable } from 'node:stream';
import { runCli, type CliIo } from '../../src/cli/main.js';

export interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function sink(): { write(chunk: string): boolean; text(): string } {
  const chunks: string[] = [];
  return {
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
    text: () => chunks.join(''),
  };
}

export async function runCaptured(
  argv: readonly string[],
  options: Partial<Omit<CliIo, 'argv' | 'stdout' | 'stderr' | 'stdin'>> & { stdin?: string } = {},
): Promise<Captured> {
  const stdout = sink();
  const stderr = sink();
  const { stdin, ...rest } = options;
  const code = await runCli({
    env: {},
    ...rest,
    argv,
    stdout,
    stderr,
    stdin: Readable.from(stdin === undefined ? [] : [stdin]),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
