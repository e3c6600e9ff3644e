/**
 * iptables-save on the same ruleset, in the same run: the ruleset is loaded into a lab network
 * namespace per backend (iptables-{legacy,nft}-restore -c) and `*-save -c -t nat` is timed inside it
 * with `ip netns exec`. Only the namespace's own tables are read or written. `iptables -S CHAIN` is
 * run on nft only: legacy iptables takes the host-wide xtables lock for every command but restore's
 * own (iptables.c do_command4 → xtables_lock_or_exit), and the benchmark must never hold it.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { createNamespace, deleteNamespace, nextLabStem } from '../lab/netns.js';
import { readProcCpuSeconds } from '../source/proc-cpu.js';
import { peakRssBytes } from './peak-rss.js';

export type Backend = 'legacy' | 'nft';

export interface CommandTiming {
  readonly wallMs: number;
  /** The child's user + system CPU (from /proc just before it exited); NaN when unreadable. */
  readonly cpuMs: number;
  /** Peak RSS of the child (VmHWM); NaN when unreadable. */
  readonly peakRssBytes: number;
  readonly outputBytes: number;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
}

/**
 * Runs `ip netns exec NS file args...` (iproute2 execs the command in place, so the pid is the
 * command's own), optionally with stdin from a file; stdout is counted and dropped.
 */
export function timeInNamespace(namespace: string, file: string, args: readonly string[], options: { stdinPath?: string; timeoutMs?: number } = {}): Promise<CommandTiming> {
  return new Promise((resolve, reject) => {
    const stdin = options.stdinPath === undefined ? 'ignore' : openSync(options.stdinPath, 'r');
    const started = performance.now();
    const child = spawn('ip', ['netns', 'exec', namespace, file, ...args], { stdio: [stdin, 'pipe', 'pipe'] });
    if (typeof stdin === 'number') closeSync(stdin);
    const { stdout, stderr: stderrStream } = child;
    if (stdout === null || stderrStream === null) throw new Error('spawn without pipes');
    let outputBytes = 0;
    let cpuMs = Number.NaN;
    let highestRss = Number.NaN;
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 600_000);
    const samplePeak = (): void => {
      if (child.pid === undefined) return;
      const peak = peakRssBytes(child.pid);
      if (Number.isFinite(peak) && !(peak <= highestRss)) highestRss = peak;
    };
    // VmHWM is gone once the child has exited (a zombie has no memory map): poll it while it runs.
    const poll = setInterval(samplePeak, 20);
    const sampleProc = (): void => {
      clearInterval(poll);
      if (child.pid === undefined) return;
      samplePeak();
      const cpu = readProcCpuSeconds(child.pid);
      if (cpu !== null) cpuMs = cpu * 1000;
    };
    stdout.on('data', (chunk: Buffer) => {
      outputBytes += chunk.length;
    });
    // EOF on stdout comes as the child exits, before it is reaped: the last moment /proc still has it.
    stdout.once('end', sampleProc);
    stderrStream.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      const wallMs = performance.now() - started;
      if (code !== 0 && !timedOut) {
        reject(new Error(`ip netns exec ${namespace} ${file} ${args.join(' ')}: exit ${code}: ${stderr.trim()}`));
        return;
      }
      resolve({ wallMs, cpuMs, peakRssBytes: highestRss, outputBytes, exitCode: code, timedOut });
    });
  });
}

export interface BackendTimings {
  readonly backend: Backend;
  readonly restore: CommandTiming;
  readonly saves: CommandTiming[];
  /** `iptables-nft -t nat -S KUBE-SERVICES -v`: the per-service entry rules alone (nft only). */
  readonly servicesChainOnly: CommandTiming[];
}

export interface NamespaceRunOptions {
  readonly dumpPath: string;
  readonly runs: number;
  readonly timeoutMs: number;
}

/** Loads the dump into a fresh namespace, times the saves, removes the namespace (also on failure). */
export async function timeBackend(backend: Backend, options: NamespaceRunOptions): Promise<BackendTimings> {
  const namespace = `${nextLabStem()}-bench-${backend}`;
  await createNamespace(namespace);
  try {
    const restore = await timeInNamespace(namespace, `iptables-${backend}-restore`, ['-c'], { stdinPath: options.dumpPath, timeoutMs: options.timeoutMs });
    if (restore.timedOut) throw new Error(`iptables-${backend}-restore timed out after ${options.timeoutMs / 1000}s`);
    const saves: CommandTiming[] = [];
    for (let i = 0; i < options.runs; i++) {
      const save = await timeInNamespace(namespace, `iptables-${backend}-save`, ['-c', '-t', 'nat'], { timeoutMs: options.timeoutMs });
      saves.push(save);
      if (save.timedOut) break;
    }
    const servicesChainOnly: CommandTiming[] = [];
    if (backend === 'nft') {
      for (let i = 0; i < options.runs; i++) {
        servicesChainOnly.push(await timeInNamespace(namespace, 'iptables-nft', ['-t', 'nat', '-S', 'KUBE-SERVICES', '-v'], { timeoutMs: options.timeoutMs }));
      }
    }
    return { backend, restore, saves, servicesChainOnly };
  } finally {
    await deleteNamespace(namespace);
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
