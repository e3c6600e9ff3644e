import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptsGzip, createApp, type PageSource } from '../../src/server/app.js';
import { escapeHtml } from '../../src/server/landing-page.js';
import { listen, type RunningServer } from '../../src/server/listen.js';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const PAGE = '# HELP kube_balance_up Whether the last sample worked.\n# TYPE kube_balance_up gauge\nkube_balance_up 1\n';

let running: RunningServer | null = null;
afterEach(async () => {
  await running?.close();
  running = null;
});

async function start(options: { ready?: () => boolean; page?: PageSource; telemetryPath?: string; name?: string } = {}) {
  const app = createApp({
    page: options.page ?? { contentType: CONTENT_TYPE, render: async () => PAGE },
    isReady: options.ready ?? (() => true),
    ...(options.telemetryPath ? { telemetryPath: options.telemetryPath } : {}),
    landingPage: { ...(options.name ? { name: options.name } : {}), version: '1.2.3' },
  });
  running = await listen(app, '127.0.0.1:0');
  return `http://127.0.0.1:${running.address.port}`;
}

/** Raw request: fetch() always asks for and transparently decodes gzip, so the compressed body is checked here. */
function raw(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('createApp', () => {
  it('serves the metrics page with the exact Prometheus content type', async () => {
    const base = await start();
    const res = await raw(`${base}/metrics`, {});
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(CONTENT_TYPE);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.body.toString()).toBe(PAGE);
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('gzips when the client accepts it', async () => {
    const base = await start();
    const res = await raw(`${base}/metrics`, { 'accept-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['content-type']).toBe(CONTENT_TYPE);
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(gunzipSync(res.body).toString()).toBe(PAGE);
  });

  it('does not gzip for gzip;q=0', async () => {
    const base = await start();
    const res = await raw(`${base}/metrics`, { 'accept-encoding': 'gzip;q=0, identity' });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.body.toString()).toBe(PAGE);
  });

  it('HEAD gets the headers and no body', async () => {
    const base = await start();
    const res = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(CONTENT_TYPE);
    expect(await res.text()).toBe('');
  });

  it('honours a custom telemetry path literally', async () => {
    const base = await start({ telemetryPath: '/x/metrics:raw' });
    expect((await fetch(`${base}/x/metrics:raw`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it('/-/ready is 503 before the first good sample and 200 after; /-/healthy is always 200', async () => {
    let ready = false;
    const base = await start({ ready: () => ready });
    expect((await fetch(`${base}/-/ready`)).status).toBe(503);
    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
    ready = true;
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
  });

  it('404 for other paths, 405 with Allow for other methods', async () => {
    const base = await start();
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics/`)).status).toBe(404);
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await fetch(`${base}/metrics`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  it('the landing page links metrics and health, escaped', async () => {
    const base = await start({ name: '<script>alert(1)</script>' });
    const res = await fetch(`${base}/`);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('href="/metrics"');
    expect(html).toContain('href="/-/healthy"');
    expect(html).toContain('href="/-/ready"');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });

  it('a failing render is a 500 without a stack trace, and the server keeps serving', async () => {
    let fail = true;
    const base = await start({
      page: {
        contentType: CONTENT_TYPE,
        render: async () => {
          if (fail) throw new Error('secret internals at /src/x.ts:1');
          return PAGE;
        },
      },
    });
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('secret');
    fail = false;
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});

describe('acceptsGzip', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['deflate, gzip;q=1.0, *;q=0.5', true],
    ['gzip;q=0', false],
    ['br', false],
    ['*', true],
  ])('%s → %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});
