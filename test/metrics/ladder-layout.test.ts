/**
 * The ladder layout kept from one render to the next (ladder-layout.ts): reused while samples hold the
 * very same Ladder objects in the same order, rebuilt when they do not, and the page's bytes are those
 * of a render without it either way.
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LadderStats } from '../../src/analysis/types.js';
import { createEndpointFilter } from '../../src/metrics/endpoint-filter.js';
import { LabelTextCache, renderFamily } from '../../src/metrics/exposition.js';
import { METRIC_FAMILIES } from '../../src/metrics/families/index.js';
import { buildLadderViews, LadderLayoutCache, ladderViewSteps } from '../../src/metrics/ladder-views.js';
import { renderPageSteps } from '../../src/metrics/page-render.js';
import { PageStore } from '../../src/metrics/page-store.js';
import { PartBuffers } from '../../src/metrics/part-buffers.js';
import { runToEnd } from '../../src/slices.js';
import type { Snapshot } from '../../src/snapshot.js';
import { RICH_PAGE_OPTIONS, richSnapshot } from './rich-snapshot.js';
import { buildSnapshot, type LadderSpec } from './snapshot-builder.js';

const BUILD = { version: RICH_PAGE_OPTIONS.version, revision: RICH_PAGE_OPTIONS.revision, nodejsVersion: RICH_PAGE_OPTIONS.nodejsVersion };

/** Ladders with duplicate label sets (unknown names), repeated endpoints, non-ASCII names and a filtered namespace. */
function snapshot(): Snapshot {
  const specs: LadderSpec[] = Array.from({ length: 60 }, (_, i) => ({
    name: i % 20 === 7 ? null : { namespace: `ns-${i % 4}`, service: `svc-${59 - i}-wéb`, port: 'http' },
    ...(i % 20 === 7 ? { chain: `KUBE-SVC-UNKNOWN${String(i).padStart(8, '0')}` } : {}),
    affinity: i % 5 === 0,
    endpoints: Array.from({ length: 1 + (i % 4) }, (_, e) => ({ endpoint: i % 9 === 0 && e > 0 ? '10.0.0.1:80' : `10.${i}.${e}.1:80`, total: i + e, window: (i * 7 + e) % 5 })),
  }));
  return { ...richSnapshot(), analysis: buildSnapshot({ ladders: specs }).analysis };
}

/** The next sample over the same rules: the same Ladder objects, other counters (so another budget ranking). */
function later(previous: Snapshot, step: number): Snapshot {
  const analysis = previous.analysis;
  if (analysis === null) throw new Error('no analysis');
  const ladders = analysis.ladders.map((stats, i): LadderStats => {
    const endpoints = stats.endpoints.map((e) => ({ ...e, connectionsTotal: e.connectionsTotal + step, windowConnections: (e.windowConnections ?? 0) + ((i * step) % 11) }));
    const connections = endpoints.reduce((n, e) => n + (e.windowConnections ?? 0), 0);
    return { ...stats, endpoints, connectionsTotal: stats.connectionsTotal + step * endpoints.length, window: { ...stats.window, connections } };
  });
  return { ...previous, timestamp: previous.timestamp + step, analysis: { ...analysis, ladders } };
}

/** A sample after a rewrite: one ladder renamed (a new Ladder object), the others as they were. */
function renamed(previous: Snapshot): Snapshot {
  const analysis = previous.analysis;
  if (analysis === null) throw new Error('no analysis');
  const ladders = analysis.ladders.map((stats, i) => (i === 3 ? { ...stats, ladder: { ...stats.ladder, name: { namespace: 'ns-0', service: 'aaa-first', port: 'http' } } } : stats));
  return { ...previous, analysis: { ...analysis, ladders } };
}

const filter = createEndpointFilter({ excludeNamespaces: /ns-3/ });
const codec = {
  deflate: (plain: Buffer) => deflateRawSync(plain, { finishFlush: constants.Z_SYNC_FLUSH }),
  inflate: async (deflated: Buffer) => inflateRawSync(deflated, { finishFlush: constants.Z_SYNC_FLUSH }),
};

async function render(snap: Snapshot, maxEndpoints: number, layouts?: LadderLayoutCache): Promise<string> {
  const options = { families: METRIC_FAMILIES, filter, maxEndpoints, windowSeconds: 300, build: BUILD, createStore: () => new PageStore(codec, new PartBuffers(1 << 16, 2)), ...(layouts ? { layouts } : {}) };
  const page = runToEnd(renderPageSteps(snap, options));
  expect(page.failures).toEqual([]);
  return Buffer.concat(await page.bytes.plain()).toString('utf8');
}

/** The plain per-family reference, views made afresh. */
function reference(snap: Snapshot, maxEndpoints: number): string {
  const context = { ...buildLadderViews(snap, filter, maxEndpoints), windowSeconds: 300, build: BUILD };
  const labels = new LabelTextCache();
  return METRIC_FAMILIES.map((family) => renderFamily(family, snap, context, labels)).join('');
}

describe('ladder layout kept between renders', () => {
  it.each([0, 40])('gives the bytes of a render without it, sample after sample (maxEndpoints %d)', async (maxEndpoints) => {
    const first = snapshot();
    const samples = [first, later(first, 1), later(first, 2), renamed(later(first, 3)), { ...first, stale: true }, later(first, 4)];
    const layouts = new LadderLayoutCache();
    for (const [i, snap] of samples.entries()) {
      const page = await render(snap, maxEndpoints, layouts);
      expect(page, `sample ${i}`).toBe(reference(snap, maxEndpoints));
      expect(page, `sample ${i}`).toBe(await render(snap, maxEndpoints));
    }
  });

  it('is reused while the ladders are the same objects in the same order, rebuilt otherwise', async () => {
    const first = snapshot();
    const layouts = new LadderLayoutCache();
    await render(first, 0, layouts);
    const built = layouts.layout;
    expect(built).not.toBeNull();
    await render(later(first, 1), 0, layouts);
    expect(layouts.layout).toBe(built);
    await render(renamed(first), 0, layouts);
    expect(layouts.layout).not.toBe(built);
    const reordered = first.analysis as NonNullable<Snapshot['analysis']>;
    await render({ ...first, analysis: { ...reordered, ladders: [...reordered.ladders].reverse() } }, 0, layouts);
    expect(layouts.layout?.source[0]).toBe(reordered.ladders.at(-1)?.ladder);
  });

  it('lets a layout that does not fit go before building the next (it may be all that holds the last model)', async () => {
    const first = snapshot();
    const layouts = new LadderLayoutCache();
    await render(first, 0, layouts);
    const built = layouts.layout;
    const steps = ladderViewSteps(renamed(first), filter, 0, layouts);
    expect(steps.next().done).toBe(false);
    expect(layouts.layout).toBeNull();
    let step = steps.next();
    while (step.done !== true) step = steps.next();
    expect(layouts.layout).not.toBeNull();
    expect(layouts.layout).not.toBe(built);
  });

  it('builds views without making endpoint objects: the views point at the layout, the families read endpoints per ladder', () => {
    const first = snapshot();
    const analysis = first.analysis as NonNullable<Snapshot['analysis']>;
    let endpointReads = 0;
    // The analysis's results make endpoint objects on each read of `endpoints` (ladder-result.ts): count the reads.
    const counted = analysis.ladders.map((stats): LadderStats => {
      const { endpoints, ...rest } = stats;
      return Object.defineProperty({ ...rest }, 'endpoints', {
        get: () => {
          endpointReads++;
          return endpoints;
        },
      }) as LadderStats;
    });
    const snap: Snapshot = { ...first, analysis: { ...analysis, ladders: counted } };
    const layouts = new LadderLayoutCache();
    runToEnd(ladderViewSteps(snap, filter, 0, layouts));
    // The layout reads the endpoints of the ladders it shows, once, when it is built.
    expect(endpointReads).toBeGreaterThan(0);
    endpointReads = 0;
    // The next render of the same ladders keeps the layout: its views read no endpoints at all.
    const views = runToEnd(ladderViewSteps(snap, filter, 0, layouts));
    expect(endpointReads).toBe(0);
    const layoutEntries = layouts.layout?.ladders.filter((entry) => !entry.duplicate) ?? [];
    expect(views.ladders.some((view) => view.endpointIndexes.length > 0)).toBe(true);
    expect(views.ladders.every((view, i) => view.endpointIndexes === layoutEntries[i]?.endpoints)).toBe(true);
  });

  it("keeps label text only for the layout's own arrays, not for those families build per series", async () => {
    const first = snapshot();
    const layouts = new LadderLayoutCache();
    await render(first, 0, layouts);
    const kept = layouts.layout?.labelTexts;
    const size = kept?.size ?? 0;
    // One text per ladder with series (an endpoint's series write its ladder's text, then its endpoint
    // as it comes), none per endpoint, none for kube_balance_service_info's label arrays, built per series.
    const layout = layouts.layout;
    const ladders = layout?.ladders.filter((entry) => !entry.duplicate) ?? [];
    expect(ladders.length).toBeGreaterThan(40);
    expect(size).toBe(ladders.length);
    for (let step = 1; step <= 3; step++) await render(later(first, step), 0, layouts);
    expect(layouts.layout?.labelTexts).toBe(kept);
    expect(kept?.size).toBe(size);
  });
});
