/** CLI errors with stable codes: usage problems exit 2, input that is not a dump exits 1. */

/** Bad flags or arguments; `problems` lists every one found, so the user can fix them in one go. */
export class UsageError extends Error {
  readonly code = 'E_USAGE';
  constructor(
    readonly problems: readonly string[],
    /** The command whose --help explains the flags: '' for the exporter, 'report' for the report. */
    readonly command: string = '',
  ) {
    super(problems.length === 1 ? (problems[0] ?? '') : `${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'UsageError';
  }
}

/** The input was read but is not iptables output at all (no table header, chain or rule parsed). */
export class NotADumpError extends Error {
  readonly code = 'E_NOT_A_DUMP';
  constructor(
    message: string,
    /** 1-based line that shows the input is not a dump; null for empty input. */
    readonly line: number | null,
  ) {
    super(message);
    this.name = 'NotADumpError';
  }
}

/** A one-line message for users: the error's message plus its causes, never a stack trace. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    if (message !== '' && !parts.some((p) => p.includes(message))) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}
