/** Wires the conntrack view into a running exporter: collector + loop subscribed to the sampler, or a no-op when off. */
import type { ExporterConfig } from '../config.js';
import type { Logger } from '../logger-types.js';
import type { MetricsPage } from '../metrics/metrics-page.js';
import type { Sampler } from '../sampler.js';
import type { Snapshot } from '../snapshot.js';
import { isProxyModeSource } from '../source/proxy-mode.js';
import type { CommandRunner } from '../source/run-command.js';
import { ConntrackCollector } from './collector.js';
import { createConntrackLoop } from './conntrack-loop.js';

export interface ConntrackView {
  /** The Snapshot to render: with the last conntrack scan attached, or unchanged when conntrack is off. */
  decorate(snapshot: Snapshot): Snapshot;
  stop(): Promise<void>;
}

const OFF: ConntrackView = { decorate: (s) => s, stop: async () => {} };

export function startConntrackView(
  config: ExporterConfig,
  deps: {
    readonly run: CommandRunner;
    readonly logger: Logger;
    readonly sampler: Sampler;
    readonly page: MetricsPage;
    /** The sampler's source: in kube-proxy nftables mode it scans conntrack at every sample, and the view shows that scan instead of running its own. */
    readonly source?: unknown;
  },
): ConntrackView {
  const ct = config.conntrack;
  if (ct === undefined || !ct.enabled) return OFF;
  if (config.source.file !== null) {
    deps.logger.warn('--conntrack.enabled is ignored with --source.file: conntrack describes the live node, not a saved dump');
    return OFF;
  }
  const collector = new ConntrackCollector({
    run: deps.run,
    timeoutMs: ct.timeoutSeconds * 1000,
    maxEntries: ct.maxEntries,
    maxOutputBytes: config.sample.maxOutputBytes,
  });
  const loop = createConntrackLoop({
    collector,
    logger: deps.logger,
    minIntervalSeconds: ct.intervalSeconds,
    republish() {
      try {
        deps.page.update(loop.decorate(deps.sampler.snapshot));
      } catch (error) {
        deps.logger.error('rendering the metrics page after a conntrack scan failed', { error: String(error) });
      }
    },
  });
  const shared = isProxyModeSource(deps.source) ? deps.source : null;
  const sharing = (): boolean => shared?.proxyMode === 'nftables';
  const unsubscribe = deps.sampler.subscribe((snapshot) => {
    if (!sharing()) loop.onSnapshot(snapshot);
  });
  deps.logger.info('conntrack view enabled', { interval_seconds: ct.intervalSeconds, timeout_seconds: ct.timeoutSeconds, max_entries: ct.maxEntries });
  return {
    decorate: (snapshot) => (sharing() ? Object.freeze({ ...snapshot, conntrack: shared?.latestScan ?? null }) : loop.decorate(snapshot)),
    async stop() {
      unsubscribe();
      await loop.stop();
    },
  };
}
