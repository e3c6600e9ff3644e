/** One conntrack scan per call: index the model's frontends, stream the table, summarize; keeps the new-flow state between scans. */
import type { IpFamily } from '../iptables/types.js';
import type { Ladder } from '../model/types.js';
import type { CommandRunner } from '../source/run-command.js';
import { isSaveError } from '../source/save-error.js';
import { buildFrontendIndex } from './frontends.js';
import { advanceNewFlows, INITIAL_NEW_FLOW_STATE, type NewFlowState } from './new-flows.js';
import { listConntrack, readConntrackAccounting } from './read-conntrack.js';
import { ConntrackScanner } from './scan.js';
import { summarizeScan } from './summarize.js';
import type { ConntrackSnapshot } from './types.js';

export interface ConntrackCollectorOptions {
  readonly run: CommandRunner;
  /** Kill a listing that runs longer (ms). */
  readonly timeoutMs: number;
  /** Stop reading after this many entries (all families). */
  readonly maxEntries: number;
  /** Kill a listing whose output is larger. */
  readonly maxOutputBytes: number;
  /** Count new flows per endpoint between scans (nftables mode has no rule counters). Default false. */
  readonly countNewFlows?: boolean;
  readonly readAccounting?: () => boolean | null;
  /** Wall clock, ms. */
  readonly now?: () => number;
}

export class ConntrackCollector {
  private newFlows: NewFlowState = INITIAL_NEW_FLOW_STATE;
  private readonly now: () => number;
  private readonly readAccounting: () => boolean | null;

  constructor(private readonly options: ConntrackCollectorOptions) {
    this.now = options.now ?? Date.now;
    this.readAccounting = options.readAccounting ?? (() => readConntrackAccounting());
  }

  /** Scans the table for the frontends of `ladders`. Never throws except on abort; failures are in the snapshot. */
  async scan(ladders: readonly Ladder[], signal?: AbortSignal): Promise<ConntrackSnapshot> {
    const started = this.now();
    const accounting = this.readAccounting();
    const index = buildFrontendIndex(ladders);
    const families = (['ipv4', 'ipv6'] as const).filter((f: IpFamily) => index.servicePorts.some((s) => s.labels.ipFamily === f));
    const countNew = this.options.countNewFlows === true;
    const scanner = new ConntrackScanner(index, { maxEntries: this.options.maxEntries, keepFlowKeys: countNew });
    const finish = (fields: { ok: boolean; error: string | null; truncated: boolean }): ConntrackSnapshot =>
      Object.freeze({
        timestamp: this.now() / 1000,
        ...fields,
        accounting,
        entriesScanned: scanner.entriesScanned,
        entriesMatched: scanner.entriesMatched,
        durationSeconds: (this.now() - started) / 1000,
        servicePorts: fields.ok ? summarizeScan(index, scanner.tallies, { accounting, ...(countNew ? { newFlowsTotal: this.newFlows.totals } : {}) }) : [],
      });

    try {
      const result = await listConntrack({
        run: this.options.run,
        families,
        scanner,
        timeoutMs: this.options.timeoutMs,
        maxOutputBytes: this.options.maxOutputBytes,
        ...(signal ? { signal } : {}),
      });
      // A truncated scan did not see every flow: flows it missed would look new next time.
      if (countNew && !result.truncated) this.newFlows = advanceNewFlows(this.newFlows, scanner.flowKeys);
      return finish({ ok: true, error: null, truncated: result.truncated });
    } catch (error) {
      if (signal?.aborted === true || isSaveError(error, 'ABORTED')) throw error;
      return finish({ ok: false, error: describe(error), truncated: false });
    }
  }
}

function describe(error: unknown): string {
  if (isSaveError(error, 'ENOENT_BINARY')) return 'conntrack not found on PATH: install the conntrack tool (Debian/Ubuntu package `conntrack`, conntrack-tools)';
  if (isSaveError(error, 'PERMISSION')) return `${error.context.command}: permission denied: conntrack -L needs CAP_NET_ADMIN (run privileged)`;
  return error instanceof Error ? error.message : String(error);
}
