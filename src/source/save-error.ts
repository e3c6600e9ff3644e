/** SaveError: why an iptables-save run (or a saved dump) could not be read, with a stable code and the command's context. */

export type SaveErrorCode =
  | 'ENOENT_BINARY' // the *-save binary is not installed / not on PATH
  | 'PERMISSION' // not root / missing CAP_NET_ADMIN + CAP_NET_RAW
  | 'EXIT' // exited non-zero (or was killed by a signal we did not send)
  | 'TIMEOUT' // ran longer than --sample.timeout: killed
  | 'OUTPUT_TOO_LARGE' // printed more than --sample.max-output-bytes: killed
  | 'TRUNCATED' // output does not end with COMMIT: killed mid-output, or not iptables-save output
  | 'ABORTED' // the caller aborted (shutdown): not a fault of the node
  | 'PARSE' // the parser itself threw (a bug: the parser is meant never to throw on input)
  | 'FILE'; // --source.file could not be read

export interface SaveErrorContext {
  /** The command as run (`iptables-nft-save -c -t nat`) or the file path. */
  readonly command: string;
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  /** Last bytes of stderr (bounded), trimmed. */
  readonly stderrTail?: string;
  readonly outputBytes?: number;
  readonly durationSeconds?: number;
}

const HINTS: Partial<Record<SaveErrorCode, string>> = {
  ENOENT_BINARY: 'iptables-save not found: install the iptables package (it provides iptables-legacy-save and iptables-nft-save)',
  PERMISSION: 'needs root or CAP_NET_ADMIN + CAP_NET_RAW: run the DaemonSet privileged as deploy/ does',
};

export class SaveError extends Error {
  override readonly name = 'SaveError';

  constructor(
    readonly code: SaveErrorCode,
    detail: string,
    readonly context: SaveErrorContext,
    options?: { cause?: unknown },
  ) {
    super(composeMessage(code, detail, context), options);
  }

  /** Fields for a structured log line. */
  toLogFields(): Record<string, unknown> {
    return {
      code: this.code,
      command: this.context.command,
      exit_code: this.context.exitCode ?? undefined,
      signal: this.context.signal ?? undefined,
      stderr: this.context.stderrTail || undefined,
      output_bytes: this.context.outputBytes,
    };
  }
}

function composeMessage(code: SaveErrorCode, detail: string, context: SaveErrorContext): string {
  const parts = [`${context.command}: ${detail}`];
  const hint = HINTS[code];
  if (hint !== undefined) parts.push(hint);
  if (context.stderrTail) parts.push(`stderr: ${context.stderrTail}`);
  return parts.join('; ');
}

export function isSaveError(error: unknown, code?: SaveErrorCode): error is SaveError {
  return error instanceof SaveError && (code === undefined || error.code === code);
}
