/** `--web.listen-address` parsing (`host:port`, `:port`, `[::1]:port`) and starting the HTTP(S) server with limits and clear errors. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { RequestListener } from 'node:http';
import { silentLogger, type Logger } from '../logger-types.js';
import { applyTlsSettings, installTlsPolicy, tlsServerOptions } from './tls-policy.js';
import type { TlsServerSettings } from './web-config.js';

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
  readonly server: Server | HttpsServer;
  /** True when serving HTTPS (fixed for the server's life: switching needs a restart). */
  readonly tls: boolean;
  /**
   * Swaps certificate, CA, versions and client-auth policy without a restart (HTTPS servers only;
   * throws on a plain HTTP server). Connections already open keep their handshake.
   */
  setTls(settings: TlsServerSettings): void;
  /** The bound address (port resolved when 0 was asked for). */
  readonly address: ListenAddress;
  /** Stops accepting, closes idle keep-alive connections now and all others after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export interface ListenOptions {
  /**
   * Slow clients cannot hold a connection open forever: the whole header block must arrive within
   * headersTimeoutMs (10 s) and the whole request within requestTimeoutMs (60 s) of its first byte
   * (Node checks both every connectionsCheckingIntervalMs, 1 s); a connection that sends nothing at
   * all is closed after headersTimeoutMs too; an idle keep-alive connection after keepAliveTimeoutMs
   * (5 s); a response the client does not read after responseTimeoutMs (2 min), which also frees its
   * --web.max-requests slot; a TLS handshake after handshakeTimeoutMs (10 s).
   */
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly responseTimeoutMs?: number;
  readonly handshakeTimeoutMs?: number;
  readonly connectionsCheckingIntervalMs?: number;
  /** Open connections beyond this are closed on accept (default 512, Prometheus' --web.max-connections). */
  readonly maxConnections?: number;
  /** Serve HTTPS with these settings (from --web.config.file). */
  readonly tls?: TlsServerSettings | null;
  readonly logger?: Logger;
}

export async function listen(handler: RequestListener, addressText: string, options: ListenOptions = {}): Promise<RunningServer> {
  const address = parseListenAddress(addressText);
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? 60_000, headersTimeout);
  const serverOptions = {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    connectionsCheckingInterval: options.connectionsCheckingIntervalMs ?? 1_000,
  };
  let tlsSettings = options.tls ?? null;
  let server: Server | HttpsServer;
  if (tlsSettings !== null) {
    const https = createHttpsServer(
      { ...serverOptions, ...tlsServerOptions(tlsSettings), handshakeTimeout: options.handshakeTimeoutMs ?? 10_000 },
      handler,
    );
    installTlsPolicy(https, () => tlsSettings, options.logger ?? silentLogger);
    server = https;
  } else {
    server = createServer(serverOptions, handler);
  }
  server.headersTimeout = serverOptions.headersTimeout;
  server.requestTimeout = serverOptions.requestTimeout;
  server.keepAliveTimeout = serverOptions.keepAliveTimeout;
  server.maxConnections = options.maxConnections ?? 512;
  limitSilentConnections(server, headersTimeout);
  limitResponseTime(server, options.responseTimeoutMs ?? 120_000);

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
    tls: tlsSettings !== null,
    setTls(settings) {
      if (tlsSettings === null) throw new Error('this server speaks plain HTTP: enabling TLS needs a restart');
      applyTlsSettings(server as HttpsServer, settings);
      tlsSettings = settings;
    },
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

/**
 * Node's headersTimeout only starts with a request's first byte, and a socket idle timeout does not
 * fire once the HTTP parser has taken over the socket (Node 20), so a client that connects and sends
 * nothing would hold its connection forever. Close it if no request arrived in time.
 */
function limitSilentConnections(server: Server | HttpsServer, timeoutMs: number): void {
  const answered = new WeakSet<Socket>();
  server.on('request', (req: IncomingMessage) => {
    const socket = req.socket as Socket & { _parent?: Socket };
    answered.add(socket._parent ?? socket);
  });
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      if (!answered.has(socket)) socket.destroy();
    }, timeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

/** A response not delivered within `timeoutMs` (a client that stopped reading) loses its connection. */
function limitResponseTime(server: Server | HttpsServer, timeoutMs: number): void {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const timer = setTimeout(() => req.socket.destroy(), timeoutMs);
    timer.unref();
    res.once('close', () => clearTimeout(timer));
  });
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
