/** Wires the runtime: source (live node or --source.file) → sampler → metrics page → HTTP server. */
import type { Readable } from 'node:stream';
import { DEFAULT_ANALYSIS_OPTIONS } from './analysis/analyze.js';
import { packageVersion } from './cli/version.js';
import type { ExporterConfig } from './config.js';
import type { Logger } from './logger-types.js';
import { createMetricsPage, type MetricsPageOptions } from './metrics/metrics-page.js';
import { Sampler, type Clock } from './sampler.js';
import { createApp } from './server/app.js';
import { ClusterWatcher } from './kube/cluster-watcher.js';
import { DISABLED_ENRICHER, watcherEnricher, type ModelEnricher } from './kube/kube-enricher.js';
import { chooseKubeConfig } from './kube/kube-config.js';
import { formatListenAddress, listen, type ListenAddress } from './server/listen.js';
import { createFileSource } from './source/file-sample-source.js';
import { createLiveSource } from './source/live-source.js';
import { createCommandRunner, type CommandRunner } from './source/run-command.js';
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
}

export interface ExporterHandle {
  /** Where the server listens (port resolved when 0 was asked for). */
  readonly address: ListenAddress;
  readonly sampler: Sampler;
  /** Stops sampling (aborting an in-flight save), then closes the server. Idempotent. */
  close(): Promise<void>;
}

export async function runExporter(config: ExporterConfig, deps: RunExporterDeps): Promise<ExporterHandle> {
  const { logger } = deps;
  const version = deps.version ?? packageVersion();
  deps.signal?.throwIfAborted();

  const source: SampleSource =
    config.source.file !== null
      ? createFileSource({ path: config.source.file, maxBytes: config.sample.maxOutputBytes, ...(deps.stdin ? { stdin: deps.stdin } : {}) })
      : createLiveSource({
          backend: config.iptables.backend,
          families: config.iptables.families,
          timeoutMs: config.sample.timeoutSeconds * 1000,
          maxOutputBytes: config.sample.maxOutputBytes,
          run: deps.run ?? createCommandRunner(),
          logger,
        });

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
  const publish = (snapshot: typeof sampler.snapshot): void => page.update(snapshot);
  // The page shows kube_balance_up 0 and friends from the start, not an empty body.
  try {
    publish(sampler.snapshot);
  } catch (error) {
    logger.error('rendering the initial metrics page failed', { error: String(error) });
  }
  sampler.subscribe(publish);

  const app = createApp({
    page,
    isReady: () => sampler.hasData,
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
  const server = await listen(app, config.web.listenAddress);
  logger.info('listening', { address: formatListenAddress(server.address), telemetry_path: config.web.telemetryPath });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      deps.signal?.removeEventListener('abort', onAbort);
      await sampler.stop();
      await kube.stop();
      await server.close();
    })());
  const onAbort = (): void => void close();
  if (deps.signal?.aborted) {
    await close();
    deps.signal.throwIfAborted();
  }
  deps.signal?.addEventListener('abort', onAbort, { once: true });

  sampler.start();
  return { address: server.address, sampler, close };
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
