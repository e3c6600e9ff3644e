/**
 * `--proxy.mode=auto|iptables|nftables`: which kube-proxy rules the live source reads.
 *
 * auto: iptables (exact rule counters) while any IP family's iptables nat table has kube-proxy's
 * KUBE-SERVICES chain; otherwise, when table `ip kube-proxy` or `ip6 kube-proxy` exists, nftables
 * (vmap membership from `nft -j list table`, new connections counted from conntrack). The check
 * costs nothing on an iptables-mode node (the sample itself shows KUBE-SERVICES); on other nodes it
 * runs at the first sample and every `recheckEvery` samples, so a node whose kube-proxy starts late
 * or changes mode is followed.
 */
import type { ExporterConfig } from '../config.js';
import { DEFAULT_CONNTRACK_CONFIG, type ProxyMode, type ProxyModeChoice } from '../conntrack/config.js';
import type { ConntrackSnapshot } from '../conntrack/types.js';
import { silentLogger, type Logger } from '../logger-types.js';
import { createNftablesSource, type NftablesSource } from './nftables-source.js';
import type { CommandRunner } from './run-command.js';
import type { FamilyRead, SampleSource } from './sample-source.js';

export interface ProxyModeSourceOptions {
  readonly choice: ProxyModeChoice;
  /** The iptables-mode source (createLiveSource). */
  readonly iptables: SampleSource;
  /** A fresh nftables-mode source (its first conntrack scan is a baseline). */
  readonly createNftables: () => NftablesSource;
  readonly logger?: Logger;
  /** auto: look again every this many samples (default 10). */
  readonly recheckEvery?: number;
}

/** A SampleSource that also says which mode is in force and hands out nftables mode's conntrack scans. */
export interface ProxyModeSource extends SampleSource {
  /** The mode of the last sample; null before the first. */
  readonly proxyMode: ProxyMode | null;
  /** nftables mode: the conntrack scan of the last sample (the conntrack view reuses it); null otherwise. */
  readonly latestScan: ConntrackSnapshot | null;
}

export function isProxyModeSource(source: unknown): source is ProxyModeSource {
  return typeof source === 'function' && 'proxyMode' in source && 'latestScan' in source;
}

function hasKubeServices(read: FamilyRead): boolean {
  // nftables-mode reads carry an empty dump; iptables reads (a counter refresh too) show the chain.
  return read.ok && (read.dump.tables.get('nat')?.chains.has('KUBE-SERVICES') ?? false);
}

function tagIptables(reads: readonly FamilyRead[]): FamilyRead[] {
  return reads.map((r) => ({ ...r, proxyMode: 'iptables' as const }));
}

export function createProxyModeSource(options: ProxyModeSourceOptions): ProxyModeSource {
  const logger = options.logger ?? silentLogger;
  const recheckEvery = options.recheckEvery ?? 10;
  let mode: ProxyMode | null = null;
  let nft: NftablesSource | null = null;
  let samples = 0;

  const enter = (next: ProxyMode, reason: string, source: NftablesSource | null = null): void => {
    if (next === mode) return;
    logger.info('kube-proxy mode selected', { mode: next, reason });
    mode = next;
    nft = next === 'nftables' ? (source ?? options.createNftables()) : null;
  };

  async function sample(signal: AbortSignal): Promise<readonly FamilyRead[]> {
    if (options.choice === 'iptables') {
      enter('iptables', '--proxy.mode=iptables');
      return tagIptables(await options.iptables(signal));
    }
    if (options.choice === 'nftables') {
      enter('nftables', '--proxy.mode=nftables');
      return (await (nft as NftablesSource).sample(signal)).reads;
    }

    const recheck = samples % recheckEvery === 0;
    samples++;
    if (mode === 'nftables' && nft !== null && !recheck) {
      const result = await nft.sample(signal);
      if (result.found) return result.reads;
      // The kube-proxy tables are gone: decide again below.
    }
    const reads = await options.iptables(signal);
    if (reads.some(hasKubeServices)) {
      enter('iptables', 'the iptables nat table has kube-proxy\'s KUBE-SERVICES chain');
      return tagIptables(reads);
    }
    if (mode === 'iptables' && !recheck) return tagIptables(reads);
    const candidate = mode === 'nftables' && nft !== null ? nft : options.createNftables();
    const result = await candidate.sample(signal);
    if (result.found) {
      enter('nftables', 'table ip/ip6 kube-proxy exists and iptables has no KUBE-SERVICES chain', candidate);
      return result.reads;
    }
    enter('iptables', 'no KUBE-SERVICES chain in iptables and no kube-proxy nftables table (kube-proxy not running yet?): iptables until the next check');
    return tagIptables(reads);
  }

  return Object.defineProperties(sample, {
    proxyMode: { get: () => mode, enumerable: true },
    latestScan: { get: () => (mode === 'nftables' ? (nft?.latestScan ?? null) : null), enumerable: true },
  }) as ProxyModeSource;
}

/**
 * The live source with `--proxy.mode` applied (run-exporter wraps createLiveSource in it). Configs
 * built without the CLI (no `conntrack` section or no `proxyMode`) keep iptables mode.
 */
export function withProxyMode(
  config: Pick<ExporterConfig, 'iptables' | 'sample' | 'conntrack'>,
  deps: { readonly run: CommandRunner; readonly logger: Logger },
  iptables: SampleSource,
): ProxyModeSource {
  const ct = config.conntrack ?? DEFAULT_CONNTRACK_CONFIG;
  return createProxyModeSource({
    choice: config.conntrack?.proxyMode ?? 'iptables',
    iptables,
    logger: deps.logger,
    createNftables: () =>
      createNftablesSource({
        run: deps.run,
        families: config.iptables.families,
        timeoutMs: config.sample.timeoutSeconds * 1000,
        maxOutputBytes: config.sample.maxOutputBytes,
        conntrackTimeoutMs: ct.timeoutSeconds * 1000,
        conntrackMaxEntries: ct.maxEntries,
        logger: deps.logger,
      }),
  });
}
