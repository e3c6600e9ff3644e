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

  push(chunk: string): void {
    this.totalChars += chunk.length;
    this.tail = chunk.length >= TAIL_CHARS ? chunk.slice(-TAIL_CHARS) : (this.tail + chunk).slice(-TAIL_CHARS);
  }

  /** `empty`: nothing but blank or comment lines (a table that does not exist); `complete`; `truncated`. */
  verdict(): 'empty' | 'complete' | 'truncated' {
    const lines = this.tail.split('\n');
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
    const lines = this.tail.split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = (lines[i] ?? '').trim();
      if (line !== '' && !line.startsWith('#')) return line.slice(0, 120);
    }
    return '';
  }
}
