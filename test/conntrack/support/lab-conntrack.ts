/** Helpers for running the conntrack view against a lab node: a conntrack shim into the node namespace, bulk servers and clients. */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../../src/lab/command.js';
import type { Lab } from '../../../src/lab/lab.js';
import { createCommandRunner, type CommandRunner } from '../../../src/source/run-command.js';
import { BULK_CLIENT_SOURCE, BULK_SERVER_SOURCE } from './bulk-scripts.js';

/**
 * A CommandRunner whose `conntrack` and `nft` are shims that enter the lab's node namespace: the
 * exporter's own runner (allow-list, timeout, streaming) runs them exactly as on a node.
 */
export function nodeNamespaceRunner(lab: Lab): CommandRunner {
  const dir = join(lab.dir, 'shims');
  spawnSync('mkdir', ['-p', dir]);
  for (const tool of ['conntrack', 'nft']) {
    const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    const path = join(dir, tool);
    writeFileSync(path, `#!/bin/sh\nexec ip netns exec '${lab.nodeNamespace}' '${real}' "$@"\n`);
    chmodSync(path, 0o755);
  }
  return createCommandRunner({ env: { PATH: `${dir}:${process.env.PATH ?? ''}` } });
}

/** `nf_conntrack_acct` of the node namespace (the test process's own /proc is the host's). */
export function nodeAccounting(lab: Lab): () => boolean | null {
  return () => {
    const out = spawnSync('ip', ['netns', 'exec', lab.nodeNamespace, 'cat', '/proc/sys/net/netfilter/nf_conntrack_acct'], { encoding: 'utf8' });
    return out.stdout.trim() === '1' ? true : out.stdout.trim() === '0' ? false : null;
  };
}

function firstLine(child: ChildProcess, label: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const onErr = (d: Buffer): void => {
      err += d.toString();
    };
    const done = (): void => {
      clearTimeout(timer);
      child.stdout?.removeListener('data', onData);
      child.stderr?.removeListener('data', onErr);
      child.removeListener('exit', onExit);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${label}: no output after ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        done();
        resolve(out.slice(0, nl));
      }
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`${label} exited with ${code}: ${err}`));
    };
    child.stderr?.on('data', onErr);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

export interface BulkServer {
  stats(): Promise<{ identity: string; open: number; connections: number; bytes: number }[]>;
}

/**
 * Replaces the lab's identity server in each pod namespace with a bulk server on the same address and
 * port (the lab's servers close every connection at once). Only processes this test's lab started are
 * killed, by pid.
 */
export async function replaceWithBulkServers(lab: Lab, listeners: Record<string, { address: string; port: number }[]>): Promise<Map<string, BulkServer>> {
  const script = join(lab.dir, 'bulk-server.mjs');
  writeFileSync(script, BULK_SERVER_SOURCE);
  const out = new Map<string, BulkServer>();
  for (const [pod, list] of Object.entries(listeners)) {
    const ns = lab.podNamespaces.get(pod);
    if (ns === undefined) throw new Error(`no pod ${pod}`);
    const pids = (await runCommand('ip', ['netns', 'pids', ns])).stdout.split(/\s+/).filter(Boolean).map(Number);
    for (const pid of pids) if (lab.pids.includes(pid)) process.kill(pid, 'SIGKILL');
    // Wait until the old server is gone (its port is free) before binding the same address.
    for (let i = 0; i < 100 && pids.some((p) => lab.pids.includes(p)); i++) await new Promise((r) => setTimeout(r, 20));
    const child = lab.spawn(ns, process.execPath, [script, JSON.stringify(list)], `bulk server ${pod}`);
    const ready = await firstLine(child, `bulk server ${pod}`);
    if (ready !== 'ready') throw new Error(`bulk server ${pod}: ${ready}`);
    out.set(pod, {
      async stats() {
        const line = firstLine(child, `bulk server ${pod} stats`);
        child.stdin?.write('stats\n');
        return JSON.parse(await line) as { identity: string; open: number; connections: number; bytes: number }[];
      },
    });
  }
  return out;
}

export interface BulkClientResult {
  readonly perEndpoint: Record<string, { connections: number; bytes: number }>;
  readonly failures: number;
  /** Closes every connection (ends the client). */
  close(): void;
}

/** Opens `count` long-lived connections from the client namespace; resolves once all bytes are written. */
export async function openBulkConnections(
  lab: Lab,
  options: { host: string; port: number; count: number; bytesFor: Record<string, number>; defaultBytes: number },
): Promise<BulkClientResult> {
  const script = join(lab.dir, 'bulk-client.mjs');
  writeFileSync(script, BULK_CLIENT_SOURCE);
  const child = lab.spawn(lab.clientNamespace, process.execPath, [script, JSON.stringify({ ...options, localAddress: lab.clientAddresses.ipv4[0] })], 'bulk client');
  const parsed = JSON.parse(await firstLine(child, 'bulk client', 60_000)) as Omit<BulkClientResult, 'close'>;
  return { ...parsed, close: () => child.stdin?.end() };
}
