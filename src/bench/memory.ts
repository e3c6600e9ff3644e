/** Runs exporter-child.ts in its own process, as the image runs node, and summarises its RSS over consecutive samples. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withRulesChange } from './replace-endpoint.js';
import type { ChildDoneLine, ChildSampleLine, ChildSource } from './exporter-child.js';
import { IMAGE_NODE_ENV } from './image-env.js';
import { spread, type Spread } from './stats.js';

/** A sample (0-based) and how its read was taken. */
export interface SampleAt {
  readonly index: number;
  readonly readKind: string;
}

export interface MemoryResult {
  /** What the child read the dump through: `live` (the live source and a stand-in save, as on a node) or `file`. */
  readonly source: ChildSource;
  readonly samples: number;
  readonly maxRssBytes: number;
  /** The sample (0-based) before which the rules changed once (replace-endpoint.ts); -1: never. */
  readonly changeAt: number;
  /** The sample (0-based) before which a sync that changed no Service rewrote the entry chains (halfway to the change); -1: none. */
  readonly resyncAt: number;
  /** Peak RSS over the samples before the rules changed (all of them when they never did; NaN when none came before). */
  readonly maxRssBeforeChangeBytes: number;
  /** The samples in which the peak before the change, and the peak over all samples, were reached (a high-water mark: one sample sets it). */
  readonly peakBeforeChangeAt: SampleAt | null;
  readonly peakAt: SampleAt | null;
  /** RSS after each sample. */
  readonly rss: readonly number[];
  /** Median RSS of the last 10 samples minus that of samples 31–40 (NaN with fewer than 50 samples). */
  readonly growthBytes: number;
  readonly flat: boolean;
  readonly sampleMs: Spread;
  readonly maxLoopBlockMs: number;
  /** The sample (0-based) with the longest block, and how its read was taken. */
  readonly maxLoopBlockAt: SampleAt | null;
  /** Samples with a block over 100 ms (issue 7's target 3b). */
  readonly samplesBlockedOver100Ms: number;
  readonly pageBytes: number;
  /** What the page held for its kube_balance_* part after the last sample (compressed). */
  readonly pageHeldBytes: number;
  /** V8's heap limit in the child (checks that IMAGE_NODE_ENV took effect). */
  readonly heapLimitBytes: number;
  /** The child's CPU time over all samples (user + system). */
  readonly cpuMs: number;
  /** The node environment the child ran with (IMAGE_NODE_ENV). */
  readonly nodeEnv: Readonly<Record<string, string>>;
  /** How many samples were read each way (parsed, refreshed, reparsed). */
  readonly readKinds: Readonly<Record<string, number>>;
}

function countKinds(kinds: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of kinds) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** Growth under this is noise (GC timing), not a leak. */
const FLAT_TOLERANCE_BYTES = 16 * 2 ** 20;
/** exporter-child samples every 10 s of its clock with the default 300 s window. */
const WINDOW_SAMPLES = 30;

/**
 * `samples` samples of `dumpPath` in the child; with `changeAt` (0-based, < samples), one endpoint is
 * replaced before that sample (replace-endpoint.ts), so the run holds the parsed read that follows a
 * rules change, where the heap peaks, and not only the one at start-up. Halfway to it (from a
 * `changeAt` of 2 on), a sync that changes no Service reorders KUBE-SERVICES and KUBE-NODEPORTS, as
 * kube-proxy's syncs do all the time: a node's reads after it should still be refreshed.
 */
export async function measureMemory(dumpPath: string, samples: number, changeAt = -1, source: ChildSource = 'live'): Promise<MemoryResult> {
  const change = changeAt >= 0 && changeAt < samples ? changeAt : -1;
  const resyncAt = change >= 2 ? Math.floor(change / 2) : -1;
  return withRulesChange('kbe-memory-', dumpPath, (work, changed, resynced) => {
    const args = [work, String(samples)];
    if (resyncAt >= 0) args.push(resynced, String(resyncAt));
    if (change >= 0) args.push(changed, String(change));
    return runChild(source, args, samples, change, resyncAt);
  });
}

async function runChild(source: ChildSource, args: readonly string[], samples: number, changeAt: number, resyncAt: number): Promise<MemoryResult> {
  const script = fileURLToPath(new URL('./exporter-child.js', import.meta.url));
  // No flags of this process (npm run bench runs it with --expose-gc): the image's environment only.
  const child = spawn(process.execPath, [script, source, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...IMAGE_NODE_ENV },
  });
  const lines: ChildSampleLine[] = [];
  let done: ChildDoneLine | null = null;
  for await (const text of createInterface({ input: child.stdout })) {
    const line = JSON.parse(text) as ChildSampleLine | ChildDoneLine;
    if (line.kind === 'sample') {
      // A failed read would make every figure after it meaningless.
      if (line.readKind.includes('failed')) {
        child.kill();
        throw new Error(`exporter-child sample ${line.index}: ${line.readKind}`);
      }
      lines.push(line);
      if (line.index % 10 === 9) process.stderr.write(`    memory: sample ${line.index + 1}/${samples}, rss ${(line.rssBytes / 2 ** 20).toFixed(0)} MiB\n`);
    } else done = line;
  }
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('close', resolve)));
  if (code !== 0 || done === null) throw new Error(`exporter-child exited with ${code}`);
  const rss = lines.map((l) => l.rssBytes);
  // The analysis window (300 s at one sample per 10 s) fills over the first 30 samples: growth until
  // then is the window, not a leak. Flat means: the last 10 samples' median RSS is within tolerance of
  // that of samples 31–40.
  const settled = spread(rss.slice(WINDOW_SAMPLES, WINDOW_SAMPLES + 10)).median;
  const late = spread(rss.slice(-10)).median;
  const growthBytes = rss.length >= WINDOW_SAMPLES + 20 ? late - settled : Number.NaN;
  return {
    source,
    samples: lines.length,
    maxRssBytes: done.maxRssBytes,
    changeAt,
    resyncAt,
    maxRssBeforeChangeBytes: peakBeforeChange(lines, changeAt, done.maxRssBytes),
    rss,
    growthBytes,
    flat: growthBytes < FLAT_TOLERANCE_BYTES,
    sampleMs: spread(lines.map((l) => l.sampleMs + l.renderMs)),
    readKinds: countKinds(lines.map((l) => l.readKind)),
    maxLoopBlockMs: done.maxLoopBlockMs,
    maxLoopBlockAt: longestBlock(lines),
    peakBeforeChangeAt: peakReachedIn(lines.slice(0, changeAt < 0 ? lines.length : changeAt)),
    peakAt: peakReachedIn(lines),
    samplesBlockedOver100Ms: lines.filter((l) => l.loopBlockMs > 100).length,
    pageBytes: lines.at(-1)?.pageBytes ?? 0,
    pageHeldBytes: lines.at(-1)?.pageHeldBytes ?? 0,
    heapLimitBytes: done.heapLimitBytes,
    cpuMs: done.cpuMs,
    nodeEnv: IMAGE_NODE_ENV,
  };
}

/**
 * Peak RSS over the samples before the rules changed: the process's peak when they never did, and
 * none (NaN, shown as n/a) when they changed before the first sample.
 */
export function peakBeforeChange(lines: readonly Pick<ChildSampleLine, 'maxRssBytes'>[], changeAt: number, peakBytes: number): number {
  if (changeAt < 0) return peakBytes;
  return changeAt === 0 ? Number.NaN : (lines[changeAt - 1]?.maxRssBytes ?? Number.NaN);
}

/** The first of `lines` with the most `value`, as a SampleAt; null for none. */
function firstWithMost<L extends SampleAt>(lines: readonly L[], value: (line: L) => number): SampleAt | null {
  let at: L | null = null;
  for (const line of lines) if (at === null || value(line) > value(at)) at = line;
  return at === null ? null : { index: at.index, readKind: at.readKind };
}

/** The first of `lines` after which the process's peak RSS was the highest of them all. */
export function peakReachedIn(lines: readonly (SampleAt & Pick<ChildSampleLine, 'maxRssBytes'>)[]): SampleAt | null {
  return firstWithMost(lines, (line) => line.maxRssBytes);
}

function longestBlock(lines: readonly ChildSampleLine[]): SampleAt | null {
  return firstWithMost(lines, (line) => line.loopBlockMs);
}
