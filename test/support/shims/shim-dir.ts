/** Builds a temp dir of save-shim.sh symlinks to put alone on PATH, plus helpers to read what ran. */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHIM_SCRIPT = fileURLToPath(new URL('./save-shim.sh', import.meta.url));

/** The eight save binaries the exporter may run. */
export const SAVE_BINARIES = [
  'iptables-nft-save',
  'iptables-legacy-save',
  'ip6tables-nft-save',
  'ip6tables-legacy-save',
] as const;

/** Binaries it must never run: rule-modifying tools and listing commands that take the xtables lock. */
export const FORBIDDEN_BINARIES = [
  'iptables',
  'ip6tables',
  'iptables-nft',
  'iptables-legacy',
  'ip6tables-nft',
  'ip6tables-legacy',
  'iptables-save',
  'ip6tables-save',
  'iptables-restore',
  'ip6tables-restore',
  'iptables-nft-restore',
  'iptables-legacy-restore',
  'nft',
  'conntrack',
  'ipvsadm',
] as const;

export interface ShimDir {
  readonly dir: string;
  readonly logFile: string;
  /** env for the command runner: PATH is the shim dir only. */
  env(modes: Readonly<Record<string, string>>): Record<string, string>;
  /** Writes a fixture file into the dir and returns its path. */
  fixture(name: string, text: string): string;
  /** Lines "<binary> <args>" in the order they ran. */
  calls(): string[];
  remove(): void;
}

export function shimModeVariable(binary: string): string {
  return `SHIM_${binary.toUpperCase().replace(/-/g, '_')}`;
}

/** `binaries` are linked (default: the save binaries and the forbidden ones); leave one out to make it "not installed". */
export function createShimDir(binaries: readonly string[] = [...SAVE_BINARIES, ...FORBIDDEN_BINARIES]): ShimDir {
  const dir = mkdtempSync(join(tmpdir(), 'kbe-shims-'));
  for (const binary of binaries) symlinkSync(SHIM_SCRIPT, join(dir, binary));
  const logFile = join(dir, 'calls.log');
  return {
    dir,
    logFile,
    env(modes) {
      const env: Record<string, string> = { PATH: dir, SHIM_LOG: logFile };
      for (const [binary, mode] of Object.entries(modes)) {
        env[binary === 'default' ? 'SHIM_DEFAULT' : shimModeVariable(binary)] = mode;
      }
      return env;
    },
    fixture(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    calls() {
      if (!existsSync(logFile)) return [];
      return readFileSync(logFile, 'utf8').split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
