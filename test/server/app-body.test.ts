/** The app with a real MetricsPage: bytes from renderBody(), gzip as concatenated members, Content-Length, HEAD. */
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsPage } from '../../src/metrics/metrics-page.js';
import { createApp } from '../../src/server/app.js';
import { listen, type RunningServer } from '../../src/server/listen.js';
import { buildSnapshot } from '../metrics/snapshot-builder.js';

let running: RunningServer | null = null;
afterEach(async () => {
  await running?.close();
  running = null;
});

function raw(url: string, method: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('createApp with a MetricsPage', () => {
  it('serves the same page plain and gzipped, with Content-Length, and HEAD without a body', async () => {
    const registry = new Registry();
    // A constant registry part, so consecutive scrapes have identical bodies.
    new Gauge({ name: 'scrape_probe', help: 'constant here', registers: [registry] }).set(5);
    const page = createMetricsPage({ windowSeconds: 300, version: '1.2.3', revision: 'deadbee', nodejsVersion: 'v20.0.0', registry });
    page.update(
      buildSnapshot({ ladders: [{ name: { namespace: 'shop', service: 'wéb', port: 'http' }, endpoints: [{ endpoint: '10.0.0.1:80', total: 3, window: 1 }] }] }),
    );
    running = await listen(createApp({ page, isReady: () => true }), '127.0.0.1:0');
    const url = `http://127.0.0.1:${running.address.port}/metrics`;

    const plain = await raw(url, 'GET', {});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe(page.contentType);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-length']).toBe(String(plain.body.length));
    expect(plain.body.toString('utf8')).toBe(await page.render());

    const gz = await raw(url, 'GET', { 'accept-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    expect(gz.headers['content-type']).toBe(page.contentType);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('Accept-Encoding');
    expect(gz.headers['content-length']).toBe(String(gz.body.length));
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);

    const head = await raw(url, 'HEAD', {});
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-type']).toBe(page.contentType);
    expect(head.headers['content-length']).toBe(String(plain.body.length));

    const headGz = await raw(url, 'HEAD', { 'accept-encoding': 'gzip' });
    expect(headGz.body.length).toBe(0);
    expect(headGz.headers['content-encoding']).toBe('gzip');
    expect(headGz.headers['content-length']).toBe(String(gz.body.length));
  });
});

describe('createApp while the page renders in slices', () => {
  it('a scrape during a render gets the previous complete page; the next one after it the new page', async () => {
    const paused: (() => void)[] = [];
    const page = createMetricsPage({
      windowSeconds: 300,
      version: '1.2.3',
      revision: 'deadbee',
      nodejsVersion: 'v20.0.0',
      registry: new Registry(),
      sliceMs: 0,
      yieldTurn: () => new Promise<void>((resolve) => paused.push(resolve)),
    });
    const snapshot = (tag: string) =>
      buildSnapshot({
        ladders: Array.from({ length: 50 }, (_, i) => ({
          name: { namespace: 'shop', service: `${tag}-${i}`, port: 'http' },
          endpoints: [{ endpoint: `10.0.${i}.1:80`, total: i, window: 1 }],
        })),
      });
    page.update(snapshot('old'));
    running = await listen(createApp({ page, isReady: () => true }), '127.0.0.1:0');
    const url = `http://127.0.0.1:${running.address.port}/metrics`;
    const before = (await raw(url, 'GET', {})).body;

    const done = page.schedule(snapshot('new'));
    // The render is paused between two of its slices while these scrapes are served.
    expect(paused.length).toBe(1);
    for (let i = 0; i < 5; i++) {
      paused.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
      expect((await raw(url, 'GET', {})).body.equals(before)).toBe(true);
      expect(gunzipSync((await raw(url, 'GET', { 'accept-encoding': 'gzip' })).body).equals(before)).toBe(true);
    }
    while (paused.length > 0) {
      paused.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await done).status).toBe('shown');
    const after = (await raw(url, 'GET', {})).body.toString('utf8');
    expect(after).toContain('service="new-49"');
    expect(after).not.toContain('service="old-');
  });
});
