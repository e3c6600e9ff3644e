/**
 * The /metrics page: a Snapshot rendered to exposition text once per sample, plus prom-client's
 * process_* and nodejs_* metrics rendered per scrape.
 *
 * Why not prom-client Gauges and Counters for the ladder families: at 10,000 services x 5 endpoints a
 * node has ~300k series. prom-client keeps one object per label set, hashes the label set on every
 * set(), and re-serialises every series on every scrape (measured on the dev VM: 250k series in five
 * Gauges took 3.7 s per registry.metrics(), about 2x longer than rendering this whole page once), and
 * vanished endpoints would linger until explicitly remove()d. The data only changes when a sample lands, so it is rendered here exactly once per
 * update(), with label text escaped once per ladder/endpoint and shared across families, and a
 * scrape is a string concatenation. prom-client is kept for what it is good at: the process and
 * runtime metrics that do change between scrapes (memory, CPU, event-loop lag), so the exporter's own
 * footprint can be watched.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Snapshot } from '../snapshot.js';
import { createEndpointFilter, type EndpointFilterOptions } from './endpoint-filter.js';
import { LabelTextCache, renderFamily } from './exposition.js';
import type { CollectContext, MetricFamily } from './family.js';
import { METRIC_FAMILIES } from './families/index.js';
import { buildLadderViews } from './ladder-views.js';
import { MetricsRenderError } from './metrics-render-error.js';

/** Spread `config.metrics` into it for the four filters. */
export interface MetricsPageOptions extends EndpointFilterOptions {
  /** --window in seconds (published as kube_balance_window_seconds). */
  readonly windowSeconds: number;
  readonly version: string;
  readonly revision: string;
  /** Default process.version; injected by tests so golden files do not depend on the Node build. */
  readonly nodejsVersion?: string;
  /**
   * Registry for process/runtime metrics, rendered after the kube_balance_* families on every scrape.
   * Default: a new Registry with prom-client's default metrics. Its type pins the Prometheus text
   * format (an OpenMetrics registry would not type-check); it must not hold kube_balance_* metrics.
   */
  readonly registry?: Registry;
  /** Series budget (--metrics.max-endpoints): endpoints with per-endpoint series at most; 0 or absent = no limit. */
  readonly maxEndpoints?: number;
  /** Default METRIC_FAMILIES; tests inject families to exercise error handling. */
  readonly families?: readonly MetricFamily[];
}

export interface MetricsPage {
  /**
   * Renders `snapshot` and swaps the result in whole: scrapes see the previous page or this one, never a
   * mix. A family that throws is left off the page; the others are still swapped in, then a
   * MetricsRenderError is thrown so the caller can log it and count it under stage `render`.
   */
  update(snapshot: Snapshot): void;
  /** The last rendered page followed by the registry's metrics. Before the first update(): only the registry's. */
  render(): Promise<string>;
  readonly contentType: string;
}

// prom-client's nodejs_active_{handles,requests,resources}_total are gauges named like counters, which
// `promtool check metrics` rejects; their per-type siblings without _total carry the same numbers.
const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export function defaultSelfRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  return registry;
}

export function createMetricsPage(options: MetricsPageOptions): MetricsPage {
  const registry = options.registry ?? defaultSelfRegistry();
  const families = options.families ?? METRIC_FAMILIES;
  const filter = createEndpointFilter(options);
  const build = {
    version: options.version,
    revision: options.revision,
    nodejsVersion: options.nodejsVersion ?? process.version,
  };
  let page = '';

  return {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,

    update(snapshot) {
      const views = buildLadderViews(snapshot, filter, options.maxEndpoints ?? 0);
      const context: CollectContext = { ...views, windowSeconds: options.windowSeconds, build };
      const labels = new LabelTextCache();
      const out: string[] = [];
      const failures: { family: string; error: unknown }[] = [];
      for (const family of families) {
        try {
          out.push(renderFamily(family, snapshot, context, labels));
        } catch (error) {
          // renderFamily returns nothing on a throw, so a half-collected family leaves no partial block.
          failures.push({ family: family.name, error });
        }
      }
      page = out.join('');
      if (failures.length > 0) throw new MetricsRenderError(failures);
    },

    async render() {
      return page + (await registry.metrics());
    },
  };
}
