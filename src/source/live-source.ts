/** The live node as a SampleSource: backend and family detection, then one `*-save -c -t nat` per family. */
import type { BackendChoice } from '../config.js';
import type { IpFamily } from '../iptables/types.js';
import { silentLogger, type Logger } from '../logger-types.js';
import { CounterRefresher } from '../model/counter-refresh/counter-refresher.js';
import type { ChainCaches } from '../model/chain-folding.js';
import { StructureScanner } from '../model/counter-refresh/structure-scanner.js';
import { detectBackend } from './backend.js';
import { probeFamily } from './families.js';
import { runIptablesSave, type DumpSink } from './iptables-save.js';
import { createCommandRunner, type CommandRunner } from './run-command.js';
import { formatCommand, natSaveCommand, type Backend } from './save-command.js';
import type { FamilyRead, SampleSource } from './sample-source.js';
import { isSaveError } from './save-error.js';

export interface LiveSourceOptions {
  readonly backend: BackendChoice;
  readonly families: 'auto' | readonly IpFamily[];
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly run?: CommandRunner;
  readonly createParser?: () => DumpSink;
  readonly logger?: Logger;
  /** In auto mode, re-check IPv6 (and an unconfirmed backend) every this many samples (default 10). */
  readonly recheckEvery?: number;
  /**
   * Refresh counters into the last parsed read's model while kube-proxy has not rewritten the rules
   * (CounterRefresher); the source then builds the models itself. Default true; off with createParser.
   */
  readonly refreshCounters?: boolean;
}

function hasKubeServices(read: FamilyRead): boolean {
  return read.ok && (read.dump.tables.get('nat')?.chains.has('KUBE-SERVICES') ?? false);
}

export function createLiveSource(options: LiveSourceOptions): SampleSource {
  const run = options.run ?? createCommandRunner();
  const logger = options.logger ?? silentLogger;
  const recheckEvery = options.recheckEvery ?? 10;
  const probeOptions = { timeoutMs: options.timeoutMs, maxOutputBytes: options.maxOutputBytes };
  let backend: Backend | null = null;
  /** Detection found no kubelet chain: kube-proxy may not have started yet, so look again later. */
  let backendUnconfirmed = false;
  let ipv6Active = false;
  let samples = 0;
  const refreshCounters = (options.refreshCounters ?? true) && options.createParser === undefined;
  const refreshers = new Map<IpFamily, CounterRefresher>();
  /** Per family, the last parse's caches of KUBE-SEP and ladder chain folds: the next parse skips the chains kube-proxy left alone. */
  const chainCaches = new Map<IpFamily, ChainCaches>();

  async function readFamily(ipFamily: IpFamily, chosen: Backend, signal: AbortSignal): Promise<FamilyRead> {
    const command = formatCommand(natSaveCommand(ipFamily, chosen));
    const save = { ipFamily, backend: chosen, timeoutMs: options.timeoutMs, maxOutputBytes: options.maxOutputBytes, signal, run };
    let refresher = refreshers.get(ipFamily);
    if (refresher === undefined && refreshCounters) refreshers.set(ipFamily, (refresher = new CounterRefresher()));
    let missedCost = 0;
    let reread = false;
    try {
      if (refresher?.scanOnly === true) {
        const scanner = new StructureScanner();
        const result = await runIptablesSave({ ...save, parse: false, scanner });
        const refreshed = await refresher.refresh(result.scan ?? scanner.end(), signal);
        const costSeconds = result.cpuSeconds ?? result.durationSeconds;
        if (refreshed !== null) {
          return {
            ok: true,
            ipFamily,
            backend: chosen,
            command,
            ...refreshed,
            readKind: 'refreshed',
            outputBytes: result.outputBytes,
            durationSeconds: result.durationSeconds,
            costSeconds,
            stderrTail: result.stderrTail,
          };
        }
        // kube-proxy rewrote rules since the last read: read again, parsing (this read's cost counts too).
        logger.debug('rules changed since the last parsed read: saving again to parse', { family: ipFamily, command });
        missedCost = costSeconds;
        reread = true;
      }
      const scanner = refresher === undefined ? null : new StructureScanner();
      const result = await runIptablesSave({
        ...save,
        // The sampler only builds the model from the dump: its KUBE-SEP rules are folded, not kept.
        ...(options.createParser ? { createParser: options.createParser } : { foldChains: true, chainCaches: chainCaches.get(ipFamily) }),
        ...(scanner === null ? {} : { scanner }),
      });
      if (result.folded !== undefined) {
        chainCaches.set(ipFamily, result.folded.caches);
        logger.debug('nat table parsed; KUBE-SEP and ladder chains known from the last parse were skipped', {
          family: ipFamily,
          command,
          reusedEndpointChains: result.folded.reusedEndpointChains,
          reusedLadderChains: result.folded.reusedLadderChains,
        });
      }
      const read = {
        ok: true as const,
        ipFamily,
        backend: chosen,
        command,
        dump: result.dump,
        outputBytes: result.outputBytes,
        durationSeconds: result.durationSeconds,
        costSeconds: missedCost + (result.cpuSeconds ?? result.durationSeconds),
        stderrTail: result.stderrTail,
        ...(result.folded === undefined ? {} : { folded: result.folded }),
      };
      if (refresher === undefined || result.scan === undefined) return read;
      const parsed = await refresher.parsed(result.scan, result.dump, ipFamily, result.folded, signal);
      // The folded chains are spent either way: the model is built (hand on the dump without its
      // rules), or its build failed (the sampler reports the error).
      const { folded: _folded, ...meta } = read;
      return { ...meta, ...parsed, readKind: reread ? 'reparsed' : 'parsed' };
    } catch (error) {
      if (signal.aborted || isSaveError(error, 'ABORTED')) throw error;
      const outputBytes = isSaveError(error) ? (error.context.outputBytes ?? 0) : 0;
      const durationSeconds = isSaveError(error) ? (error.context.durationSeconds ?? 0) : 0;
      return {
        ok: false,
        ipFamily,
        backend: chosen,
        command,
        error: error instanceof Error ? error : new Error(String(error)),
        stage: isSaveError(error, 'PARSE') ? 'parse' : 'save',
        outputBytes,
        durationSeconds,
        costSeconds: missedCost + durationSeconds,
      };
    }
  }

  return async function sampleLiveNode(signal: AbortSignal): Promise<readonly FamilyRead[]> {
    const recheck = samples % recheckEvery === 0;
    samples++;
    if (backend === null || (backendUnconfirmed && recheck)) {
      const detection = await detectBackend(run, { ...probeOptions, choice: options.backend, signal });
      backendUnconfirmed = options.backend === 'auto' && !detection.probes.some((p) => p.matched);
      if (detection.backend !== backend) {
        logger.info('iptables backend selected', { backend: detection.backend, reason: detection.reason });
        for (const p of detection.probes) if (p.error !== null) logger.debug('backend probe failed', { command: p.command, error: p.error });
      }
      backend = detection.backend;
    }
    const chosen = backend;

    let families: readonly IpFamily[];
    if (options.families !== 'auto') {
      families = options.families;
    } else {
      if (!ipv6Active && recheck) {
        const found = await probeFamily(run, 'ipv6', chosen, { ...probeOptions, signal });
        if (found.matched) {
          ipv6Active = true;
          logger.info('IPv6 kube-proxy rules found: sampling ip6tables too', { command: found.command });
        } else if (found.error !== null) {
          logger.debug('IPv6 probe failed: sampling IPv4 only', { command: found.command, error: found.error });
        }
      }
      families = ipv6Active ? ['ipv4', 'ipv6'] : ['ipv4'];
    }

    const reads: FamilyRead[] = [];
    for (const ipFamily of families) reads.push(await readFamily(ipFamily, chosen, signal));

    if (options.families === 'auto' && ipv6Active) {
      const v6 = reads.find((r) => r.ipFamily === 'ipv6');
      if (v6 !== undefined && v6.ok && !hasKubeServices(v6)) {
        ipv6Active = false;
        logger.info('IPv6 kube-proxy rules gone: sampling IPv4 only');
      }
    }
    return reads;
  };
}
