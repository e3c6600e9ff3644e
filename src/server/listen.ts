/** `--web.listen-address` parsing (`host:port`, `:port`, `[::1]:port`) and starting the HTTP server with clear errors. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';

export interface ListenAddress {
  /** undefined = all interfaces (IPv6 and IPv4 where available). */
  readonly host: string | undefined;
  readonly port: number;
}

export type ListenErrorCode = 'INVALID_ADDRESS' | 'ADDRESS_IN_USE' | 'PERMISSION' | 'ADDRESS_NOT_AVAILABLE' | 'LISTEN';

export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    readonly code: ListenErrorCode,
    message: string,
    readonly address: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Parses `host:port`, `:port` or `[v6]:port`; throws ListenError INVALID_ADDRESS naming the problem. */
export function parseListenAddress(text: string): ListenAddress {
  const invalid = (why: string): ListenError =>
    new ListenError('INVALID_ADDRESS', `invalid --web.listen-address ${JSON.stringify(text)}: ${why} (expected host:port, :port or [::1]:port)`, text);
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw invalid('missing ]');
    host = text.slice(1, close);
    if (text[close + 1] !== ':') throw invalid('missing :port after ]');
    portText = text.slice(close + 2);
    if (!host.includes(':')) throw invalid('brackets are for IPv6 addresses');
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) throw invalid('missing :port');
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) throw invalid('IPv6 addresses must be in brackets');
  }
  if (!/^\d{1,5}$/.test(portText)) throw invalid('port must be a number');
  const port = Number(portText);
  if (port > 65535) throw invalid('port must be at most 65535');
  if (/[\s/]/.test(host)) throw invalid('bad host');
  return { host: host === '' ? undefined : host, port };
}

export function formatListenAddress(address: ListenAddress): string {
  const host = address.host ?? '';
  return `${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

export interface RunningServer {
  readonly server: Server;
  /** The bound address (port resolved when 0 was asked for). */
  readonly address: ListenAddress;
  /** Stops accepting, closes idle keep-alive connections now and all others after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export interface ListenOptions {
  /** Slow clients cannot hold a connection open forever (defaults: 10 s for headers, 60 s per request). */
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
}

export async function listen(handler: RequestListener, addressText: string, options: ListenOptions = {}): Promise<RunningServer> {
  const address = parseListenAddress(addressText);
  const server = createServer(handler);
  server.headersTimeout = options.headersTimeoutMs ?? 10_000;
  server.requestTimeout = options.requestTimeoutMs ?? 60_000;
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(describeListenError(error, addressText));
    server.once('error', onError);
    server.listen({ port: address.port, ...(address.host !== undefined ? { host: address.host } : {}) }, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const bound = server.address() as AddressInfo;
  return {
    server,
    address: { host: address.host === undefined ? undefined : bound.address, port: bound.port },
    close(graceMs = 5_000) {
      return new Promise<void>((resolve, reject) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close((error) => {
          clearTimeout(force);
          if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}

function describeListenError(error: NodeJS.ErrnoException, address: string): ListenError {
  switch (error.code) {
    case 'EADDRINUSE':
      return new ListenError('ADDRESS_IN_USE', `cannot listen on ${address}: address already in use (another exporter on this node? pick another --web.listen-address)`, address, { cause: error });
    case 'EACCES':
      return new ListenError('PERMISSION', `cannot listen on ${address}: permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)`, address, { cause: error });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError('ADDRESS_NOT_AVAILABLE', `cannot listen on ${address}: no such local address (${error.code})`, address, { cause: error });
    default:
      return new ListenError('LISTEN', `cannot listen on ${address}: ${error.message}`, address, { cause: error });
  }
}
