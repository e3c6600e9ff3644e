/** Process-wide registry of everything the lab created (namespaces, processes, temp dirs), torn down on success, failure, signals and exit. */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

export type LabResource =
  | { readonly kind: 'netns'; readonly name: string }
  | { readonly kind: 'process'; readonly pid: number; readonly label: string }
  | { readonly kind: 'dir'; readonly path: string };

function key(resource: LabResource): string {
  switch (resource.kind) {
    case 'netns':
      return `netns:${resource.name}`;
    case 'process':
      return `process:${resource.pid}`;
    case 'dir':
      return `dir:${resource.path}`;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Synchronous, so it can run in an `exit` handler: SIGKILL registered processes (by pid, never by
 * name), delete namespaces (after their processes, since a namespace lives on while a process is in
 * it), remove temp dirs. Returns what could not be removed.
 */
function removeSync(resources: readonly LabResource[]): string[] {
  const failures: string[] = [];
  for (const r of resources) {
    if (r.kind !== 'process' || !isAlive(r.pid)) continue;
    try {
      process.kill(r.pid, 'SIGKILL');
    } catch (error) {
      failures.push(`kill ${r.pid} (${r.label}): ${String(error)}`);
    }
  }
  for (const r of resources) {
    if (r.kind !== 'netns') continue;
    // Processes we did not register (a command still running inside) would keep the namespace alive.
    const pids = spawnSync('ip', ['netns', 'pids', r.name], { encoding: 'utf8' }).stdout ?? '';
    for (const pid of pids.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const result = spawnSync('ip', ['netns', 'del', r.name], { encoding: 'utf8' });
    if (result.status !== 0 && !/No such file|not found/i.test(result.stderr ?? '')) failures.push(`ip netns del ${r.name}: ${result.stderr?.trim() ?? result.status}`);
  }
  for (const r of resources) {
    if (r.kind === 'dir') rmSync(r.path, { recursive: true, force: true });
  }
  return failures;
}

export class CleanupRegistry {
  private readonly resources = new Map<string, LabResource>();
  private handlersInstalled = false;

  add(resource: LabResource): void {
    this.installHandlers();
    this.resources.set(key(resource), resource);
  }

  remove(resource: LabResource): void {
    this.resources.delete(key(resource));
  }

  list(): LabResource[] {
    return [...this.resources.values()];
  }

  /** Removes the given resources (default: all) and forgets them; returns failures. */
  cleanupSync(only?: readonly LabResource[]): string[] {
    const targets = only ?? this.list();
    const failures = removeSync(targets);
    for (const r of targets) this.remove(r);
    return failures;
  }

  private installHandlers(): void {
    if (this.handlersInstalled) return;
    this.handlersInstalled = true;
    process.on('exit', () => {
      this.cleanupSync();
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const handler = (): void => {
        this.cleanupSync();
        process.removeListener(signal, handler);
        // Re-raise so the process ends the way the signal asked (and the parent sees it).
        process.kill(process.pid, signal);
      };
      process.on(signal, handler);
    }
  }
}

/** The one registry of this process. */
export const labRegistry = new CleanupRegistry();
