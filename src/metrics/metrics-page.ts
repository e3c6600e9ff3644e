/**
 * The /metrics page: a Snapshot rendered to exposition text once per sample, plus prom-client's
 * process_* and nodejs_* metrics rendered per scrape.
 *
 * Why not prom-client Gauges and Counters for the ladder families: at 10,000 services x 5 endpoints a
 * node has ~300k series. prom-client keeps one object per label set, hashes the label set on every
 * set(), and re-serialises every series on every scrape (measured on the dev VM: 250k series in five
 * Gauges took 3.7 s per registry.metrics(), about 2x longer than rendering this whole page once), and
 * vanished endpoints would linger until explicitly remove()d. The data only changes when a sample lands, so it is rendered here exactly once per
 * update(), with label text escaped once per ladder/endpoint and shared across families, and kept as
 * UTF-8 bytes; its compressed form is made at most once per update(), on the first scrape that asks
 * for it. A scrape is then a memory copy: the cached bytes (or cached deflate blocks) followed by the
 * registry's few kilobytes. The gzip body stays ONE gzip member (curl --compressed stops after the
 * first of several): the cached part is raw deflate ending in a sync flush (byte-aligned, not final),
 * the registry's part a fresh raw deflate stream that ends it, and the trailer's CRC-32 continues
 * the cached part's. prom-client is kept for what it is good at: the process and
 * runtime metrics that do change between scrapes (memory, CPU, event-loop lag), so the exporter's own
 * footprint can be watched.
 */
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw as deflateRawCallback } from 'node:zlib';
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
  /**
   * Raw deflate of one part: `final` false ends it with a sync flush so another part can follow.
   * Default node:zlib deflateRaw (async, off the event loop); tests inject a spy to count compressions.
   */
  readonly deflate?: (data: Buffer, final: boolean) => Promise<Buffer>;
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
  /**
   * The same page as UTF-8 bytes, for the server: the cached kube_balance_* bytes followed by the
   * registry's metrics. With `gzip`, a gzip stream of exactly those bytes: the cached gzip member of the
   * kube_balance_* part (compressed once per update(), on first use) followed by a member of the
   * registry's part, compressed per call.
   */
  renderBody(gzip: boolean): Promise<Buffer>;
  /**
   * renderBody() as its parts, to be written one after the other: the cached part is then sent without
   * being copied (35 MiB per scrape at 10,000 services). Do not modify the returned buffers.
   */
  renderParts(gzip: boolean): Promise<readonly Buffer[]>;
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

const deflateRawAsync = promisify(deflateRawCallback) as (data: Buffer, options: object) => Promise<Buffer>;
const defaultDeflate = (data: Buffer, final: boolean): Promise<Buffer> =>
  deflateRawAsync(data, final ? {} : { finishFlush: constants.Z_SYNC_FLUSH });

/** RFC 1952 member header: deflate, no flags, no mtime, OS unknown. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

interface DeflatedPart {
  readonly deflated: Buffer;
  readonly crc: number;
}

/** One update()'s output, swapped in whole so a scrape never pairs one page's bytes with another's compression. */
interface RenderedPage {
  readonly bytes: Buffer;
  /** `bytes` as non-final raw deflate plus its CRC-32; null until a scrape asks (and again after a failure). */
  gzipped: Promise<DeflatedPart> | null;
}

function gzipTrailer(crc: number, size: number): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size % 2 ** 32, 4);
  return trailer;
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
  const deflate = options.deflate ?? defaultDeflate;
  let page: RenderedPage = { bytes: Buffer.alloc(0), gzipped: null };

  function gzippedStatic(current: RenderedPage): Promise<DeflatedPart> {
    if (current.gzipped === null) {
      const pending = deflate(current.bytes, false).then((deflated) => ({ deflated, crc: crc32(current.bytes) }));
      current.gzipped = pending;
      // Do not cache a failure: the next scrape tries again.
      pending.catch(() => {
        if (current.gzipped === pending) current.gzipped = null;
      });
    }
    return current.gzipped;
  }

  async function renderParts(gzip: boolean): Promise<readonly Buffer[]> {
    const current = page;
    const staticPart = gzip && current.bytes.length > 0 ? gzippedStatic(current) : null;
    const dynamic = Buffer.from(await registry.metrics(), 'utf8');
    if (!gzip) return current.bytes.length > 0 ? [current.bytes, dynamic] : [dynamic];
    const [head, tail] = await Promise.all([staticPart, deflate(dynamic, true)]);
    const crc = crc32(dynamic, head?.crc ?? 0);
    const size = current.bytes.length + dynamic.length;
    return head === null ? [GZIP_HEADER, tail, gzipTrailer(crc, size)] : [GZIP_HEADER, head.deflated, tail, gzipTrailer(crc, size)];
  }

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
      // Only the bytes are kept (not the string too): the page is tens of MiB at 10,000 services.
      page = { bytes: Buffer.from(out.join(''), 'utf8'), gzipped: null };
      if (failures.length > 0) throw new MetricsRenderError(failures);
    },

    async render() {
      const current = page;
      return current.bytes.toString('utf8') + (await registry.metrics());
    },

    renderParts,

    async renderBody(gzip) {
      return Buffer.concat(await renderParts(gzip));
    },
  };
}
