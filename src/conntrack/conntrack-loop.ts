/**
 * Runs a conntrack scan after each sample (one at a time) and merges the last scan into every
 * Snapshot the metrics page renders. Kept out of the Sampler: conntrack is optional and its failures
 * never touch the iptables numbers.
 */
import type { Logger } from '../logger-types.js';
import type { Snapshot } from '../snapshot.js';
import type { ConntrackCollector } from './collector.js';
import type { ConntrackSnapshot } from './types.js';

export interface ConntrackLoopOptions {
  readonly collector: ConntrackCollector;
  readonly logger: Logger;
  /** Called after each scan: re-render the page with the new scan (decorate the sampler's latest Snapshot). */
  readonly republish: () => void;
  /** Minimum seconds between scan starts (default 0: after every sample). */
  readonly minIntervalSeconds?: number;
  /** Monotonic ms (default performance.now). */
  readonly now?: () => number;
}

export interface ConntrackLoop {
  /** `snapshot` with the last scan attached (a new frozen object; the input is not changed). */
  decorate(snapshot: Snapshot): Snapshot;
  /** Subscribe it to the sampler: starts a scan for the snapshot's ladders unless one is running. */
  onSnapshot(snapshot: Snapshot): void;
  /** The last finished scan; null before the first. */
  readonly latest: ConntrackSnapshot | null;
  /** Aborts a running scan and waits for it. */
  stop(): Promise<void>;
}

export function createConntrackLoop(options: ConntrackLoopOptions): ConntrackLoop {
  const { collector, logger } = options;
  let latest: ConntrackSnapshot | null = null;
  let inFlight: Promise<void> | null = null;
  let controller: AbortController | null = null;
  let stopped = false;
  let lastError: string | null = null;
  let lastAccounting: boolean | null | undefined;
  let lastStart = Number.NEGATIVE_INFINITY;
  const now = options.now ?? (() => performance.now());
  const minIntervalMs = (options.minIntervalSeconds ?? 0) * 1000;

  const report = (scan: ConntrackSnapshot): void => {
    if (scan.error !== lastError) {
      if (scan.error !== null) logger.error('conntrack scan failed: conntrack series withheld', { error: scan.error });
      else if (lastError !== null) logger.info('conntrack scan recovered');
      lastError = scan.error;
    }
    if (scan.accounting !== lastAccounting) {
      if (scan.accounting === false) {
        logger.warn('net.netfilter.nf_conntrack_acct is 0: no per-flow packets and bytes (traffic families absent); the exporter never changes it');
      } else if (scan.accounting === null) {
        logger.warn('cannot read /proc/sys/net/netfilter/nf_conntrack_acct (nf_conntrack not loaded?)');
      }
      lastAccounting = scan.accounting;
    }
    if (scan.truncated) logger.warn('conntrack scan stopped at --conntrack.max-entries: numbers cover part of the table', { entries: scan.entriesScanned });
  };

  return {
    get latest() {
      return latest;
    },
    decorate(snapshot) {
      return Object.freeze({ ...snapshot, conntrack: latest });
    },
    onSnapshot(snapshot) {
      if (stopped || inFlight !== null) return;
      // Intervals run start to start; the small slack keeps a scan from being skipped by sample-timer jitter.
      if (now() - lastStart < minIntervalMs - 250) return;
      lastStart = now();
      const ladders = snapshot.analysis?.ladders.map((l) => l.ladder) ?? [];
      const ac = new AbortController();
      controller = ac;
      inFlight = collector
        .scan(ladders, ac.signal)
        .then((scan) => {
          latest = scan;
          report(scan);
          options.republish();
        })
        .catch((error: unknown) => {
          if (!ac.signal.aborted) logger.error('conntrack scan crashed', { error: String(error) });
        })
        .finally(() => {
          inFlight = null;
          controller = null;
        });
    },
    async stop() {
      stopped = true;
      controller?.abort();
      await inFlight;
    },
  };
}
