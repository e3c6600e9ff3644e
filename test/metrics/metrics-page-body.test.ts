/**
 * renderBody(): the page as bytes. The kube_balance_* part is compressed once per update(), as it is
 * rendered, and held compressed; a plain scrape inflates it once per update().
 */
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw as deflateRawCallback, gunzipSync, inflateRawSync } from 'node:zlib';
import { Gauge, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createMetricsPage, type MetricsPageOptions } from '../../src/metrics/metrics-page.js';
import { buildSnapshot } from './snapshot-builder.js';

const deflateRawAsync = promisify(deflateRawCallback) as (data: Buffer, options: object) => Promise<Buffer>;
const realDeflate = (data: Buffer, final: boolean): Promise<Buffer> => deflateRawAsync(data, final ? {} : { finishFlush: constants.Z_SYNC_FLUSH });

const BASE: MetricsPageOptions = { windowSeconds: 300, version: '1.2.3', revision: 'deadbee', nodejsVersion: 'v20.0.0' };

function snapshot(service: string) {
  return buildSnapshot({
    ladders: [
      {
        // Non-ASCII label text: the body is UTF-8 bytes, not one byte per string character.
        name: { namespace: 'shop', service, port: 'http' },
        endpoints: [
          { endpoint: '10.0.0.1:80', total: 10, window: 4 },
          { endpoint: '10.0.0.2:80', total: 20, window: 6 },
        ],
      },
    ],
  });
}

function setup() {
  const registry = new Registry();
  const gauge = new Gauge({ name: 'scrape_probe', help: 'changes between scrapes', registers: [registry] });
  const gzip = vi.fn(realDeflate);
  const page = createMetricsPage({ ...BASE, registry, deflate: gzip });
  return { page, gauge, gzip };
}

describe('metrics page body', () => {
  it('the plain body is render() as UTF-8, and the gzip body decompresses to exactly the plain body', async () => {
    const { page, gauge } = setup();
    page.update(snapshot('wéb-☃'));
    gauge.set(7);
    const text = await page.render();
    const plain = await page.renderBody(false);
    const gzipped = await page.renderBody(true);
    expect(plain.equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(gzipped.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(true);
    expect(gunzipSync(gzipped).equals(plain)).toBe(true);
    // ONE gzip member (curl --compressed stops after the first of several): header, one deflate
    // stream, then the CRC-32 and size of the whole body.
    expect(inflateRawSync(gzipped.subarray(10, gzipped.length - 8)).equals(plain)).toBe(true);
    expect(gzipped.readUInt32LE(gzipped.length - 8)).toBe(crc32(plain));
    expect(gzipped.readUInt32LE(gzipped.length - 4)).toBe(plain.length);
    expect(text).toContain('service="wéb-☃"');
    expect(text).toContain('scrape_probe 7\n');
  });

  it('two gzip scrapes of one snapshot compress the kube_balance_* part once; the registry part each time', async () => {
    const { page, gauge, gzip } = setup();
    page.update(snapshot('web'));
    gauge.set(1);
    const first = await page.renderBody(true);
    gauge.set(2);
    const second = await page.renderBody(true);
    // 1 static part + 1 registry part per scrape.
    expect(gzip).toHaveBeenCalledTimes(3);
    const staticCalls = gzip.mock.calls.filter(([data]) => data.includes('kube_balance_up'));
    expect(staticCalls).toHaveLength(1);
    // Both scrapes carry the very same cached deflate blocks after the 10-byte header.
    const staticPart = await gzip.mock.results[0]?.value;
    expect(first.subarray(10, 10 + staticPart.length).equals(staticPart)).toBe(true);
    expect(second.subarray(10, 10 + staticPart.length).equals(staticPart)).toBe(true);
    expect(gunzipSync(first).toString()).toContain('scrape_probe 1\n');
    expect(gunzipSync(second).toString()).toContain('scrape_probe 2\n');
    expect(gunzipSync(second).equals(await page.renderBody(false))).toBe(true);
  });

  it('concurrent gzip scrapes share one compression; update() starts a new one with the new page', async () => {
    const { page, gzip } = setup();
    page.update(snapshot('one'));
    const bodies = await Promise.all([page.renderBody(true), page.renderBody(true), page.renderBody(true)]);
    expect(gzip.mock.calls.filter(([data]) => data.includes('kube_balance_up'))).toHaveLength(1);
    for (const body of bodies) expect(gunzipSync(body).toString()).toContain('service="one"');

    page.update(snapshot('two'));
    const after = gunzipSync(await page.renderBody(true)).toString();
    expect(after).toContain('service="two"');
    expect(after).not.toContain('service="one"');
    expect(gzip.mock.calls.filter(([data]) => data.includes('kube_balance_up'))).toHaveLength(2);
  });

  it('renderParts() hands out the cached page bytes themselves, not a copy, until the next update()', async () => {
    const { page, gauge } = setup();
    page.update(snapshot('web'));
    gauge.set(1);
    const first = await page.renderParts(false);
    gauge.set(2);
    const second = await page.renderParts(false);
    expect(first).toHaveLength(2);
    expect(second[0]).toBe(first[0]);
    expect(second[1]?.toString()).toContain('scrape_probe 2\n');
    expect(Buffer.concat(second).equals(await page.renderBody(false))).toBe(true);
    const gzipFirst = await page.renderParts(true);
    const gzipSecond = await page.renderParts(true);
    expect(gzipSecond[1]).toBe(gzipFirst[1]);
    expect(gunzipSync(Buffer.concat(gzipSecond)).equals(Buffer.concat(second))).toBe(true);

    page.update(snapshot('web'));
    expect((await page.renderParts(false))[0]).not.toBe(first[0]);
  });

  it('a page is compressed once, as it is rendered, however often and however it is scraped', async () => {
    const { page, gzip } = setup();
    const staticCalls = () => gzip.mock.calls.filter(([data]) => data.includes('kube_balance_up')).length;
    page.update(snapshot('web'));
    expect(staticCalls()).toBe(1);
    await page.renderBody(false);
    await page.renderBody(true);
    await page.renderBody(false);
    await page.renderBody(true);
    expect(staticCalls()).toBe(1);
  });

  it('holds the page compressed; the first plain scrape inflates it and later plain scrapes reuse that copy', async () => {
    const { page } = setup();
    page.update(snapshot('web'));
    const gzipped = await page.renderBody(true); // waits for the compression
    const { plainBytes, heldBytes } = page.pageSize();
    expect(plainBytes).toBeGreaterThan(0);
    expect(heldBytes).toBeLessThan(plainBytes);
    const first = await page.renderParts(false);
    const second = await page.renderParts(false);
    expect(second[0]).toBe(first[0]);
    expect(Buffer.concat(second).equals(gunzipSync(gzipped))).toBe(true);
    expect(page.pageSize().heldBytes).toBe(heldBytes + plainBytes);
    page.update(snapshot('web'));
    expect(page.pageSize().heldBytes).toBeLessThanOrEqual(plainBytes);
  });

  it('before the first update() the body is only the registry, gzip or not', async () => {
    const { page, gauge } = setup();
    gauge.set(3);
    const plain = await page.renderBody(false);
    expect(plain.toString()).not.toContain('kube_balance_');
    expect(plain.toString()).toContain('scrape_probe 3\n');
    expect(gunzipSync(await page.renderBody(true)).equals(plain)).toBe(true);
  });

  it('a failed compression is not cached: the part stays plain, plain scrapes work, the next gzip scrape tries again', async () => {
    const registry = new Registry();
    let failing = true;
    const deflate = vi.fn(async (data: Buffer, final: boolean) => {
      if (failing && data.includes('kube_balance_up')) throw new Error('zlib broke');
      return realDeflate(data, final);
    });
    const page = createMetricsPage({ ...BASE, registry, deflate });
    page.update(snapshot('web'));
    await expect(page.renderBody(true)).rejects.toThrow('zlib broke');
    const plain = await page.renderBody(false);
    expect(plain.toString()).toContain('kube_balance_up');
    failing = false;
    expect(gunzipSync(await page.renderBody(true)).equals(plain)).toBe(true);
  });
});
