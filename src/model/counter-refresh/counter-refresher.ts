/**
 * The counter refresh, one per IP family: when kube-proxy has not rewritten the nat table since the
 * last sample (the usual case: it rewrites on endpoint changes and, at most, hourly), a sample need
 * not parse and model 100 MB of rules again. It scans the output (StructureScanner: a digest of the
 * rules, the packet counter of each line) and, when the digest is the one of the last parsed
 * output, re-reads the counters into that output's model (CounterPlan). The digest leaves out the
 * order of KUBE-SERVICES' and KUBE-NODEPORTS' rules (unordered-chains.ts): every kube-proxy sync
 * writes them in a new order, and a sync that changes no Service is then still refreshed.
 *
 * A scan-only read that finds a different structure has no parse to fall back on: the source must
 * read again, parsing. So scan-only reads are tried while the structure looks stable: from the first
 * parsed read on (most nodes' rules change rarely, and a second full parse at start-up cost ~10 s of
 * CPU at 20,000 services × 10 endpoints), and after an isolated change. A miss within
 * CHURN_READS reads of the last one means the rules are churning: reads then parse until two in a
 * row show one digest. So on a node whose rules change every sample, every read parses (with the
 * scan alongside, about a tenth more work) and few are read twice; on a quiet node a change costs
 * one read twice and one parse, not two.
 */
import type { IpFamily, ParsedDump, Table } from '../../iptables/types.js';
import { runInSlices } from '../../slices.js';
import { buildServiceModelInSlices } from '../build-service-model.js';
import type { FoldedChains } from '../chain-folding.js';
import type { ServiceModel } from '../types.js';
import { planCountersInSlices, readCountersInSlices, type CounterPlan } from './counter-plan.js';
import { laddersOf, refreshedModel } from './refreshed-model.js';
import type { StructureScan } from './structure-scanner.js';

/** A scan-only read that misses within this many reads of the last miss means the rules are churning. */
export const CHURN_READS = 10;

/** What a parsed read left to refresh from. */
interface Base {
  readonly digest: string;
  readonly model: ServiceModel;
  readonly plan: CounterPlan;
  /** The parsed dump without its rules: what a refreshed read reports as its dump. */
  readonly dump: ParsedDump;
}

export interface RefreshedRead {
  readonly model: ServiceModel;
  /** The parsed read's skipped lines, warnings and tables' existence (not their rules): same structure, same findings. */
  readonly dump: ParsedDump;
}

/**
 * A parsed read's model, and its dump without the rules (what the read reports from here on): the
 * source hands on this dump, not the parsed one, so that the rules (~100 MiB at 20,000 services ×
 * 10 endpoints) are garbage while the sampler analyses the sample and the page renders it.
 */
export interface ParsedRead {
  readonly model: ServiceModel;
  readonly dump: ParsedDump;
}

/**
 * A parsed read whose model build threw, with the dump it was built from. The build spent the folded
 * chains (releaseFolds), so the caller reports this error as the read's model stage rather than
 * build again. Like ParsedRead, its fields are what a source's read carries.
 */
export interface FailedBuild {
  readonly modelError: Error;
  readonly dump: ParsedDump;
}

export interface CounterRefresherStats {
  /** Reads answered by a refresh. */
  readonly refreshed: number;
  /** Reads parsed (first read, changed rules, unstable structure). */
  readonly parsed: number;
  /** Scan-only reads whose structure had changed (read again, parsing). */
  readonly missed: number;
}

export class CounterRefresher {
  private base: Base | null = null;
  /** The last read had the digest of the read before it. */
  private stable = false;
  /** Two misses within CHURN_READS reads, and no stable pair of reads since: wait for two equal digests. */
  private churning = false;
  /** Reads (parsed or refreshed) since the last scan-only read that missed. */
  private readsSinceMiss = Number.POSITIVE_INFINITY;
  private refreshed = 0;
  private parsedCount = 0;
  private missed = 0;

  /** True when the next read should be scan-only (then call refresh); false: parse and scan (then call parsed). */
  get scanOnly(): boolean {
    return this.base !== null && (this.stable || !this.churning);
  }

  get stats(): CounterRefresherStats {
    return { refreshed: this.refreshed, parsed: this.parsedCount, missed: this.missed };
  }

  /**
   * After a parsed read: builds its model and remembers it to refresh from, when the scan allows (no
   * malformed counters, a plan that reproduces the model); gives the model and the dump without its
   * rules, or the error when building the model threw (the refresher is then unchanged). The build
   * frees the folded chains as it goes (releaseFolds): they cannot be built from again.
   *
   * The model and the plan are built in slices (runInSlices; ~1 s at 20,000 services × 10 endpoints).
   * Rejects with the signal's reason when it aborts in between; the refresher is then unchanged.
   */
  async parsed(
    scan: StructureScan,
    dump: ParsedDump,
    ipFamily: IpFamily,
    folded?: FoldedChains,
    signal?: AbortSignal,
  ): Promise<ParsedRead | FailedBuild> {
    const affinityLines = new Map<string, readonly (readonly number[])[]>();
    // The last parsed read's ladders, which the last sample's state holds through this parse anyway:
    // where kube-proxy left a ladder alone, the model keeps that object rather than a copy (ladder-reuse.ts).
    const reuseLadders = this.base === null ? undefined : laddersOf(this.base.model);
    let model: ServiceModel;
    try {
      model = await runInSlices(buildServiceModelInSlices(dump, ipFamily, { ...folded, affinityLines, releaseFolds: true, reuseLadders }), { signal });
    } catch (error) {
      if (signal?.aborted === true) throw error;
      return { modelError: error instanceof Error ? error : new Error(String(error)), dump };
    }
    const plan = scan.notReusable === null && !dump.truncated ? await runInSlices(planCountersInSlices(model, affinityLines, scan.packets), { signal }) : null;
    this.parsedCount++;
    this.readsSinceMiss++;
    this.stable = scan.notReusable === null && this.base !== null && this.base.digest === scan.digest;
    if (this.stable) this.churning = false;
    const lean = withoutRules(dump);
    this.base = plan === null ? null : { digest: scan.digest, model, plan, dump: lean };
    return { model, dump: lean };
  }

  /**
   * After a scan-only read: the base model with this read's counters (held as arrays, see
   * refreshed-model.ts), or null when the structure changed (read again, parsing; the structure is
   * then no longer called stable). The counters are read in slices; rejects with the signal's reason
   * when it aborts in between.
   */
  async refresh(scan: StructureScan, signal?: AbortSignal): Promise<RefreshedRead | null> {
    const base = this.base;
    if (base === null || scan.notReusable !== null || scan.digest !== base.digest) {
      this.stable = false;
      this.churning = this.readsSinceMiss < CHURN_READS;
      this.readsSinceMiss = 0;
      this.missed++;
      return null;
    }
    const counters = await runInSlices(readCountersInSlices(base.model, base.plan, scan.packets), { signal });
    this.refreshed++;
    this.readsSinceMiss++;
    return { model: refreshedModel(base.model, counters), dump: base.dump };
  }
}

/**
 * The dump's findings without its rules: skipped lines, warnings and its tables, each holding only
 * an empty KUBE-SERVICES chain if it had one (the sources ask whether kube-proxy's rules exist).
 * The base then holds no parsed rules between samples.
 */
function withoutRules(dump: ParsedDump): ParsedDump {
  const tables = new Map<string, Table>();
  for (const [name, table] of dump.tables) {
    const services = table.chains.get('KUBE-SERVICES');
    tables.set(name, { name, chains: new Map(services === undefined ? [] : [['KUBE-SERVICES', { ...services, rules: [] }]]) });
  }
  return { ...dump, tables };
}
