/** The `/` page: what this is and where the metrics and health endpoints are. Every value is HTML-escaped. */

export interface LandingPageInfo {
  readonly name?: string;
  readonly description?: string;
  readonly version?: string;
  /** Extra key/value lines (backend, families, listen address...). */
  readonly details?: Readonly<Record<string, string>>;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export function renderLandingPage(info: LandingPageInfo, telemetryPath: string): string {
  const name = escapeHtml(info.name ?? 'kube-balance-exporter');
  const description = escapeHtml(
    info.description ?? "How evenly kube-proxy (iptables mode) spreads new connections over each Service's endpoints, on this node.",
  );
  const details = Object.entries(info.details ?? {})
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('');
  const path = escapeHtml(telemetryPath);
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${name}</title></head><body>`,
    `<h1>${name}</h1>`,
    `<p>${description}</p>`,
    info.version !== undefined ? `<p>Version: ${escapeHtml(info.version)}</p>` : '',
    '<ul>',
    `<li><a href="${path}">Metrics</a> (${path})</li>`,
    '<li><a href="/-/healthy">Health</a> (/-/healthy)</li>',
    '<li><a href="/-/ready">Readiness</a> (/-/ready: ready after the first good sample)</li>',
    '</ul>',
    details !== '' ? `<dl>${details}</dl>` : '',
    '</body></html>',
    '',
  ].join('\n');
}
