/** Minimal node:http / node:https client for tests: one fresh connection per request, the TLS peer certificate reported back. */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface TestResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Serial number of the server certificate (HTTPS only). */
  readonly serverSerial: string | null;
  readonly protocol: string | null;
}

export interface TestRequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** user:password for basic auth. */
  readonly auth?: string;
  /** PEM texts for https. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export function get(url: string, options: TestRequestOptions = {}): Promise<TestResponse> {
  const secure = url.startsWith('https:');
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: options.method ?? 'GET',
        agent: false,
        headers: options.headers ?? {},
        ...(options.auth !== undefined ? { auth: options.auth } : {}),
        ...(secure
          ? {
              ...(options.ca !== undefined ? { ca: options.ca } : {}),
              ...(options.cert !== undefined ? { cert: options.cert, key: options.key } : {}),
              ...(options.minVersion ? { minVersion: options.minVersion } : {}),
              ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
            }
          : {}),
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const serverSerial = secure ? (socket.getPeerCertificate?.().serialNumber ?? null) : null;
        const protocol = secure ? (socket.getProtocol?.() ?? null) : null;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, serverSerial, protocol }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes over plain TCP and returns everything the server wrote before closing. */
export function rawExchange(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}
