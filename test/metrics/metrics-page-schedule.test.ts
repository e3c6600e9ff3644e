/**
 * schedule(): the page rendered a slice at a time. Its bytes are exactly those of the one-go render and of
 * the plain per-family reference; scrapes during a render get the previous complete page; renders never
 * interleave and are shown in arrival order; close() stops them.
 */
import { promisify } from 'node:util';
import { constants, deflateRaw as deflateRawCallback, gunzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createEndpointFilter } from '../../src/metrics/endpoint-filter.js';
import { LabelTextCache, renderFamily } from '../../src/metrics/exposition.js';
import { METRIC_FAMILIES } from '../../src/metrics/families/index.js';
import { steppedFamily } from '../../src/metrics/families/define.js';
import type { MetricFamily } from '../../src/metrics/family.js';
import { buildLadderViews } from '../../src/metrics/ladder-views.js';
import { createMetricsPage, type MetricsPage, type MetricsPageOptions } from '../../src/metrics/metrics-page.js';
import { MetricsRenderError } from '../../src/metrics/metrics-render-error.js';
import type { Snapshot } from '../../src/snapshot.js';
import { RICH_PAGE_OPTIONS, richSnapshot } from './rich-snapshot.js';
import { buildSnapshot, type LadderSpec } from './snapshot-builder.js';

/**
 * A page of a few MiB (several ~1 MiB parts): `ladders` services with 6 endpoints each, every 50th with
 * unknown names (duplicate label sets), non-ASCII names, and the rich snapshot's kube and conntrack data.
 */
function bigSnapshot(tag: string, ladders = 400): Snapshot {
  const specs: LadderSpec[] = Array.from({ length: ladders }, (_, i) => ({
    name: i % 50 === 7 ? null : { namespace: `ns-${i % 13}`, service: `${tag}-svc-${i}-wéb`, port: i % 3 === 0 ? 'https' : 'http' },
    ...(i % 50 === 7 ? { chain: `KUBE-SVC-UNKNOWN${String(i).padStart(8, '0')}` } : {}),
    affinity: i % 5 === 0,
    endpoints: Array.from({ length: 6 }, (_, e) => ({ endpoint: `10.${i % 200}.${e}.${i % 251}:8080`, total: i * 10 + e, affinity: e, window: (i + e) % 4 })),
  }));
  return { ...richSnapshot(), analysis: buildSnapshot({ ladders: specs }).analysis };
}

const OPTIONS: MetricsPageOptions = { ...RICH_PAGE_OPTIONS };

const deflateRawAsync = promisify(deflateRawCallback) as (data: Buffer, options: object) => Promise<Buffer>;
const realDeflate = (data: Buffer, final: boolean): Promise<Buffer> => deflateRawAsync(data, final ? {} : { finishFlush: constants.Z_SYNC_FLUSH });

/** The page as the plain per-family renderer makes it, every family in one go (the reference). */
function referencePage(snapshot: Snapshot, families: readonly MetricFamily[] = METRIC_FAMILIES, maxEndpoints = 0): string {
  const views = buildLadderViews(snapshot, createEndpointFilter({}), maxEndpoints);
  const context = {
    ...views,
    windowSeconds: RICH_PAGE_OPTIONS.windowSeconds,
    build: { version: RICH_PAGE_OPTIONS.version, revision: RICH_PAGE_OPTIONS.revision, nodejsVersion: RICH_PAGE_OPTIONS.nodejsVersion },
  };
  const labels = new LabelTextCache();
  return families.map((family) => renderFamily(family, snapshot, context, labels)).join('');
}

/** A yieldTurn the test releases one turn at a time: the render stays paused until then. */
function turnGate() {
  const paused: (() => void)[] = [];
  return {
    yieldTurn: () => new Promise<void>((resolve) => paused.push(resolve)),
    get pending() {
      return paused.length;
    },
    /** Resumes the paused render, and waits until it paused again or finished. */
    async release() {
      paused.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** A page with an empty registry, so render() is the kube_balance_* part alone; a slice is one step. */
function pausedPage(extra: Partial<MetricsPageOptions> = {}) {
  const gate = turnGate();
  const page = createMetricsPage({ ...OPTIONS, registry: new Registry(), sliceMs: 0, yieldTurn: gate.yieldTurn, ...extra });
  return { page, gate };
}

async function plainParts(page: MetricsPage): Promise<readonly Buffer[]> {
  return (await page.renderParts(false)).slice(0, -1); // without the registry's part
}

/** The kube_balance_* part of the page as served. */
async function pageText(page: MetricsPage): Promise<string> {
  return Buffer.concat(await plainParts(page)).toString('utf8');
}

describe('the page rendered in slices', () => {
  it.each([
    ['one step per slice', 0],
    ['the default slices', undefined],
  ])('schedule() (%s), update() and the per-family reference give the same bytes', async (_name, sliceMs) => {
    for (const snapshot of [bigSnapshot('a'), richSnapshot(), buildSnapshot({ ladders: null }), buildSnapshot({ stale: true })]) {
      const expected = referencePage(snapshot);
      const once = createMetricsPage({ ...OPTIONS, registry: new Registry() });
      once.update(snapshot);
      const sliced = createMetricsPage({ ...OPTIONS, registry: new Registry(), ...(sliceMs !== undefined ? { sliceMs } : {}) });
      expect(await sliced.schedule(snapshot)).toEqual({ status: 'shown', error: null });
      expect(await pageText(once)).toBe(expected);
      expect(await pageText(sliced)).toBe(expected);
    }
    // Large enough to span several ~1 MiB parts, so the test covers the seams between them.
    expect(Buffer.byteLength(referencePage(bigSnapshot('a')))).toBeGreaterThan(2 * 2 ** 20);
  });

  it('with the series budget, the same bytes as the reference', async () => {
    const snapshot = bigSnapshot('budget');
    const { page, gate } = pausedPage({ maxEndpoints: 500 });
    const done = page.schedule(snapshot);
    while (gate.pending > 0) await gate.release();
    expect(await done).toEqual({ status: 'shown', error: null });
    expect(await pageText(page)).toBe(referencePage(snapshot, METRIC_FAMILIES, 500));
  });

  it('a scrape during a render gets the previous complete page, plain and gzipped, until the new one is whole', async () => {
    const a = bigSnapshot('a');
    const b = bigSnapshot('b');
    const { page, gate } = pausedPage();
    page.update(a);
    const pageA = await pageText(page);
    const partsA = await plainParts(page);
    const bodyA = await page.renderBody(false);
    const done = page.schedule(b);
    let steps = 0;
    while (gate.pending > 0) {
      // Cheap every step: the very same cached parts as page A.
      const parts = await plainParts(page);
      expect(parts).toHaveLength(partsA.length);
      parts.forEach((part, i) => expect(part).toBe(partsA[i]));
      if (steps % 50 === 0) {
        expect(await pageText(page)).toBe(pageA);
        expect(gunzipSync(await page.renderBody(true)).equals(bodyA)).toBe(true);
      }
      await gate.release();
      steps++;
    }
    expect(steps).toBeGreaterThan(200);
    expect(await done).toEqual({ status: 'shown', error: null });
    const pageB = await pageText(page);
    expect(pageB).toBe(referencePage(b));
    expect(gunzipSync(await page.renderBody(true)).equals(await page.renderBody(false))).toBe(true);
  });

  it('runs one render at a time: a snapshot arriving meanwhile waits, a newer one supersedes it, pages are shown in order', async () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((tag) => bigSnapshot(tag, 60)) as [Snapshot, Snapshot, Snapshot, Snapshot];
    const { page, gate } = pausedPage();
    page.update(a);
    const outcomes: string[] = [];
    const track = (name: string, p: Promise<{ status: string }>) => p.then(({ status }) => outcomes.push(`${name} ${status}`));
    const all = [track('b', page.schedule(b)), track('c', page.schedule(c)), track('d', page.schedule(d))];
    const seen = [await pageText(page)];
    let shown = (await plainParts(page))[0];
    while (gate.pending > 0) {
      await gate.release();
      const first = (await plainParts(page))[0];
      if (first !== shown) seen.push(await pageText(page));
      shown = first;
    }
    await Promise.all(all);
    expect(outcomes).toEqual(['c superseded', 'b shown', 'd shown']);
    expect(seen).toEqual([referencePage(a), referencePage(b), referencePage(d)]);
  });

  it('update() during a render wins: the render in progress is abandoned, never shown over it', async () => {
    const { page, gate } = pausedPage();
    page.update(bigSnapshot('a', 60));
    const done = page.schedule(bigSnapshot('b', 60));
    await gate.release();
    const c = bigSnapshot('c', 60);
    page.update(c);
    while (gate.pending > 0) await gate.release();
    expect(await done).toEqual({ status: 'superseded', error: null });
    expect(await pageText(page)).toBe(referencePage(c));
  });

  it('close() stops a render in progress and drops a waiting one; the previous page stays, later snapshots are ignored', async () => {
    const a = bigSnapshot('a', 60);
    const { page, gate } = pausedPage();
    page.update(a);
    const inProgress = page.schedule(bigSnapshot('b', 60));
    const waiting = page.schedule(bigSnapshot('c', 60));
    await gate.release();
    const closed = page.close();
    expect(await waiting).toEqual({ status: 'closed', error: null });
    await gate.release();
    await closed;
    expect(await inProgress).toEqual({ status: 'closed', error: null });
    expect(gate.pending).toBe(0);
    expect(await page.schedule(bigSnapshot('d', 60))).toEqual({ status: 'closed', error: null });
    expect(await pageText(page)).toBe(referencePage(a));
    await page.idle();
  });

  it('runs the first slice at once: a small page is shown before schedule() resolves', async () => {
    const page = createMetricsPage({ ...OPTIONS, registry: new Registry(), sliceMs: 60_000 });
    const done = page.schedule(richSnapshot());
    expect(await pageText(page)).toBe(referencePage(richSnapshot()));
    expect((await done).status).toBe('shown');
  });

  it('a family that throws after writing more than a part is left off whole; the outcome carries a MetricsRenderError', async () => {
    const broken = steppedFamily({
      name: 'kube_balance_broken',
      type: 'gauge',
      help: 'emits a lot, then throws',
      labels: ['n'],
      *collectSteps(_snapshot, emit) {
        for (let i = 0; i < 40_000; i++) {
          emit([`${i}-${'x'.repeat(40)}`], i);
          if (i % 100 === 0) yield;
        }
        throw new Error('boom');
      },
    });
    const families = [...METRIC_FAMILIES.slice(0, 20), broken, ...METRIC_FAMILIES.slice(20)];
    const snapshot = bigSnapshot('a', 100);
    const { page, gate } = pausedPage({ families });
    const done = page.schedule(snapshot);
    while (gate.pending > 0) await gate.release();
    const outcome = await done;
    expect(outcome.status).toBe('shown');
    expect(outcome.error).toBeInstanceOf(MetricsRenderError);
    expect((outcome.error as MetricsRenderError).families).toEqual(['kube_balance_broken']);
    expect(await pageText(page)).toBe(referencePage(snapshot));

    const once = createMetricsPage({ ...OPTIONS, registry: new Registry(), families });
    expect(() => once.update(snapshot)).toThrow(MetricsRenderError);
    expect(await pageText(once)).toBe(referencePage(snapshot));
  });

  it('a render that throws outside the families is "failed" and leaves the previous page', async () => {
    const a = bigSnapshot('a', 10);
    const { page, gate } = pausedPage();
    page.update(a);
    const bad = { ...a, analysis: { ladders: [null], resetsThisSample: 0 } } as unknown as Snapshot;
    const done = page.schedule(bad);
    while (gate.pending > 0) await gate.release();
    const outcome = await done;
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBeInstanceOf(Error);
    expect(await pageText(page)).toBe(referencePage(a));
    // The queue goes on.
    const next = page.schedule(richSnapshot());
    while (gate.pending > 0) await gate.release();
    expect((await next).status).toBe('shown');
  });

  it('a multi-part page gzips to exactly its plain bytes, each part compressed once', async () => {
    const deflate = vi.fn((data: Buffer, final: boolean) => realDeflate(data, final));
    const page = createMetricsPage({ ...OPTIONS, registry: new Registry(), deflate });
    await page.schedule(bigSnapshot('gz'));
    const parts = await plainParts(page);
    expect(parts.length).toBeGreaterThan(2);
    const plain = await page.renderBody(false);
    expect(gunzipSync(await page.renderBody(true)).equals(plain)).toBe(true);
    expect(gunzipSync(await page.renderBody(true)).equals(plain)).toBe(true);
    // Each cached part once, plus the registry part per gzip scrape.
    expect(deflate).toHaveBeenCalledTimes(parts.length + 2);
  });
});
