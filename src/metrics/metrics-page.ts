/**
 * The /metrics page: a Snapshot rendered to exposition text once per sample, plus prom-client's
 * process_* and nodejs_* metrics rendered per scrape.
 *
 * Why not prom-client Gauges and Counters for the ladder families: at 10,000 services x 5 endpoints a
 * node has ~300k series. prom-client keeps one object per label set, hashes the label set on every
 * set(), and re-serialises every series on every scrape (measured on the dev VM: 250k series in five
 * Gauges took 3.7 s per registry.metrics(), about 2x longer than rendering this whole page once), and
 * vanished endpoints would linger until explicitly remove()d. The data only changes when a sample
 * lands, so it is rendered here exactly once per snapshot, with label text escaped once per
 * ladder/endpoint and shared across families, as UTF-8 bytes in ~1 MiB parts that are compressed as
 * the render goes (page-store.ts): the page is held as its deflate blocks, a twenty-fifth of its size,
 * and its plain bytes are made again only when a plain scrape asks for them.
 *
 * The exporter renders with schedule(): a few milliseconds at a time with the event loop free in
 * between (740k series take seconds), the new page built off to the side and swapped in whole when
 * complete, so scrapes meanwhile get the previous complete page (render-queue.ts).
 *
 * A scrape is then a memory copy: the cached deflate blocks (or the page's plain parts) followed by the
 * registry's few kilobytes. The gzip body stays ONE gzip member (curl --compressed stops after the
 * first of several): each cached part is raw deflate ending in a sync flush (byte-aligned, not final),
 * the registry's part a fresh raw deflate stream that ends it, and the trailer's CRC-32 (computed as
 * the page is rendered) continues the cached parts'. prom-client is kept for what it is good at: the
 * process and runtime metrics that do change between scrapes (memory, CPU, event-loop lag), so the
 * exporter's own footprint can be watched.
 */
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw as deflateRawCallback, deflateRawSync, inflateRaw as inflateRawCallback } from 'node:zlib';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Snapshot } from '../snapshot.js';
import { createEndpointFilter, type EndpointFilterOptions } from './endpoint-filter.js';
import type { MetricFamily } from './family.js';
import { METRIC_FAMILIES } from './families/index.js';
import { MetricsRenderError } from './metrics-render-error.js';
import { renderPageSteps, type RenderedPage } from './page-render.js';
import { JobLimiter } from './job-limiter.js';
import { LadderLayoutCache } from './ladder-views.js';
import { PageStore, type PageStoreCodec } from './page-store.js';
import { PART_CHARS } from './page-writer.js';
import { PartBuffers } from './part-buffers.js';
import { RenderQueue } from './render-queue.js';

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
   * Default: node:zlib, the page's parts with deflateRawSync at level 1 as they are rendered (see
   * PAGE_DEFLATE_LEVEL), the registry's part per scrape with deflateRaw (async). Tests inject a spy to
   * count compressions (then every part goes through it, asynchronously). Plain bytes are made again
   * from the page's deflated parts with node:zlib inflateRaw.
   */
  readonly deflate?: (data: Buffer, final: boolean) => Promise<Buffer>;
  /** schedule(): how long one render slice may hold the event loop before yielding (ms, default 10). */
  readonly sliceMs?: number;
  /** schedule(): one turn of the event loop between slices (default setImmediate); tests inject one they control. */
  readonly yieldTurn?: () => Promise<unknown>;
}

/**
 * What schedule() did with a snapshot. `shown`: its page is served now (`error`: a MetricsRenderError
 * when families were left off). `superseded`: a newer snapshot was shown instead, it never will be.
 * `closed`: close() came first. `failed`: rendering threw (`error`); the previous page is still served.
 */
export interface ScheduleResult {
  readonly status: 'shown' | 'superseded' | 'closed' | 'failed';
  readonly error: Error | null;
}

export interface MetricsPage {
  /**
   * Renders `snapshot` in one go and swaps the result in whole: scrapes see the previous page or this
   * one, never a mix. A family that throws is left off the page; the others are still swapped in, then a
   * MetricsRenderError is thrown so the caller can log it and count it under stage `render`. Holds the
   * event loop for the whole render (seconds at 20,000 services): the exporter uses schedule().
   */
  update(snapshot: Snapshot): void;
  /**
   * Renders `snapshot` a slice at a time (`sliceMs`), yielding to the event loop between slices, and swaps
   * the page in whole when it is complete; until then scrapes get the previous complete page. The first
   * slice runs before this returns, so a small page is swapped in at once. One render runs at a time: a
   * snapshot that arrives meanwhile waits for it, replacing (superseding) any snapshot already waiting;
   * pages are swapped in in arrival order, update() counting as an arrival. Never rejects.
   */
  schedule(snapshot: Snapshot): Promise<ScheduleResult>;
  /** Resolves once no scheduled render runs or waits: the page shows the last snapshot scheduled. */
  idle(): Promise<void>;
  /** Abandons a scheduled render in progress and drops a waiting one; later schedule() calls do nothing. Resolves when stopped. */
  close(): Promise<void>;
  /** The last rendered page followed by the registry's metrics. Before the first update(): only the registry's. */
  render(): Promise<string>;
  /**
   * The same page as UTF-8 bytes, for the server: the kube_balance_* bytes (inflated once per page, on
   * the first plain call) followed by the registry's metrics. With `gzip`, a gzip stream of exactly those
   * bytes: the deflate blocks of the kube_balance_* part (compressed once per page, as it is rendered)
   * followed by those of the registry's part, compressed per call.
   */
  renderBody(gzip: boolean): Promise<Buffer>;
  /**
   * renderBody() as its parts, to be written one after the other: the cached parts are then sent without
   * being copied (35 MiB per scrape at 10,000 services). Do not modify the returned buffers.
   */
  renderParts(gzip: boolean): Promise<readonly Buffer[]>;
  /** The shown page's kube_balance_* part: its plain size and the bytes it holds now (compressed, plus any plain copy). */
  pageSize(): { readonly plainBytes: number; readonly heldBytes: number };
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

/**
 * Reused buffers for plain parts until they are deflated (part-buffers.ts): a part is PART_CHARS UTF-16
 * units and one more text, so four times that holds any part in UTF-8 (only the bytes written become
 * resident). Parts are deflated as they are made, so one is in use at a time; the others serve an
 * injected asynchronous deflate (tests).
 */
const PART_BUFFER_BYTES = 4 * PART_CHARS;
const PART_BUFFERS = 2;

/**
 * zlib level of the page's parts. Every rendered page is compressed, scraped or not: level 1 takes a
 * quarter of the CPU of the default 6 (150 ms against 560 ms for the 74 MiB page at 20,000 services x
 * 10 endpoints on the benchmark VM) for deflate blocks a fifth larger (3.1 against 2.5 MiB).
 */
const PAGE_DEFLATE_LEVEL = 1;

const deflateRawAsync = promisify(deflateRawCallback) as (data: Buffer, options: object) => Promise<Buffer>;
const inflateRawAsync = promisify(inflateRawCallback) as (data: Buffer, options: object) => Promise<Buffer>;
/** The `deflate` option's default; by default only the registry's part (`final`) goes through it, the page's parts through deflatePartSync. */
const defaultDeflate = (data: Buffer, final: boolean): Promise<Buffer> =>
  deflateRawAsync(data, final ? {} : { finishFlush: constants.Z_SYNC_FLUSH, level: PAGE_DEFLATE_LEVEL });
/**
 * The page's parts are deflated on the event loop as the render hands them over (~2 ms per MiB, inside
 * the render's slices): the async deflateRaw needs a few turns of the loop per part, and while a render
 * holds it in slices the parts waiting for those turns piled up (60 of 80 at 20,000 services x 10
 * endpoints), each a new buffer left for the next full GC.
 */
const deflatePartSync = (data: Buffer): Buffer =>
  deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH, level: PAGE_DEFLATE_LEVEL });
/**
 * A part's deflate blocks end in a sync flush, not a final block. The output buffer holds a whole part,
 * so inflating one takes one trip to libuv's pool (the default 16 KiB took 64 per part: the first plain
 * scrape of a page at 10,000 services x 5 endpoints took 50-145 ms instead of 65-90).
 */
const inflatePart = (data: Buffer): Promise<Buffer> =>
  inflateRawAsync(data, { finishFlush: constants.Z_SYNC_FLUSH, chunkSize: PART_BUFFER_BYTES / 2 });

/** RFC 1952 member header: deflate, no flags, no mtime, OS unknown. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

/**
 * Async zlib jobs in flight at once for the page: inflating parts for a plain scrape (and an injected
 * deflate). Two at a time uses two of libuv's four pool threads and leaves the others to file reads and
 * DNS. Each part is compressed on its own, ending in a sync flush, so the outputs concatenate into one
 * valid deflate stream.
 */
const ZLIB_CONCURRENCY = 2;

function gzipTrailer(crc: number, size: number): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size % 2 ** 32, 4);
  return trailer;
}

function renderError(rendered: RenderedPage): MetricsRenderError | null {
  return rendered.failures.length > 0 ? new MetricsRenderError(rendered.failures) : null;
}

export function createMetricsPage(options: MetricsPageOptions): MetricsPage {
  const registry = options.registry ?? defaultSelfRegistry();
  const deflate = options.deflate ?? defaultDeflate;
  const zlibJobs = new JobLimiter(ZLIB_CONCURRENCY);
  const partBuffers = new PartBuffers(PART_BUFFER_BYTES, PART_BUFFERS);
  const injected = options.deflate;
  const codec: PageStoreCodec = {
    deflate: injected === undefined ? deflatePartSync : (plain) => zlibJobs.run(() => injected(plain, false)),
    inflate: (deflated) => zlibJobs.run(() => inflatePart(deflated)),
  };
  const renderOptions = {
    families: options.families ?? METRIC_FAMILIES,
    filter: createEndpointFilter(options),
    maxEndpoints: options.maxEndpoints ?? 0,
    windowSeconds: options.windowSeconds,
    build: {
      version: options.version,
      revision: options.revision,
      nodejsVersion: options.nodejsVersion ?? process.version,
    },
    createStore: () => new PageStore(codec, partBuffers),
    layouts: new LadderLayoutCache(),
  };
  // The page's bytes and their compression live in one store, swapped in whole: a scrape never pairs one
  // page's bytes with another's compression.
  let page = new PageStore(codec, partBuffers);
  const queue = new RenderQueue<RenderedPage>({
    render: (snapshot) => renderPageSteps(snapshot, renderOptions),
    show: (rendered) => {
      page = rendered.bytes;
    },
    sliceMs: options.sliceMs ?? 10,
    ...(options.yieldTurn ? { yieldTurn: options.yieldTurn } : {}),
  });

  async function renderParts(gzip: boolean): Promise<readonly Buffer[]> {
    const current = page;
    const { size, crc } = current;
    const staticPart = gzip ? current.deflated() : current.plain();
    // Awaited below; handled now so a failure while the registry renders is not an unhandled rejection.
    staticPart.catch(() => undefined);
    const dynamic = Buffer.from(await registry.metrics(), 'utf8');
    if (!gzip) return [...(await staticPart), dynamic];
    const [head, tail] = await Promise.all([staticPart, deflate(dynamic, true)]);
    const trailer = gzipTrailer(crc32(dynamic, crc), size + dynamic.length);
    return [GZIP_HEADER, ...head, tail, trailer];
  }

  return {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,

    update(snapshot) {
      const error = renderError(queue.renderNow(snapshot));
      if (error !== null) throw error;
    },

    async schedule(snapshot) {
      const outcome = await queue.schedule(snapshot);
      switch (outcome.status) {
        case 'shown':
          return { status: 'shown', error: renderError(outcome.result) };
        case 'failed':
          return { status: 'failed', error: outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error)) };
        default:
          return { status: outcome.status, error: null };
      }
    },

    idle: () => queue.idle(),
    close: () => queue.close(),

    async render() {
      const current = page;
      return Buffer.concat(await current.plain(), current.size).toString('utf8') + (await registry.metrics());
    },

    renderParts,

    pageSize: () => ({ plainBytes: page.size, heldBytes: page.heldBytes }),

    async renderBody(gzip) {
      return Buffer.concat(await renderParts(gzip));
    },
  };
}
