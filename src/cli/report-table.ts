/** `report --format table`: per service port, its endpoints' connections, shares, a bar, and skew/p-value. */
import { windowStats } from '../analysis/distribution-stats.js';
import type { WindowStats } from '../analysis/types.js';
import type { Ladder, ServiceModel } from '../model/types.js';
import { orderedLadders } from './ladder-order.js';

export const BAR_WIDTH = 20;
/** The chi-square approximation needs about five expected connections per endpoint (AnalysisOptions default). */
const MIN_EXPECTED_PER_ENDPOINT = 5;
/** Programmed shares further than this from 1/n are flagged: kube-proxy prints 10 decimals, the kernel keeps 31 bits. */
const PROGRAMMED_TOLERANCE = 1e-6;
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A horizontal bar of `width` cells for a share in [0, 1], in eighth-cell steps, padded with spaces. */
export function renderBar(share: number, width = BAR_WIDTH): string {
  const eighths = Math.round(Math.min(1, Math.max(0, share)) * width * 8);
  const bar = '█'.repeat(Math.floor(eighths / 8)) + (EIGHTHS[eighths % 8] ?? '');
  return bar + ' '.repeat(width - [...bar].length);
}

function percent(ratio: number | null): string {
  return ratio === null ? '-' : `${(ratio * 100).toFixed(1)}%`;
}

export function formatPValue(p: number): string {
  if (p >= 0.001) return p.toFixed(3);
  return p === 0 ? '<1e-300' : p.toExponential(1);
}

function serviceTitle(ladder: Ladder): string {
  const name = ladder.name;
  if (name === null) return '(unknown service)';
  return `${name.namespace}/${name.service}${name.port === '' ? '' : `:${name.port}`}`;
}

function header(ladder: Ladder): string {
  const parts = [
    serviceTitle(ladder),
    ladder.protocol ?? '(protocol unknown)',
    ladder.policy,
    ladder.ipFamily,
    ladder.chain,
    `clusterIP ${ladder.clusterIP ?? '-'}`,
  ];
  if (ladder.sessionAffinity !== null) {
    const timeout = ladder.sessionAffinity.timeoutSeconds;
    parts.push(`affinity ClientIP${timeout === null ? '' : ` ${timeout}s`}`);
  }
  parts.push(ladder.connections === null ? 'connections -' : `connections ${ladder.connections}`);
  return parts.join('  ');
}

/** One-shot statistics: the counters since kube-proxy last rewrote the chain are the sample. */
export function oneShotStats(ladder: Ladder): WindowStats | null {
  if (ladder.connections === null) return null;
  const counts = Float64Array.from(ladder.endpoints, (e) => e.connections ?? 0);
  return windowStats(ladder.endpoints, { seconds: 0, connections: counts, membershipChanged: false }, MIN_EXPECTED_PER_ENDPOINT);
}

function statsLine(ladder: Ladder, stats: WindowStats | null): string {
  if (stats === null) return 'skew -  p-value -  (no counters in this dump: save with iptables-save -c)';
  if (stats.connections === 0 || stats.connections === null) return 'skew -  p-value -  (no connections counted yet)';
  const skew = `skew ${stats.skewRatio === null ? '-' : stats.skewRatio.toFixed(2)}`;
  if (stats.pValue !== null && stats.chiSquare !== null) {
    return `${skew}  p-value ${formatPValue(stats.pValue)}  (chi-square ${stats.chiSquare.toFixed(2)}, ${ladder.endpoints.length - 1} df, n ${stats.connections})`;
  }
  const why =
    ladder.endpoints.length < 2
      ? 'one endpoint'
      : `needs at least ${MIN_EXPECTED_PER_ENDPOINT} expected connections per endpoint`;
  return `${skew}  p-value -  (${why})`;
}

function pad(cells: readonly string[], widths: readonly number[], rightAligned: ReadonlySet<number>): string {
  return cells
    .map((cell, i) => {
      const width = widths[i] ?? 0;
      const length = [...cell].length;
      const fill = ' '.repeat(Math.max(0, width - length));
      return rightAligned.has(i) ? fill + cell : cell + fill;
    })
    .join('  ')
    .trimEnd();
}

function ladderBlock(ladder: Ladder): string[] {
  const stats = oneShotStats(ladder);
  const affinity = ladder.sessionAffinity !== null;
  const total = ladder.connections;
  const titles = ['endpoint', 'connections', ...(affinity ? ['affinity'] : []), 'share', 'bar'.padEnd(BAR_WIDTH), 'programmed', 'expected'];
  const rows = ladder.endpoints.map((e) => {
    const share = total === null || total === 0 || e.connections === null ? null : e.connections / total;
    const uneven = Math.abs(e.programmedRatio - e.expectedRatio) > PROGRAMMED_TOLERANCE;
    return [
      e.endpoint ?? `(unknown) ${e.chain}`,
      e.connections === null ? '-' : String(e.connections),
      ...(affinity ? [e.affinityConnections === null ? '-' : String(e.affinityConnections)] : []),
      percent(share),
      share === null ? ' '.repeat(BAR_WIDTH) : renderBar(share),
      `${percent(e.programmedRatio)}${uneven ? '*' : ''}`,
      percent(e.expectedRatio),
    ];
  });
  const widths = titles.map((t, i) => Math.max([...t].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const right = new Set(titles.map((t, i) => (t === 'endpoint' || t.startsWith('bar') ? -1 : i)).filter((i) => i >= 0));
  const lines = [header(ladder), `  ${pad(titles, widths, right)}`, ...rows.map((r) => `  ${pad(r, widths, right)}`)];
  if (ladder.endpoints.length === 0) lines.push('  (no reachable endpoints)');
  lines.push(`  ${statsLine(ladder, stats)}`);
  if (rows.some((r) => r[r.length - 2]?.endsWith('*'))) {
    lines.push('  * the rule probabilities do not give this endpoint 1/n: the rules themselves are uneven');
  }
  return lines;
}

/** The whole table report: one block per service port, then a legend. */
export function renderReportTable(models: readonly ServiceModel[]): string {
  const ladders = orderedLadders(models);
  const families = [...new Set(models.map((m) => m.ipFamily))].join(', ');
  if (ladders.length === 0) {
    return `No kube-proxy load-balancing chains (KUBE-SVC/KUBE-SVL/KUBE-XLB) found in the ${families} nat table.\n`;
  }
  const blocks = ladders.map((l) => ladderBlock(l).join('\n'));
  const legend = [
    `${ladders.length} service port ladder${ladders.length === 1 ? '' : 's'} (${families}).`,
    'connections: new connections on this node since kube-proxy last rewrote the chain; share: their split;',
    'programmed: the split the rule probabilities give; expected: 1/n; skew: max share/expected;',
    'p-value: chi-square test of the counts against the uniform split (small means uneven beyond chance).',
  ];
  return `${blocks.join('\n\n')}\n\n${legend.join('\n')}\n`;
}
