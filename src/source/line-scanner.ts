/** Splits streamed text into lines for cheap probes (grep-like), carrying at most one partial line between chunks. */

/** Calls `onLine` per complete line; `stop()` lets a probe ignore the rest once it has its answer. */
export class LineScanner {
  private pending = '';
  private stopped = false;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    if (this.stopped) return;
    const text = this.pending + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0 && !this.stopped; nl = text.indexOf('\n', start)) {
      this.onLine(text.slice(start, nl));
      start = nl + 1;
    }
    // A probe only looks at line starts: a huge unterminated line need not be kept whole.
    this.pending = this.stopped ? '' : text.slice(start, start + 256);
  }

  end(): void {
    if (!this.stopped && this.pending.length > 0) this.onLine(this.pending);
    this.pending = '';
  }

  stop(): void {
    this.stopped = true;
  }
}
