/** The web config in force (swapped whole on reload) and the request gate it implies: headers, client certificate, basic auth. */
import type { TLSSocket } from 'node:tls';
import type { NextFunction, Request, Response } from 'express';
import { BasicAuthenticator, type BasicAuthOptions } from './basic-auth.js';
import { checkClientCertificate } from './tls-policy.js';
import type { WebConfig } from './web-config.js';

interface Active {
  readonly config: WebConfig | null;
  readonly auth: BasicAuthenticator;
}

/**
 * One per server. `swap()` replaces the config and its authenticator in one assignment, so a request
 * sees either the old config or the new one, never a mix; dropping the old authenticator drops its
 * cache of successful passwords.
 */
export class WebSecurity {
  private active: Active;

  constructor(
    config: WebConfig | null,
    private readonly authOptions: BasicAuthOptions = {},
  ) {
    this.active = this.build(config);
  }

  get config(): WebConfig | null {
    return this.active.config;
  }

  swap(config: WebConfig | null): void {
    this.active = this.build(config);
  }

  private build(config: WebConfig | null): Active {
    return { config, auth: new BasicAuthenticator(config?.users ?? new Map(), this.authOptions) };
  }

  /**
   * Express middleware, first in the chain (exporter-toolkit order: headers, then auth, then the
   * handler). Applies to every path, health checks included, as the toolkit does.
   */
  gate(): (req: Request, res: Response, next: NextFunction) => Promise<void> {
    return async (req, res, next) => {
      const { config, auth } = this.active;
      if (config === null) return next();
      for (const [name, value] of Object.entries(config.headers)) res.setHeader(name, value);

      const tls = config.tls;
      const socket = req.socket as TLSSocket;
      if (tls !== null && socket.encrypted) {
        // A reload may have tightened client-auth: connections opened before it are held to the new rule.
        const problem = checkClientCertificate(socket, tls);
        if (problem !== null) {
          res.status(403).type('text/plain').send('Forbidden: client certificate required.\n');
          return;
        }
      }

      const verdict = await auth.check(req.get('authorization'));
      if (verdict === 'ok') return next();
      if (verdict === 'busy') {
        res.status(503).set('Retry-After', '1').type('text/plain').send('Too many authentication attempts in progress; try again later.\n');
        return;
      }
      res.status(401).set('WWW-Authenticate', 'Basic realm="kube-balance-exporter", charset="UTF-8"').type('text/plain').send('Unauthorized.\n');
    };
  }
}
