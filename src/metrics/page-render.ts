/**
 * Renders a Snapshot's kube_balance_* families as a generator that yields between ladders, so the page
 * can be rendered in one go (drain it) or a few milliseconds at a time between other work on the event
 * loop (metrics-page.ts). Both run the same steps, so they produce the same bytes.
 */
import type { Slices } from '../slices.js';
import type { Snapshot } from '../snapshot.js';
import type { EndpointFilter } from './endpoint-filter.js';
import { familyEmitter, LabelTextCache } from './exposition.js';
import type { BuildInfo, CollectContext, MetricFamily } from './family.js';
import { ladderViewSteps, type LadderLayoutCache } from './ladder-views.js';
import type { PageStore } from './page-store.js';
import { PageWriter } from './page-writer.js';

export interface PageRenderOptions {
  readonly families: readonly MetricFamily[];
  readonly filter: EndpointFilter;
  /** Series budget: endpoints with per-endpoint series at most; 0 = no limit. */
  readonly maxEndpoints: number;
  readonly windowSeconds: number;
  readonly build: BuildInfo;
  /** Where each render puts its bytes (a new store per render). */
  readonly createStore: () => PageStore;
  /** Keeps the ladder layout (sort order, label arrays and their text) from one render to the next. */
  readonly layouts?: LadderLayoutCache;
}

export interface RenderedPage {
  readonly bytes: PageStore;
  /** Families that threw: left off the page whole, the others are on it. */
  readonly failures: readonly { readonly family: string; readonly error: unknown }[];
}

/**
 * The page for `snapshot`, step by step. Throws only when the shared preparation does (a family that
 * throws is recorded in `failures` instead). Abandoning it half-way (return()) leaves nothing behind but
 * the compression of parts already handed to the store, which finishes on its own.
 */
export function* renderPageSteps(snapshot: Snapshot, options: PageRenderOptions): Slices<RenderedPage> {
  const { layout, ...views } = yield* ladderViewSteps(snapshot, options.filter, options.maxEndpoints, options.layouts);
  const context: CollectContext = { ...views, windowSeconds: options.windowSeconds, build: options.build };
  const labels = new LabelTextCache(layout === null ? undefined : { texts: layout.labelTexts, owns: layout.owns });
  const store = options.createStore();
  const writer = new PageWriter(store);
  const write = (text: string): void => writer.write(text);
  const failures: { family: string; error: unknown }[] = [];
  for (const family of options.families) {
    const emit = familyEmitter(family, labels, write);
    try {
      if (family.collectSteps !== undefined) yield* family.collectSteps(snapshot, emit, context);
      else family.collect(snapshot, emit, context);
      writer.commitFamily();
    } catch (error) {
      writer.dropFamily();
      failures.push({ family: family.name, error });
    }
    yield;
  }
  store.seal(writer.finish());
  return { bytes: store, failures };
}
