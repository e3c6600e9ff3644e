/** Network-namespace primitives: unique `kbe-<pid>-<n>-…` names, create/delete with registration, veth links, sysctls, and the stale-lab sweeper. */
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labRegistry } from './cleanup-registry.js';
import { runCommand, runInNamespace } from './command.js';

/** Every lab object's name starts with this; the sweeper only ever touches names matching `kbe-<pid>-`. */
export const LAB_PREFIX = 'kbe';
const LAB_NAME = /^kbe-(\d+)-\d+-/;

let labCounter = 0;

/** `kbe-<pid>-<n>`: the name stem of a new lab in this process. */
export function nextLabStem(): string {
  labCounter += 1;
  return `${LAB_PREFIX}-${process.pid}-${labCounter}`;
}

export async function createNamespace(name: string): Promise<void> {
  labRegistry.add({ kind: 'netns', name });
  await runCommand('ip', ['netns', 'add', name]);
  await runCommand('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Kills whatever still runs inside, then deletes the namespace; unregisters it. */
export async function deleteNamespace(name: string): Promise<void> {
  const pids = await runCommand('ip', ['netns', 'pids', name], { allowFailure: true });
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const result = await runCommand('ip', ['netns', 'del', name], { allowFailure: true });
  if (result.exitCode !== 0 && !/No such file|not found/i.test(result.stderr)) {
    throw new Error(`ip netns del ${name}: ${result.stderr.trim()}`);
  }
  labRegistry.remove({ kind: 'netns', name });
}

/** `sysctl -w` inside a namespace (net.* sysctls are per namespace: the host's stay untouched). */
export async function setSysctls(namespace: string, values: Record<string, string | number>): Promise<void> {
  const args = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  await runInNamespace(namespace, 'sysctl', ['-q', '-w', ...args]);
}

/** `ip -n NS args...` */
export async function ip(namespace: string, ...args: string[]): Promise<void> {
  await runCommand('ip', ['-n', namespace, ...args]);
}

/** A veth pair `a` in namespace `nsA`, `b` in `nsB`, both up. Interface names are per namespace. */
export async function createVeth(nsA: string, a: string, nsB: string, b: string): Promise<void> {
  await runCommand('ip', ['-n', nsA, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', nsB]);
  await ip(nsA, 'link', 'set', a, 'up');
  await ip(nsB, 'link', 'set', b, 'up');
}

export async function listNamespaces(): Promise<string[]> {
  const result = await runCommand('ip', ['netns', 'list'], { allowFailure: true });
  return result.stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.length > 0);
}

/** Lab namespaces that exist now (any owner). */
export async function listLabNamespaces(): Promise<string[]> {
  return (await listNamespaces()).filter((name) => LAB_NAME.test(name));
}

function ownerAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means it exists but is not ours: alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes leftovers of labs whose owning process is dead (a SIGKILLed test run): `kbe-<pid>-*`
 * namespaces (and the processes inside them) and `/tmp/kbe-<pid>-*` directories. Labs of live
 * processes, including concurrent test files, are left alone. Returns what it removed.
 */
export async function sweepStaleLabs(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await listLabNamespaces()) {
    const pid = Number(LAB_NAME.exec(name)?.[1]);
    if (pid === process.pid || ownerAlive(pid)) continue;
    await deleteNamespace(name);
    removed.push(name);
  }
  for (const entry of readdirSync(tmpdir())) {
    const match = /^kbe-(\d+)-\d+$/.exec(entry);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || ownerAlive(pid)) continue;
    rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    removed.push(join(tmpdir(), entry));
  }
  return removed;
}
