/** HTTP limits: concurrent requests, slow clients, methods and paths, and the cost of basic auth. */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BasicAuthenticator, parseBasicAuthorization } from '../../src/server/basic-auth.js';
import { createApp, type PageSource } from '../../src/server/app.js';
import { listen, type RunningServer } from '../../src/server/listen.js';
import { eventually } from './support/exporter-config.js';
import { get } from './support/http-client.js';

let server: RunningServer | null = null;
afterEach(async () => {
  await server?.close(0);
  server = null;
});

/** A page whose render() waits until released: requests pile up in flight. */
function blockingPage(): PageSource & { readonly waiting: number; release(): void } {
  let waiters: Array<() => void> = [];
  return {
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    get waiting() {
      return waiters.length;
    },
    render: () => new Promise<string>((resolve) => waiters.push(() => resolve('kube_balance_up 1\n'))),
    release() {
      for (const w of waiters) w();
      waiters = [];
    },
  };
}

describe('--web.max-requests', () => {
  it('answers 503 beyond the limit, never counts health checks, and recovers', async () => {
    const page = blockingPage();
    server = await listen(createApp({ page, isReady: () => true, maxRequests: 2 }), '127.0.0.1:0');
    const base = `http://127.0.0.1:${server.address.port}`;
    const first = [get(`${base}/metrics`), get(`${base}/metrics`)];
    await eventually(() => page.waiting === 2);
    const over = await get(`${base}/metrics`);
    expect(over.status).toBe(503);
    expect(over.body).toBe('Limit of concurrent requests reached (2), try again later.\n');
    expect(over.headers['retry-after']).toBe('1');
    // The kubelet's probes still pass during a scrape storm.
    expect((await get(`${base}/-/healthy`)).status).toBe(200);
    expect((await get(`${base}/-/ready`)).status).toBe(200);
    page.release();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    const after = get(`${base}/metrics`);
    await eventually(() => page.waiting === 1);
    page.release();
    expect((await after).status).toBe(200);
  });

  it('a client that goes away frees its slot', async () => {
    const page = blockingPage();
    server = await listen(createApp({ page, isReady: () => true, maxRequests: 1 }), '127.0.0.1:0');
    const port = server.address.port;
    const socket = connect(port, '127.0.0.1', () => socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'));
    await eventually(() => page.waiting === 1);
    expect((await get(`http://127.0.0.1:${port}/metrics`)).status).toBe(503);
    socket.destroy();
    await eventually(async () => {
      const before = page.waiting;
      const response = get(`http://127.0.0.1:${port}/metrics`);
      const outcome = await Promise.race([response.then((r) => r.status), eventually(() => page.waiting > before).then(() => 'in flight' as const)]);
      if (outcome !== 'in flight') return false;
      page.release();
      return (await response).status === 200;
    });
  });

  it('a client that never reads its response loses the connection and frees its slot', async () => {
    const big: PageSource = { contentType: 'text/plain', render: async () => 'x'.repeat(16 << 20) };
    server = await listen(createApp({ page: big, isReady: () => true, maxRequests: 1 }), '127.0.0.1:0', { responseTimeoutMs: 1500 });
    const port = server.address.port;
    const reader = connect(port, '127.0.0.1', () => {
      reader.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      // Never reads: 16 MiB cannot fit in the socket buffers, so the response cannot finish.
      reader.pause();
    });
    reader.on('error', () => undefined);
    let sawBusy = false;
    await eventually(async () => {
      const status = await get(`http://127.0.0.1:${port}/metrics`).then((r) => r.status, () => 0);
      if (status === 503) sawBusy = true;
      return status === 200;
    });
    expect(sawBusy).toBe(true);
    reader.destroy();
  });
});

/** Writes `text` one byte at a time with a pause; stops when the server closes. Resolves to bytes sent and what came back. */
function dribble(port: number, text: string, pauseMs: number): Promise<{ sent: number; response: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    let sent = 0;
    let response = '';
    let closed = false;
    const socket: Socket = connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      resolve({ sent, response, closedByServer: sent < text.length });
    });
    const tick = (): void => {
      if (closed) return;
      if (sent >= text.length) {
        socket.end();
        return;
      }
      socket.write(text[sent] ?? '');
      sent++;
      setTimeout(tick, pauseMs);
    };
    socket.on('connect', tick);
  });
}

describe('slow clients', () => {
  const SHORT = { headersTimeoutMs: 300, requestTimeoutMs: 300, connectionsCheckingIntervalMs: 50, keepAliveTimeoutMs: 200, responseTimeoutMs: 400 };

  it('slowloris: headers sent byte by byte are cut off by headersTimeout', async () => {
    server = await listen(createApp({ page: blockingPage(), isReady: () => true }), '127.0.0.1:0', SHORT);
    // ~1,000 header bytes at one per 20 ms would hold the connection for 20 s; the server stops it early.
    const request = `GET /-/healthy HTTP/1.1\r\nHost: x\r\n${'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(20)}\r\n`;
    const result = await dribble(server.address.port, request, 20);
    expect(result.closedByServer).toBe(true);
    expect(result.sent).toBeLessThan(request.length);
    expect(result.response === '' || result.response.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('a client that connects and says nothing is disconnected', async () => {
    server = await listen(createApp({ page: blockingPage(), isReady: () => true }), '127.0.0.1:0', SHORT);
    const port = server.address.port;
    const closed = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      // Read whatever comes: the silent-connection timer closes without a word, but node's own
      // headersTimeout check can get there first and write a 408 before it closes, and a socket whose
      // data is never read never emits 'end' or 'close' (1 run in ~50 hung until the test timed out).
      socket.resume();
      socket.on('close', () => resolve(true));
    });
    expect(closed).toBe(true);
  });

  it('a slow request body is cut off by requestTimeout', async () => {
    server = await listen(createApp({ page: blockingPage(), isReady: () => true }), '127.0.0.1:0', SHORT);
    const request = `GET /-/healthy HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n${'a'.repeat(500)}`;
    const result = await dribble(server.address.port, request, 10);
    expect(result.closedByServer).toBe(true);
  });
});

describe('methods and paths', () => {
  it('only GET and HEAD on known paths', async () => {
    server = await listen(createApp({ page: { contentType: 'text/plain', render: async () => 'x 1\n' }, isReady: () => true }), '127.0.0.1:0');
    const base = `http://127.0.0.1:${server.address.port}`;
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
      const r = await get(`${base}/metrics`, { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
    expect((await get(`${base}/metrics`, { method: 'HEAD' })).status).toBe(200);
    for (const path of ['/metrics/', '/metrics/../metrics2', '/debug/pprof', '/%2e%2e/etc/passwd', '/-/reload', '/-/quit']) {
      expect((await get(`${base}${path}`)).status, path).toBe(404);
    }
  });
});

describe('basic auth cost', () => {
  const HASH = '$2b$04$7yWBwadV93jSyvbtvMkJReNK/egZtKEtiPfuo4v.8xoUCaLsB//Vu'; // s3cret
  const header = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('pays bcrypt once per (user, password) for the life of the config; failures are never cached', async () => {
    let compares = 0;
    const auth = new BasicAuthenticator(new Map([['prometheus', HASH]]), {
      compare: async (password, hash) => {
        compares++;
        return (await import('bcryptjs')).default.compare(password, hash);
      },
    });
    for (let i = 0; i < 5; i++) expect(await auth.check(header('prometheus', 's3cret'))).toBe('ok');
    expect(compares).toBe(1);
    expect(await auth.check(header('prometheus', 'wrong'))).toBe('denied');
    expect(await auth.check(header('prometheus', 'wrong'))).toBe('denied');
    expect(compares).toBe(3);
    // An unknown user still costs one comparison (against a decoy hash): timing does not reveal user names.
    expect(await auth.check(header('nobody', 's3cret'))).toBe('denied');
    expect(compares).toBe(4);
    // A new config (a new authenticator) starts with an empty cache.
    const reloaded = new BasicAuthenticator(new Map([['prometheus', HASH]]), { compare: async () => (compares++, true) });
    await reloaded.check(header('prometheus', 's3cret'));
    expect(compares).toBe(5);
  });

  it('bounds queued comparisons: beyond maxPending the answer is busy, not more work', async () => {
    const gates: Array<() => void> = [];
    const auth = new BasicAuthenticator(new Map([['prometheus', HASH]]), {
      maxPending: 2,
      compare: () => new Promise<boolean>((resolve) => gates.push(() => resolve(false))),
    });
    const a = auth.check(header('prometheus', 'x1'));
    const b = auth.check(header('prometheus', 'x2'));
    expect(await auth.check(header('prometheus', 'x3'))).toBe('busy');
    // One comparison at a time: the second waits for the first.
    await eventually(() => gates.length === 1);
    gates.shift()?.();
    await eventually(() => gates.length === 1);
    gates.shift()?.();
    expect(await Promise.all([a, b])).toEqual(['denied', 'denied']);
  });

  it('parses the Authorization header strictly', () => {
    expect(parseBasicAuthorization(header('a', 'b:c'))).toEqual({ user: 'a', password: 'b:c' });
    expect(parseBasicAuthorization('Basic')).toBeNull();
    expect(parseBasicAuthorization(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeNull();
    expect(parseBasicAuthorization('Digest abc')).toBeNull();
    expect(parseBasicAuthorization(undefined)).toBeNull();
  });
});
