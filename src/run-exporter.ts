/** Wires the runtime: source (live node or --source.file) → sampler → metrics page → HTTP server. */
import type { Readable } from 'node:stream';
import { DEFAULT_ANALYSIS_OPTIONS } from './analysis/analyze.js';
import { packageVersion } from './cli/version.js';
import type { ExporterConfig } from './config.js';
import type { Logger } from './logger-types.js';
import { holdWhileRunning } from './held-while-running.js';
import { createMetricsPage, type MetricsPageOptions } from './metrics/metrics-page.js';
import { Sampler, type Clock } from './sampler.js';
import type { Snapshot } from './snapshot.js';
import { createApp } from './server/app.js';
import { ClusterWatcher } from './kube/cluster-watcher.js';
import { DISABLED_ENRICHER, watcherEnricher, type ModelEnricher } from './kube/kube-enricher.js';
import { chooseKubeConfig } from './kube/kube-config.js';
import { formatListenAddress, listen, type ListenAddress, type ListenOptions } from './server/listen.js';
import { loadWebConfig, type WebConfig } from './server/web-config.js';
import { WebConfigReloader, type ReloadResult } from './server/web-config-reloader.js';
import { WebSecurity } from './server/web-security.js';
import { createFileSource } from './source/file-sample-source.js';
import { createLiveSource } from './source/live-source.js';
import { withProxyMode } from './source/proxy-mode.js';
import { createCommandRunner, type CommandRunner } from './source/run-command.js';
import { startConntrackView } from './conntrack/start.js';
import type { SampleSource } from './source/sample-source.js';

export interface RunExporterDeps {
  readonly logger: Logger;
  /** Aborting it stops the exporter as close() does (start-up included). */
  readonly signal?: AbortSignal;
  /** Runs the save commands (default: execa; tests pass a runner with a PATH of shims). */
  readonly run?: CommandRunner;
  readonly clock?: Clock;
  /** What `--source.file=-` reads (default process.stdin). */
  readonly stdin?: Readable;
  readonly version?: string;
  readonly revision?: string;
  /** Extra metrics page options (tests: a fixed registry, nodejsVersion). */
  readonly metricsPage?: Partial<Pick<MetricsPageOptions, 'registry' | 'nodejsVersion' | 'families'>>;
  /** HTTP timeouts and limits (tests shorten them; defaults in listen.ts). */
  readonly http?: Omit<ListenOptions, 'tls' | 'logger'>;
  /** How often to stat the web config and its certificates for changes (default 5 s). */
  readonly webConfigCheckIntervalMs?: number;
  /**
   * Calls `handler` on every reload request; returns the unregister function. Default: SIGHUP, which
   * is always handled (without --web.config.file it only logs) so it never kills the exporter.
   */
  readonly onReloadSignal?: (handler: () => void) => () => void;
}

export interface ExporterHandle {
  /** Where the server listens (port resolved when 0 was asked for). */
  readonly address: ListenAddress;
  readonly sampler: Sampler;
  /** Resolves once the metrics page shows the last snapshot published (no render running or waiting). */
  pageRendered(): Promise<void>;
  /** Re-reads --web.config.file now, as SIGHUP does. */
  reloadWebConfig(): ReloadResult;
  /** Stops sampling (aborting an in-flight save), then closes the server. Idempotent. */
  close(): Promise<void>;
}

function processReloadSignal(handler: () => void): () => void {
  const listener = (): void => handler();
  process.on('SIGHUP', listener);
  return () => process.removeListener('SIGHUP', listener);
}

export async function runExporter(config: ExporterConfig, deps: RunExporterDeps): Promise<ExporterHandle> {
  const { logger } = deps;
  const version = deps.version ?? packageVersion();
  deps.signal?.throwIfAborted();
  const webConfigFile = config.web.configFile ?? null;
  // Read before anything starts: an invalid web config is a start-up error naming the file and line.
  const initialWebConfig: WebConfig | null = webConfigFile !== null ? loadWebConfig(webConfigFile) : null;
  const security = new WebSecurity(initialWebConfig);

  const source: SampleSource =
    config.source.file !== null
      ? createFileSource({
          path: config.source.file,
          maxBytes: config.sample.maxOutputBytes,
          refreshCounters: config.sample.refreshCounters ?? true,
          ...(deps.stdin ? { stdin: deps.stdin } : {}),
        })
      : // --proxy.mode: kube-proxy's iptables rules, or its nftables table plus conntrack (src/source/proxy-mode.ts).
        withProxyMode(
          config,
          { run: deps.run ?? createCommandRunner(), logger },
          createLiveSource({
            backend: config.iptables.backend,
            families: config.iptables.families,
            timeoutMs: config.sample.timeoutSeconds * 1000,
            maxOutputBytes: config.sample.maxOutputBytes,
            refreshCounters: config.sample.refreshCounters ?? true,
            run: deps.run ?? createCommandRunner(),
            logger,
          }),
        );

  const kube = startKubeEnrichment(config, logger);
  const sampler = new Sampler({
    enricher: kube.enricher,
    source,
    intervalSeconds: config.sample.intervalSeconds,
    maxAgeSeconds: config.sample.maxAgeSeconds,
    maxCpu: config.sample.maxCpu,
    analysisOptions: { ...DEFAULT_ANALYSIS_OPTIONS, windowSeconds: config.windowSeconds },
    logger,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });

  const page = createMetricsPage({
    ...config.metrics,
    windowSeconds: config.windowSeconds,
    version,
    revision: deps.revision ?? 'unknown',
    ...deps.metricsPage,
  });
  // Every snapshot is rendered a slice at a time (page.schedule): the event loop keeps answering scrapes,
  // which get the previous page until the new one is complete. Readiness waits for a page with data.
  // A render fails after the sampler has moved on, so its failures are counted here and added to
  // kube_balance_sample_errors_total{stage="render"} on the following pages.
  let pageHasData = false;
  let renderFailures = 0;
  const schedulePage = (snapshot: Snapshot, what: string): void => {
    const counted =
      renderFailures === 0 ? snapshot : { ...snapshot, errorsTotal: { ...snapshot.errorsTotal, render: snapshot.errorsTotal.render + renderFailures } };
    void page.schedule(counted).then(({ status, error }) => {
      if (status === 'shown' && snapshot.lastSuccessTimestamp !== null) pageHasData = true;
      if (error === null) return;
      renderFailures++;
      logger.error(`rendering the metrics page ${what} failed`, { status, error: String(error) });
    });
  };
  const conntrack = startConntrackView(config, {
    run: deps.run ?? createCommandRunner(),
    logger,
    sampler,
    // The conntrack loop re-renders after each scan: through the same queue, never in one go.
    page: { ...page, update: (snapshot) => schedulePage(snapshot, 'after a conntrack scan') },
    source,
  });
  // The page shows kube_balance_up 0 and friends from the start, not an empty body.
  try {
    page.update(conntrack.decorate(sampler.snapshot));
  } catch (error) {
    logger.error('rendering the initial metrics page failed', { error: String(error) });
  }
  sampler.subscribe((snapshot) => schedulePage(conntrack.decorate(snapshot), 'for a sample'));

  const app = createApp({
    page,
    gate: security.gate(),
    ...(config.web.maxRequests !== undefined ? { maxRequests: config.web.maxRequests } : {}),
    isReady: () => sampler.hasData && pageHasData,
    telemetryPath: config.web.telemetryPath,
    logger,
    landingPage: {
      version,
      details: {
        source: config.source.file !== null ? `file ${config.source.file === '-' ? 'stdin' : config.source.file}` : `iptables-save (backend ${config.iptables.backend})`,
        families: config.iptables.families === 'auto' ? 'auto' : config.iptables.families.join(','),
        'sample interval': `${config.sample.intervalSeconds}s (raised while iptables-save is slow)`,
        window: `${config.windowSeconds}s`,
      },
    },
  });
  const server = await listen(app, config.web.listenAddress, { ...deps.http, tls: initialWebConfig?.tls ?? null, logger });
  logger.info('listening', {
    address: formatListenAddress(server.address),
    telemetry_path: config.web.telemetryPath,
    tls: server.tls,
    basic_auth: (initialWebConfig?.users.size ?? 0) > 0,
    ...(webConfigFile !== null ? { web_config_file: webConfigFile } : {}),
  });

  const reloader =
    initialWebConfig !== null && webConfigFile !== null
      ? new WebConfigReloader({
          path: webConfigFile,
          initial: initialWebConfig,
          logger,
          ...(deps.webConfigCheckIntervalMs !== undefined ? { checkIntervalMs: deps.webConfigCheckIntervalMs } : {}),
          apply(next) {
            if ((next.tls !== null) !== server.tls) {
              throw new Error(`${webConfigFile}: ${server.tls ? 'disabling' : 'enabling'} TLS needs a restart (the listener cannot change protocol)`);
            }
            if (next.tls !== null) server.setTls(next.tls);
            security.swap(next);
          },
        })
      : null;
  reloader?.start();
  const reloadWebConfig = (): ReloadResult => {
    if (reloader === null) {
      logger.info('reload requested: no --web.config.file to reload');
      return { ok: true, changed: false };
    }
    return reloader.reload('SIGHUP');
  };
  const unregisterReload = (deps.onReloadSignal ?? processReloadSignal)(() => void reloadWebConfig());

  let closing: Promise<void> | null = null;
  let release = (): void => {};
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      release();
      deps.signal?.removeEventListener('abort', onAbort);
      reloader?.stop();
      unregisterReload();
      await sampler.stop();
      await conntrack.stop();
      await page.close();
      await kube.stop();
      await server.close();
    })());
  const onAbort = (): void => void close();
  if (deps.signal?.aborted) {
    await close();
    deps.signal.throwIfAborted();
  }
  deps.signal?.addEventListener('abort', onAbort, { once: true });

  // Reachable from the heap, not only from the running sample's frames (held-while-running.ts).
  release = holdWhileRunning(sampler, page, source);
  sampler.start();
  return { address: server.address, sampler, pageRendered: () => page.idle(), reloadWebConfig, close };
}

/** Starts the Service/EndpointSlice watch when credentials exist; otherwise says once why enrichment is off. */
function startKubeEnrichment(config: ExporterConfig, logger: Logger): { enricher: ModelEnricher; stop(): Promise<void> } {
  const kube = config.kube ?? { enabled: false, kubeconfig: null, nodeName: null };
  let choice;
  try {
    choice = chooseKubeConfig({ enabled: kube.enabled, kubeconfigPath: kube.kubeconfig });
  } catch (error) {
    choice = { kind: 'disabled' as const, reason: `cannot load the kubeconfig: ${String(error)}` };
  }
  if (choice.kind === 'disabled') {
    logger.info('kubernetes enrichment disabled', { reason: choice.reason });
    return { enricher: DISABLED_ENRICHER, stop: async () => {} };
  }
  logger.info('kubernetes enrichment enabled', { config: choice.source, node: kube.nodeName ?? '' });
  const watcher = new ClusterWatcher({ config: choice.config, logger, nodeName: kube.nodeName });
  watcher.start();
  return { enricher: watcherEnricher(watcher), stop: () => watcher.stop() };
}
