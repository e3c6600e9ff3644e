/** Runs `<iptables|ip6tables>-<nft|legacy>-save -c -t nat` and streams its output into a DumpParser. */
import { DumpParser } from '../iptables/parse-dump.js';
import type { IpFamily, ParsedDump } from '../iptables/types.js';
import { type ChainCaches, createChainFolding, type FoldedChains } from '../model/chain-folding.js';
import type { StructureScan, StructureScanner } from '../model/counter-refresh/structure-scanner.js';
import { CommitTracker } from './commit-tracker.js';
import { emptyDump } from './empty-dump.js';
import { createCommandRunner, type CommandRunner } from './run-command.js';
import { formatCommand, natSaveCommand, type Backend } from './save-command.js';
import { SaveError } from './save-error.js';

/** What consumes the streamed text: DumpParser, or a stub in tests. */
export interface DumpSink {
  push(chunk: string): void;
  end(): ParsedDump;
}

export interface RunIptablesSaveOptions {
  readonly ipFamily: IpFamily;
  readonly backend: Backend;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly signal?: AbortSignal;
  /** Default: the real execa runner. */
  readonly run?: CommandRunner;
  /** Default: `new DumpParser()`. */
  readonly createParser?: () => DumpSink;
  /**
   * Fold the KUBE-SEP chains and the ladder chains' jumps to them while parsing instead of keeping
   * them in the dump (most of a large dump's rules; chain-folding.ts): the result's `folded` then goes
   * to buildServiceModel. Ignored with `createParser`.
   */
  readonly foldChains?: boolean;
  /**
   * With `foldChains`: the last parse's caches of KUBE-SEP and ladder chain folds for this family (its
   * `folded.caches`): the chains they know are not parsed again (endpoint-chain-cache.ts, ladder-chain-cache.ts).
   */
  readonly chainCaches?: ChainCaches;
  /** Also hand every chunk to this scanner (the counter refresh); its result is the SaveResult's `scan`. */
  readonly scanner?: StructureScanner;
  /** false: only the scanner reads the output (a scan-only read); `dump` is then empty. Default true. */
  readonly parse?: boolean;
}

export interface SaveResult {
  readonly dump: ParsedDump;
  readonly command: string;
  readonly outputBytes: number;
  /** Wall time of the run, parsing included (parsing happens as the output streams in). */
  readonly durationSeconds: number;
  /** The child's CPU seconds (user + system, from /proc); null when it could not be read. */
  readonly cpuSeconds: number | null;
  /** stderr of a successful run (warnings), bounded; '' when quiet. */
  readonly stderrTail: string;
  /** With `foldChains`: what the dump does not hold, for buildServiceModel. */
  readonly folded?: FoldedChains;
  /** With `scanner`: its result. */
  readonly scan?: StructureScan;
}

let defaultRunner: CommandRunner | undefined;

/**
 * One save of the nat table with counters. Never holds the whole output: chunks go to the parser as they
 * arrive, and only a short tail is kept to check that the output ends with COMMIT.
 * @throws SaveError (ENOENT_BINARY, PERMISSION, EXIT, TIMEOUT, OUTPUT_TOO_LARGE, TRUNCATED, ABORTED, PARSE)
 */
export async function runIptablesSave(options: RunIptablesSaveOptions): Promise<SaveResult> {
  const command = natSaveCommand(options.ipFamily, options.backend);
  const run = options.run ?? (defaultRunner ??= createCommandRunner());
  const parse = options.parse ?? true;
  const folding = parse && options.createParser === undefined && options.foldChains === true ? createChainFolding(options.chainCaches) : null;
  // DumpParser and StructureScanner read bytes as they come; an injected sink (tests) gets text.
  const injected = parse ? (options.createParser?.() ?? null) : null;
  const parser = parse && injected === null ? new DumpParser(folding?.parserOptions ?? {}) : null;
  const scanner = options.scanner ?? null;
  const tracker = new CommitTracker();
  const take = (chunk: string | Buffer): void => {
    tracker.push(chunk);
    parser?.push(chunk);
    scanner?.push(chunk);
  };
  const result = await run({
    command,
    timeoutMs: options.timeoutMs,
    maxOutputBytes: options.maxOutputBytes,
    ...(options.signal ? { signal: options.signal } : {}),
    onStdout(text) {
      take(text);
      injected?.push(text);
    },
    ...(injected === null ? { onStdoutBytes: take } : {}),
  });

  const context = { command: formatCommand(command), exitCode: 0, stderrTail: result.stderrTail, outputBytes: result.outputBytes, durationSeconds: result.durationSeconds };
  if (tracker.verdict() === 'truncated') {
    throw new SaveError('TRUNCATED', `output does not end with COMMIT (last statement: ${JSON.stringify(tracker.lastStatement())}): killed mid-output, or not iptables-save output`, context);
  }
  let dump: ParsedDump;
  try {
    dump = (injected ?? parser)?.end() ?? emptyDump();
  } catch (error) {
    throw new SaveError('PARSE', `parsing the output failed: ${String(error)}`, context, { cause: error });
  }
  return {
    dump,
    command: context.command,
    outputBytes: result.outputBytes,
    durationSeconds: result.durationSeconds,
    cpuSeconds: result.cpuSeconds,
    stderrTail: result.stderrTail,
    ...(folding === null ? {} : { folded: folding.finish() }),
    ...(scanner === null ? {} : { scan: scanner.end() }),
  };
}
