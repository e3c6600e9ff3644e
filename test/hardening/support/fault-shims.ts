/** A temp dir of fault-shim.sh copies to put alone on PATH, with per-name behaviour switchable between samples. */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAULT_SHIM = fileURLToPath(new URL('./fault-shim.sh', import.meta.url));

export const SAVE_BINARIES = ['iptables-nft-save', 'iptables-legacy-save', 'ip6tables-nft-save', 'ip6tables-legacy-save'] as const;

/**
 * Everything the exporter might plausibly be tricked or mistaken into running: rule-changing iptables
 * front ends and restores, the generic `iptables-save` wrapper, other netfilter tools, shells and
 * process tools. None of them may ever run.
 */
export const WATCHED_BINARIES = [
  ...SAVE_BINARIES,
  'iptables', 'ip6tables', 'iptables-save', 'ip6tables-save', 'iptables-restore', 'ip6tables-restore',
  'iptables-nft', 'iptables-legacy', 'ip6tables-nft', 'ip6tables-legacy',
  'iptables-nft-restore', 'iptables-legacy-restore', 'ip6tables-nft-restore', 'ip6tables-legacy-restore',
  'iptables-restore-translate', 'iptables-translate', 'xtables-nft-multi', 'xtables-legacy-multi', 'xtables-monitor',
  'ebtables', 'arptables', 'nft', 'conntrack', 'ipset', 'ipvsadm', 'ip', 'tc', 'ss', 'modprobe', 'insmod', 'sysctl',
  'sh', 'bash', 'dash', 'ash', 'zsh', 'busybox', 'env', 'sudo', 'su', 'nsenter', 'chroot', 'kill', 'pkill', 'ps', 'cat',
  'sleep', 'timeout', 'nice', 'ionice', 'stdbuf', 'node', 'npm', 'curl', 'wget',
] as const;

export interface FaultShims {
  readonly dir: string;
  readonly log: string;
  /** Environment for the exporter (merged over process.env by the caller): PATH is the shim dir only. */
  readonly env: Record<string, string>;
  /** Sets the behaviour of `binary` ('default' for all names without their own). */
  set(binary: string, mode: string): void;
  /** Writes a file into the dir (dumps) and returns its path. */
  file(name: string, text: string): string;
  /** Lines "<binary> <args>" in the order they ran. */
  calls(): string[];
  /** The pid a `hang` shim recorded, or null. */
  hangPid(): number | null;
  /** Not installed: the name disappears from PATH. */
  uninstall(binary: string): void;
  /** (Re)installs `binary` as an executable shim. */
  install(binary: string): void;
  /** Installed but not executable (EACCES), even for root. */
  makeUnexecutable(binary: string): void;
  remove(): void;
}

export function createFaultShims(binaries: readonly string[] = SAVE_BINARIES): FaultShims {
  const dir = mkdtempSync(join(tmpdir(), 'kbe-fault-shims-'));
  const bin = join(dir, 'bin');
  const control = join(dir, 'control');
  mkdirSync(bin);
  mkdirSync(control);
  const install = (name: string): void => {
    copyFileSync(FAULT_SHIM, join(bin, name));
    chmodSync(join(bin, name), 0o755);
  };
  for (const name of binaries) install(name);
  const log = join(dir, 'calls.log');
  return {
    dir,
    log,
    env: { PATH: bin, SHIM_LOG: log, SHIM_CONTROL: control },
    set: (binary, mode) => writeFileSync(join(control, binary), mode),
    file(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').map((l) => l.trimEnd()).filter((l) => l !== '') : []),
    hangPid() {
      const path = join(control, 'hang.pid');
      return existsSync(path) ? Number(readFileSync(path, 'utf8').trim()) : null;
    },
    uninstall: (binary) => unlinkSync(join(bin, binary)),
    install,
    makeUnexecutable: (binary) => chmodSync(join(bin, binary), 0o644),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
