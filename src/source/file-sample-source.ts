/** `--source.file` as a SampleSource: re-reads the file every sample (a test may rewrite it), with the counter refresh; stdin is read once. */
import type { IpFamily, ParsedDump } from '../iptables/types.js';
import { CounterRefresher } from '../model/counter-refresh/counter-refresher.js';
import type { ChainCaches, FoldedChains } from '../model/chain-folding.js';
import type { ServiceModel } from '../model/types.js';
import { readDumpFile, type ReadDumpFileOptions } from './file-source.js';
import type { FamilyRead, ReadKind, SampleSource } from './sample-source.js';
import { isSaveError } from './save-error.js';

export interface FileSourceOptions extends Omit<ReadDumpFileOptions, 'signal' | 'scan' | 'parse'> {
  /** Refresh counters into the last parsed read's models while the file's rules are unchanged (default true; off with createParser). */
  readonly refreshCounters?: boolean;
}

export function createFileSource(options: FileSourceOptions): SampleSource {
  let stdinReads: Promise<readonly FamilyRead[]> | null = null;
  const name = options.path === '-' ? 'stdin' : options.path;

  const refreshers = new Map<IpFamily, CounterRefresher>();
  /** Per family, the last parse's caches of chain folds: the next parse skips the chains they know (endpoint-chain-cache.ts, ladder-chain-cache.ts). */
  const chainCaches = new Map<IpFamily, ChainCaches>();
  const refreshCounters = (options.refreshCounters ?? true) && options.createParser === undefined;
  const refresherOf = (family: IpFamily): CounterRefresher => {
    let refresher = refreshers.get(family);
    if (refresher === undefined) refreshers.set(family, (refresher = new CounterRefresher()));
    return refresher;
  };

  /** A scan-only read: the refreshed reads, or null when some family's rules changed (read again, parsing). */
  async function refresh(signal: AbortSignal): Promise<FamilyRead[] | null> {
    const result = await readDumpFile({ ...options, signal, scan: true, parse: false });
    const reads: FamilyRead[] = [];
    for (const { ipFamily, scan } of result.dumps) {
      const refreshed = scan === undefined ? null : await refresherOf(ipFamily).refresh(scan, signal);
      if (refreshed === null) return null;
      reads.push(okRead(ipFamily, { ...refreshed, readKind: 'refreshed' }, result));
    }
    return reads;
  }

  function okRead(
    ipFamily: IpFamily,
    parts: {
      readonly dump: ParsedDump;
      readonly model?: ServiceModel;
      readonly folded?: FoldedChains;
      readonly modelError?: Error;
      readonly readKind?: ReadKind;
    },
    result: { readonly outputBytes: number; readonly durationSeconds: number },
  ): FamilyRead {
    return {
      ok: true,
      ipFamily,
      backend: 'file',
      command: name,
      ...parts,
      outputBytes: result.outputBytes,
      durationSeconds: result.durationSeconds,
      costSeconds: result.durationSeconds,
      stderrTail: '',
    };
  }

  async function read(signal: AbortSignal): Promise<readonly FamilyRead[]> {
    try {
      // Scan-only while every family's rules are stable (CounterRefresher).
      const families = [...refreshers.values()];
      let reread = false;
      if (refreshCounters && families.length > 0 && families.every((r) => r.scanOnly)) {
        const refreshed = await refresh(signal);
        if (refreshed !== null) return refreshed;
        reread = true;
      }
      // The sampler only builds the model from the dumps: their KUBE-SEP rules are folded, not kept.
      const result = await readDumpFile({ foldChains: true, ...options, signal, scan: refreshCounters, chainCaches });
      const reads: FamilyRead[] = [];
      for (const { ipFamily, dump, folded, scan } of result.dumps) {
        if (folded !== undefined) chainCaches.set(ipFamily, folded.caches);
        const parsed = scan === undefined ? null : await refresherOf(ipFamily).parsed(scan, dump, ipFamily, folded, signal);
        // With the model built, the read carries the dump without its rules (CounterRefresher.parsed).
        const parts =
          parsed === null
            ? { dump, ...(folded === undefined ? {} : { folded }) }
            : { ...parsed, readKind: reread ? ('reparsed' as const) : ('parsed' as const) };
        reads.push(okRead(ipFamily, parts, result));
      }
      return reads;
    } catch (error) {
      if (signal.aborted || isSaveError(error, 'ABORTED')) throw error;
      return [
        {
          ok: false as const,
          ipFamily: 'ipv4' as const,
          backend: 'file' as const,
          command: name,
          error: error instanceof Error ? error : new Error(String(error)),
          stage: 'save' as const,
          outputBytes: isSaveError(error) ? (error.context.outputBytes ?? 0) : 0,
          durationSeconds: 0,
          costSeconds: 0,
        },
      ];
    }
  }

  return (signal) => {
    if (options.path !== '-') return read(signal);
    // stdin cannot be read twice: every sample sees the same dump (counters do not move).
    stdinReads ??= read(signal);
    return stdinReads;
  };
}
