/**
 * The built exporter for whole-process tests: `tsc -p tsconfig.build.json` into a private directory
 * (not dist/, which other test files build concurrently), once per source change, shared by the test
 * files of one run through a lock directory; and a helper to run it with a given PATH.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// One build directory per checkout: two clones on one machine (a CI run beside a working copy) must
// not share it, or one's node_modules link and dist/ would serve the other.
const BUILD = join(tmpdir(), `kbe-hardening-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`);
const STAMP = join(BUILD, 'built.stamp');
const LOCK = join(BUILD, 'lock');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Points `link` at `target`, replacing a link left by an earlier checkout at the same path (even a dangling one). */
function linkNodeModules(target: string, link: string): void {
  let current: string | null = null;
  try {
    current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : 'not a link';
  } catch {
    current = null;
  }
  if (current === target) return;
  if (current !== null) rmSync(link, { recursive: true, force: true });
  symlinkSync(target, link);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Path of the built cli.js; builds when src/ changed since the last build. */
export async function buildCli(): Promise<string> {
  const cli = join(BUILD, 'dist', 'cli.js');
  mkdirSync(BUILD, { recursive: true });
  for (;;) {
    const fresh = existsSync(STAMP) && statSync(STAMP).mtimeMs > newestSource(join(ROOT, 'src'));
    if (fresh && existsSync(cli)) return cli;
    try {
      mkdirSync(LOCK);
    } catch {
      // Another test file is building; take over only if it died.
      const owner = Number((existsSync(join(LOCK, 'pid')) && readPid(join(LOCK, 'pid'))) || 0);
      if (owner !== 0 && !pidAlive(owner)) rmSync(LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      // Module resolution walks up from dist/: give it the project's package.json and node_modules.
      copyFileSync(join(ROOT, 'package.json'), join(BUILD, 'package.json'));
      linkNodeModules(join(ROOT, 'node_modules'), join(BUILD, 'node_modules'));
      rmSync(join(BUILD, 'dist'), { recursive: true, force: true });
      execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(BUILD, 'dist')], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      writeFileSync(STAMP, new Date().toISOString());
      return cli;
    } finally {
      rmSync(LOCK, { recursive: true, force: true });
    }
  }
}

function readPid(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '0';
  }
}

export interface ExporterProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout + stderr so far (logfmt logs). */
  logs(): string;
  /** Resolves with the exit code and signal once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** `http://127.0.0.1:PORT` once the exporter logged where it listens. */
  readonly base: Promise<string>;
  /** Peak resident set size so far (VmHWM, bytes). */
  peakRssBytes(): number;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts `node ...nodeArgs cli.js --web.listen-address=127.0.0.1:0 ...args` with `env` as its whole
 * environment (plus HOME).
 */
export function startExporterProcess(cli: string, args: readonly string[], env: Record<string, string>, nodeArgs: readonly string[] = []): ExporterProcess {
  const child = spawn(process.execPath, [...nodeArgs, cli, '--web.listen-address=127.0.0.1:0', '--no-kube.enabled', ...args], {
    env: { HOME: tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let resolveBase: (url: string) => void = () => {};
  let rejectBase: (error: Error) => void = () => {};
  const base = new Promise<string>((resolve, reject) => {
    resolveBase = resolve;
    rejectBase = reject;
  });
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    const match = /msg=listening address=127\.0\.0\.1:(\d+)/.exec(output);
    if (match) resolveBase(`http://127.0.0.1:${match[1]}`);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      rejectBase(new Error(`exporter exited (${code ?? signal}) before listening:\n${output}`));
      resolve({ code, signal });
    });
  });
  base.catch(() => undefined);
  return {
    child,
    pid: child.pid ?? 0,
    logs: () => output,
    exited,
    base,
    peakRssBytes() {
      const status = readStatus(child.pid ?? 0);
      const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
      return kb === undefined ? 0 : Number(kb) * 1024;
    },
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  };
}

function readStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}
