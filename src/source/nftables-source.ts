/**
 * kube-proxy nftables mode as the sampler's source: per sample, `nft -j list table ip|ip6 kube-proxy`
 * (read-only) into ladders, then one conntrack scan over their frontends whose new flows (flows not in
 * the previous scan) fill the ladders' `connections`, so the analysis and the metrics run unchanged.
 *
 * Exact: membership, programmed and expected shares (the vmap). Sampled (a lower bound): the
 * connection counts; see docs/conntrack.md "nftables mode".
 */
import { ConntrackCollector } from '../conntrack/collector.js';
import { conntrackListCommand } from '../conntrack/commands.js';
import type { ConntrackSnapshot } from '../conntrack/types.js';
import type { IpFamily } from '../iptables/types.js';
import { silentLogger, type Logger } from '../logger-types.js';
import type { ServiceModel } from '../model/types.js';
import { kubeProxyTableCommand } from '../nftables/commands.js';
import { LadderConnectionCounter } from '../nftables/new-connections.js';
import { readKubeProxyTableWithStats, type KubeProxyTableRead } from '../nftables/read-kube-proxy-table.js';
import { emptyDump } from './empty-dump.js';
import type { CommandRunner } from './run-command.js';
import { formatCommand } from './save-command.js';
import type { FamilyRead } from './sample-source.js';
import { isSaveError } from './save-error.js';

export interface NftablesSourceOptions {
  readonly run: CommandRunner;
  /** `--iptables.families`: 'auto' reads the families whose kube-proxy table exists. */
  readonly families: 'auto' | readonly IpFamily[];
  /** nft listing limits (`--sample.timeout`, `--sample.max-output-bytes`). */
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  /** conntrack scan limits (`--conntrack.timeout`, `--conntrack.max-entries`). */
  readonly conntrackTimeoutMs: number;
  readonly conntrackMaxEntries: number;
  readonly logger?: Logger;
  /** Tests: the node's nf_conntrack_acct. */
  readonly readAccounting?: () => boolean | null;
}

export interface NftablesSample {
  readonly reads: readonly FamilyRead[];
  /** Some family's kube-proxy table exists (the detection). */
  readonly found: boolean;
}

export interface NftablesSource {
  sample(signal: AbortSignal): Promise<NftablesSample>;
  /** The conntrack scan of the last sample that reached it; null before. */
  readonly latestScan: ConntrackSnapshot | null;
}

type TableOutcome = { readonly family: IpFamily; readonly command: string } & (
  | { readonly kind: 'read'; readonly read: KubeProxyTableRead }
  | { readonly kind: 'absent' }
  | { readonly kind: 'failed'; readonly error: Error; readonly stage: 'save' | 'parse' }
);

function describe(error: unknown): Error {
  if (isSaveError(error, 'ENOENT_BINARY')) {
    return new Error(`${error.context.command}: nft not found on PATH: nftables mode needs the nft tool (Debian/Ubuntu package nftables)`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

export function createNftablesSource(options: NftablesSourceOptions): NftablesSource {
  const logger = options.logger ?? silentLogger;
  const collector = new ConntrackCollector({
    run: options.run,
    timeoutMs: options.conntrackTimeoutMs,
    maxEntries: options.conntrackMaxEntries,
    maxOutputBytes: options.maxOutputBytes,
    countNewFlows: true,
    ...(options.readAccounting ? { readAccounting: options.readAccounting } : {}),
  });
  const counter = new LadderConnectionCounter();
  let latestScan: ConntrackSnapshot | null = null;
  const loggedWarnings = new Map<IpFamily, string>();

  async function readTable(family: IpFamily, signal: AbortSignal): Promise<TableOutcome> {
    const command = formatCommand(kubeProxyTableCommand(family));
    try {
      const read = await readKubeProxyTableWithStats({ run: options.run, family, timeoutMs: options.timeoutMs, maxOutputBytes: options.maxOutputBytes, signal });
      return read === null ? { family, command, kind: 'absent' } : { family, command, kind: 'read', read };
    } catch (error) {
      if (signal.aborted || isSaveError(error, 'ABORTED')) throw error;
      return { family, command, kind: 'failed', error: describe(error), stage: isSaveError(error, 'PARSE') ? 'parse' : 'save' };
    }
  }

  function logWarnings(model: ServiceModel): void {
    const text = model.warnings.join('\n');
    if (text !== (loggedWarnings.get(model.ipFamily) ?? '') && text !== '') {
      logger.warn('kube-proxy nftables table: unexpected shapes skipped', { family: model.ipFamily, warnings: model.warnings });
    }
    loggedWarnings.set(model.ipFamily, text);
  }

  return {
    get latestScan() {
      return latestScan;
    },

    async sample(signal) {
      const wanted: readonly IpFamily[] = options.families === 'auto' ? ['ipv4', 'ipv6'] : options.families;
      const outcomes: TableOutcome[] = [];
      for (const family of wanted) outcomes.push(await readTable(family, signal));
      const found = outcomes.some((o) => o.kind === 'read');
      // auto: a family without a table is simply not sampled; an explicit family must have one.
      const relevant = outcomes.filter((o) => o.kind !== 'absent' || options.families !== 'auto' || (!found && o.family === 'ipv4'));

      const models = outcomes.flatMap((o) => (o.kind === 'read' ? [o.read.model] : []));
      for (const model of models) logWarnings(model);
      let scan: ConntrackSnapshot | null = null;
      if (models.length > 0) {
        scan = await collector.scan(
          models.flatMap((m) => m.ladders),
          signal,
        );
        latestScan = scan;
        if (scan.truncated) logger.warn('conntrack scan stopped at --conntrack.max-entries: new connections not counted this sample', { entries: scan.entriesScanned });
      }
      const counted = scan?.ok === true ? counter.apply(models.flatMap((m) => m.ladders), scan) : [];
      const byKey = new Map(counted.map((l) => [l.key, l]));
      const scanCommand = (family: IpFamily): string => formatCommand(conntrackListCommand(family));

      const reads = relevant.map((o, i): FamilyRead => {
        const base = { ipFamily: o.family, backend: 'nft' as const, proxyMode: 'nftables' as const };
        if (o.kind === 'absent') {
          const table = `table ${o.family === 'ipv6' ? 'ip6' : 'ip'} kube-proxy`;
          return { ...base, ok: false, command: o.command, stage: 'save', error: new Error(`${o.command}: ${table} does not exist: is kube-proxy running in nftables mode?`), outputBytes: 0, durationSeconds: 0, costSeconds: 0 };
        }
        if (o.kind === 'failed') return { ...base, ok: false, command: o.command, stage: o.stage, error: o.error, outputBytes: 0, durationSeconds: 0, costSeconds: 0 };
        // The scan covers every family: its cost goes to the first family read.
        const scanSeconds = i === relevant.findIndex((r) => r.kind === 'read') ? (scan?.durationSeconds ?? 0) : 0;
        const command = `${o.command} + ${scanCommand(o.family)}`;
        const durationSeconds = o.read.durationSeconds + scanSeconds;
        const costSeconds = (o.read.cpuSeconds ?? o.read.durationSeconds) + scanSeconds;
        if (scan === null || !scan.ok) {
          const error = new Error(`conntrack scan failed, so new connections cannot be counted in nftables mode: ${scan?.error ?? 'no scan'}`);
          return { ...base, ok: false, command, stage: 'save', error, outputBytes: o.read.outputBytes, durationSeconds, costSeconds };
        }
        const model: ServiceModel = {
          ...o.read.model,
          ladders: o.read.model.ladders.map((l) => byKey.get(l.key) ?? l),
          hasCounters: true,
        };
        return { ...base, ok: true, command, dump: emptyDump(), model, outputBytes: o.read.outputBytes, durationSeconds, costSeconds, stderrTail: '' };
      });
      return { reads, found };
    },
  };
}
