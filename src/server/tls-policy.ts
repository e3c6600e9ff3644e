/** The TLS side of the server: swapping certificates and client-auth policy in place, and checking client certificates like Go's crypto/tls. */
import { randomBytes } from 'node:crypto';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { silentLogger, type Logger } from '../logger-types.js';
import { clientCertPolicy, secureContextOptions, type TlsServerSettings } from './web-config.js';

/** Options for https.createServer / setSecureContext, fresh session keys included. */
export function tlsServerOptions(settings: TlsServerSettings): ReturnType<typeof secureContextOptions> & {
  sessionIdContext: string;
  ticketKeys: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
} {
  return {
    ...secureContextOptions(settings),
    // New keys per config: a session resumed from before a reload must not skip a client-certificate
    // requirement the new config added.
    sessionIdContext: randomBytes(16).toString('hex'),
    ticketKeys: randomBytes(48),
    ...clientCertPolicy(settings.clientAuthType),
  };
}

/**
 * Applies `settings` to a running HTTPS server: new connections get the new certificate, CA and
 * versions (setSecureContext) and client-auth policy (requestCert / rejectUnauthorized are read per
 * connection by node:tls). Established connections keep their handshake, but every request is still
 * checked against the current settings (see checkClientCertificate).
 */
export function applyTlsSettings(server: HttpsServer, settings: TlsServerSettings): void {
  const { requestCert, rejectUnauthorized, ...context } = tlsServerOptions(settings);
  server.setSecureContext(context);
  // Public fields of tls.Server that @types/node does not declare.
  const mutable = server as HttpsServer & { requestCert: boolean; rejectUnauthorized: boolean };
  mutable.requestCert = requestCert;
  mutable.rejectUnauthorized = rejectUnauthorized;
}

/** Subject alternative names of a peer certificate (`DNS:a, IP Address:1.2.3.4, URI:…`) without their type prefixes. */
export function subjectAltNames(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  return text.split(/,\s*/).map((entry) => {
    const colon = entry.indexOf(':');
    const value = colon < 0 ? entry : entry.slice(colon + 1);
    return value.replace(/^"(.*)"$/, '$1');
  });
}

/**
 * Why this connection's client certificate is not acceptable under `settings`, or null when it is.
 * Matches Go's tls.ClientAuthType: RequireAny wants some certificate, VerifyIfGiven wants a given one
 * to verify, RequireAndVerify wants both (OpenSSL already enforced that during the handshake).
 */
export function checkClientCertificate(socket: TLSSocket, settings: TlsServerSettings): string | null {
  const type = settings.clientAuthType;
  if (type === 'NoClientCert' || type === 'RequestClientCert') return null;
  const cert = socket.getPeerCertificate();
  const present = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
  if (!present) {
    return type === 'VerifyClientCertIfGiven' ? null : 'no client certificate was presented';
  }
  if ((type === 'VerifyClientCertIfGiven' || type === 'RequireAndVerifyClientCert') && !socket.authorized) {
    return `client certificate not verified by client_ca: ${String(socket.authorizationError)}`;
  }
  if (settings.clientAllowedSans !== null) {
    const sans = subjectAltNames(cert.subjectaltname);
    if (!sans.some((san) => settings.clientAllowedSans?.includes(san))) {
      return `client certificate SANs ${JSON.stringify(sans)} match none of client_allowed_sans`;
    }
  }
  return null;
}

const PLAIN_HTTP_RESPONSE =
  'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

/**
 * Wires the per-connection checks onto an HTTPS server: a client certificate the current settings
 * refuse closes the connection before any request is read; a plain-HTTP request gets Go's 400 answer
 * instead of a silent reset, so a misconfigured scraper says what is wrong.
 */
export function installTlsPolicy(server: HttpsServer, current: () => TlsServerSettings | null, logger: Logger = silentLogger): void {
  server.on('secureConnection', (socket: TLSSocket) => {
    const settings = current();
    if (settings === null) return;
    const problem = checkClientCertificate(socket, settings);
    if (problem !== null) {
      logger.debug('TLS client refused', { remote: socket.remoteAddress, reason: problem });
      socket.destroy();
    }
  });
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    logger.debug('TLS handshake failed', { remote: socket.remoteAddress, error: error.message.split('\n')[0], code: error.code });
    // The raw TCP socket under the TLS wrapper: the only way to answer in plain text.
    const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
    if (error.code === 'ERR_SSL_HTTP_REQUEST' && raw !== undefined && raw.writable) raw.end(PLAIN_HTTP_RESPONSE);
    else socket.destroy();
  });
}
