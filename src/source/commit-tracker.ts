/** Watches a streamed dump's tail to tell a complete iptables-save output (last statement COMMIT) from a truncated one. */

const TAIL_CHARS = 4096;

/**
 * iptables-save ends every table with `COMMIT` and then prints only a `# Completed on ...` comment, so
 * a complete output's last statement is COMMIT. Keeping a short tail is enough: no second pass, no
 * whole-text buffer.
 */
export class CommitTracker {
  private tail = '';
  private totalChars = 0;
  /** The last bytes of byte chunks, decoded only when asked (a character may span two chunks). */
  private tailBytes: Buffer | null = null;

  /** Text, or raw output bytes (UTF-8). */
  push(chunk: string | Uint8Array): void {
    if (typeof chunk !== 'string') {
      this.totalChars += chunk.length;
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const joined = this.tailBytes === null || bytes.length >= TAIL_CHARS ? bytes : Buffer.concat([this.tailBytes, bytes]);
      // A copy of at most TAIL_CHARS bytes: the chunk itself can be freed.
      this.tailBytes = Buffer.from(joined.subarray(Math.max(0, joined.length - TAIL_CHARS)));
      return;
    }
    this.totalChars += chunk.length;
    this.tail = chunk.length >= TAIL_CHARS ? chunk.slice(-TAIL_CHARS) : (this.tail + chunk).slice(-TAIL_CHARS);
  }

  private tailText(): string {
    return this.tailBytes === null ? this.tail : this.tailBytes.toString('utf8');
  }

  /** `empty`: nothing but blank or comment lines (a table that does not exist); `complete`; `truncated`. */
  verdict(): 'empty' | 'complete' | 'truncated' {
    const lines = this.tailText().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = (lines[i] ?? '').trim();
      if (line === '' || line.startsWith('#')) continue;
      return line === 'COMMIT' ? 'complete' : 'truncated';
    }
    // Only comments in the tail: empty if the tail is the whole output, else kilobytes of trailing comments.
    return this.totalChars <= TAIL_CHARS ? 'empty' : 'truncated';
  }

  /** The last statement line seen, for error messages. */
  lastStatement(): string {
    const lines = this.tailText().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = (lines[i] ?? '').trim();
      if (line !== '' && !line.startsWith('#')) return line.slice(0, 120);
    }
    return '';
  }
}
