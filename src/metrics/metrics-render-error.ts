/** The error update() raises when some families failed to render (the rest of the page is still served). */

export class MetricsRenderError extends Error {
  readonly code = 'METRICS_RENDER';
  /** Names of the families left off the page. */
  readonly families: readonly string[];

  constructor(failures: readonly { readonly family: string; readonly error: unknown }[]) {
    const names = failures.map((f) => f.family);
    super(`metric families failed to render and were left off the page: ${names.join(', ')}`, {
      cause: failures.length === 1 ? failures[0]?.error : new AggregateError(failures.map((f) => f.error)),
    });
    this.name = 'MetricsRenderError';
    this.families = names;
  }
}
