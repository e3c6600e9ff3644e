/** The express app: `/`, the metrics page (gzip when asked), `/-/healthy`, `/-/ready`; GET and HEAD only, at most --web.max-requests at once. */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { silentLogger, type Logger } from '../logger-types.js';
import { renderLandingPage, type LandingPageInfo } from './landing-page.js';

const gzip = promisify(gzipCallback);

/** What the app needs from the metrics page (src/metrics/metrics-page.ts). */
export interface PageSource {
  render(): Promise<string>;
  /**
   * The body as byte parts sent back to back, gzipped when asked (MetricsPage caches the kube_balance_*
   * part and its gzip member per update, so a scrape copies no page). Optional: without it the app
   * encodes and gzips render() per request.
   */
  renderParts?(gzip: boolean): Promise<readonly Buffer[]>;
  readonly contentType: string;
}

async function bodyOf(page: PageSource, gzipped: boolean): Promise<readonly Buffer[]> {
  if (page.renderParts) return page.renderParts(gzipped);
  const text = Buffer.from(await page.render(), 'utf8');
  return [gzipped ? await gzip(text) : text];
}

export interface CreateAppOptions {
  readonly page: PageSource;
  /** /-/ready answers 200 once this is true (after the first good sample). */
  readonly isReady: () => boolean;
  /** --web.telemetry-path (default /metrics). */
  readonly telemetryPath?: string;
  readonly landingPage?: LandingPageInfo;
  readonly logger?: Logger;
  /**
   * --web.max-requests: requests in flight beyond this get 503 (0 = no limit; default 40, like
   * node_exporter's). Health checks are not counted, so a scrape storm cannot fail the kubelet's probes.
   */
  readonly maxRequests?: number;
  /** Runs after the limit and before routing: the web config's headers, client-cert check and basic auth. */
  readonly gate?: (req: Request, res: Response, next: NextFunction) => Promise<void> | void;
}

const HEALTH_PATHS = new Set(['/-/healthy', '/-/ready']);

type Handler = (req: Request, res: Response) => Promise<void> | void;

const ALLOWED_METHODS = 'GET, HEAD';

/** True when the client accepts gzip (`gzip` listed without `q=0`). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().split(';');
    if (coding?.trim().toLowerCase() !== 'gzip' && coding?.trim() !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

export function createApp(options: CreateAppOptions): Express {
  const telemetryPath = options.telemetryPath ?? '/metrics';
  const logger = options.logger ?? silentLogger;
  const landing = renderLandingPage(options.landingPage ?? {}, telemetryPath);

  // Exact paths, looked up in a Map: no path patterns, so a telemetry path with `:` or `*` means itself.
  const routes = new Map<string, Handler>();
  routes.set('/', (_req, res) => {
    res.type('html').send(landing);
  });
  routes.set('/-/healthy', (_req, res) => {
    res.type('text/plain').send('Healthy.\n');
  });
  routes.set('/-/ready', (_req, res) => {
    if (options.isReady()) res.type('text/plain').send('Ready.\n');
    else res.status(503).type('text/plain').send('Not ready: no successful sample yet.\n');
  });
  routes.set(telemetryPath, async (req, res) => {
    const gzipped = acceptsGzip(req.get('accept-encoding'));
    // HEAD builds the body too, so its Content-Length is the one GET would send.
    const parts = await bodyOf(options.page, gzipped);
    res.setHeader('Content-Type', options.page.contentType);
    res.setHeader('Vary', 'Accept-Encoding');
    if (gzipped) res.setHeader('Content-Encoding', 'gzip');
    res.setHeader('Content-Length', parts.reduce((sum, part) => sum + part.length, 0));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // Written as they are (no Buffer.concat): the cached page part is not copied per scrape.
    for (const part of parts) res.write(part);
    res.end();
  });

  const maxRequests = options.maxRequests ?? 40;
  let inFlight = 0;

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (maxRequests <= 0 || HEALTH_PATHS.has(req.path)) return next();
    if (inFlight >= maxRequests) {
      res.status(503).set('Retry-After', '1').type('text/plain').send(`Limit of concurrent requests reached (${maxRequests}), try again later.\n`);
      return;
    }
    inFlight++;
    // 'close' fires once whether the response finished or the client went away.
    res.once('close', () => inFlight--);
    next();
  });
  if (options.gate) {
    const gate = options.gate;
    app.use(async (req: Request, res: Response, next: NextFunction) => {
      try {
        await gate(req, res, next);
      } catch (error) {
        next(error);
      }
    });
  }
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    const handler = routes.get(req.path);
    if (handler === undefined) {
      res.status(404).type('text/plain').send('Not found.\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.status(405).set('Allow', ALLOWED_METHODS).type('text/plain').send('Method not allowed: use GET or HEAD.\n');
      return;
    }
    try {
      await handler(req, res);
    } catch (error) {
      next(error);
    }
  });
  // Last: never send a stack trace to a client.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    logger.error('request failed', { path: req.path, error: String(error) });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(500).type('text/plain').send('Internal error; see the exporter log.\n');
  });
  return app;
}
