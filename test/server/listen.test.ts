import { describe, expect, it } from 'vitest';
import { formatListenAddress, listen, ListenError, parseListenAddress } from '../../src/server/listen.js';

describe('parseListenAddress', () => {
  it.each([
    [':10090', undefined, 10090],
    ['0.0.0.0:9100', '0.0.0.0', 9100],
    ['localhost:80', 'localhost', 80],
    ['[::1]:10090', '::1', 10090],
    ['[::]:0', '::', 0],
  ])('%s', (text, host, port) => {
    expect(parseListenAddress(text)).toEqual({ host, port });
  });

  it.each([
    ['10090', 'missing :port'],
    [':', 'port must be a number'],
    [':http', 'port must be a number'],
    [':70000', 'at most 65535'],
    ['::1:80', 'IPv6 addresses must be in brackets'],
    ['[::1]80', 'missing :port after ]'],
    ['[::1:80', 'missing ]'],
    ['[127.0.0.1]:80', 'brackets are for IPv6'],
  ])('rejects %s: %s', (text, why) => {
    expect(() => parseListenAddress(text)).toThrow(why);
    try {
      parseListenAddress(text);
    } catch (error) {
      expect(error).toBeInstanceOf(ListenError);
      expect((error as ListenError).code).toBe('INVALID_ADDRESS');
    }
  });

  it('formats back', () => {
    expect(formatListenAddress({ host: '::1', port: 1 })).toBe('[::1]:1');
    expect(formatListenAddress({ host: undefined, port: 10090 })).toBe(':10090');
  });
});

describe('listen', () => {
  it('binds port 0 and reports the real port', async () => {
    const server = await listen((_req, res) => res.end('ok'), '127.0.0.1:0');
    try {
      expect(server.address.port).toBeGreaterThan(0);
      expect(await (await fetch(`http://127.0.0.1:${server.address.port}/`)).text()).toBe('ok');
    } finally {
      await server.close();
    }
  });

  it('EADDRINUSE becomes a clear ListenError', async () => {
    const first = await listen((_req, res) => res.end(), '127.0.0.1:0');
    try {
      const error = await listen((_req, res) => res.end(), `127.0.0.1:${first.address.port}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ListenError);
      expect((error as ListenError).code).toBe('ADDRESS_IN_USE');
      expect((error as ListenError).message).toContain('address already in use');
    } finally {
      await first.close();
    }
  });

  it('close() does not wait for idle keep-alive connections', async () => {
    const server = await listen((_req, res) => res.end('ok'), '127.0.0.1:0');
    await fetch(`http://127.0.0.1:${server.address.port}/`, { keepalive: true }).then((r) => r.text());
    await server.close(60_000);
    expect(server.server.listening).toBe(false);
  });

  it('sets slow-client limits', async () => {
    const server = await listen((_req, res) => res.end(), '127.0.0.1:0');
    try {
      expect(server.server.headersTimeout).toBe(10_000);
      expect(server.server.requestTimeout).toBe(60_000);
    } finally {
      await server.close();
    }
  });
});
