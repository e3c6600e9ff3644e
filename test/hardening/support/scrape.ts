/** Scrape helpers: the page parsed strictly, and the few numbers fault tests look at. */
import { parseExposition, samplesOf, type ParsedFamily } from '../../metrics/parse-exposition.js';

export interface Scrape {
  readonly page: Map<string, ParsedFamily>;
  readonly up: number | undefined;
  readonly stale: number | undefined;
  readonly samplesTotal: number | undefined;
  /** kube_balance_sample_errors_total by stage. */
  readonly errors: Record<string, number>;
  /** kube_balance_endpoint_connections_total by endpoint (empty when withheld). */
  readonly connections: Record<string, number>;
  readonly resetsTotal: number | undefined;
  readonly residentBytes: number | undefined;
}

export function readScrape(text: string): Scrape {
  const page = parseExposition(text);
  const one = (name: string): number | undefined => samplesOf(page, name)[0]?.value;
  const by = (name: string, label: string): Record<string, number> =>
    Object.fromEntries(samplesOf(page, name).map((s) => [s.labels[label] ?? '', s.value]));
  return {
    page,
    up: one('kube_balance_up'),
    stale: one('kube_balance_data_stale'),
    samplesTotal: one('kube_balance_samples_total'),
    errors: by('kube_balance_sample_errors_total', 'stage'),
    connections: by('kube_balance_endpoint_connections_total', 'endpoint'),
    resetsTotal: one('kube_balance_resets_total'),
    residentBytes: one('process_resident_memory_bytes'),
  };
}

export async function scrape(base: string, init: RequestInit = {}): Promise<Scrape> {
  const response = await fetch(`${base}/metrics`, init);
  if (response.status !== 200) throw new Error(`GET ${base}/metrics: ${response.status}`);
  return readScrape(await response.text());
}
