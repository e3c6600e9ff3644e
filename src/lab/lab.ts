/** The lab: a kube-proxy "node" namespace with real rules, one namespace per pod running an identity server, and an external client namespace. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IpFamily } from '../iptables/types.js';
import { labRegistry, type LabResource } from './cleanup-registry.js';
import { runInNamespace, type CommandResult, type RunOptions } from './command.js';
import { createNamespace, createVeth, deleteNamespace, ip, nextLabStem, setSysctls, sweepStaleLabs } from './netns.js';
import { renderRuleset, type Layout } from './ruleset/render.js';
import { defaultLabScenario, validateScenario, type PodSpec, type Scenario } from './scenario.js';
import { ENDPOINT_SERVER_SOURCE } from './scripts/endpoint-server.js';
import { HTTP_GET_SOURCE } from './scripts/http-get.js';
import { TRAFFIC_CLIENT_SOURCE } from './scripts/traffic-client.js';

export type LabBackend = 'nft' | 'legacy';

export interface LabOptions {
  readonly scenario?: Scenario;
  /** Which iptables the node uses: `iptables-nft-restore` or `iptables-legacy-restore` (default nft). */
  readonly backend?: LabBackend;
  readonly layout?: Layout;
  /** false = large-cluster mode (no SVC→SEP / SEP comments). */
  readonly comments?: boolean;
  /** Number of addresses the client namespace owns (distinct ClientIP-affinity clients). Default 4. */
  readonly clientAddresses?: number;
  /** Remove leftovers of dead labs first (default true). */
  readonly sweep?: boolean;
}

export class LabError extends Error {
  readonly code = 'LAB';
}

/** Fixed lab addressing. Pod gateways sit in the pod CIDR like a CNI bridge address would. */
export const LAB_ADDRESSES = {
  podGateway: { ipv4: '10.244.0.1', ipv6: 'fd00:10:244::1' },
  serviceCIDR: { ipv4: '10.96.0.0/12', ipv6: 'fd00:10:96::/108' },
  /** The node's address towards the client: the NodePort address. */
  node: { ipv4: '192.168.100.1', ipv6: 'fd00:100::1' },
  clientNetwork: { ipv4: '192.168.100.0/24', ipv6: 'fd00:100::/64' },
} as const;

function clientAddress(family: IpFamily, i: number): string {
  return family === 'ipv6' ? `fd00:100::${(i + 2).toString(16)}` : `192.168.100.${i + 2}`;
}

export type LabScript = 'endpoint-server' | 'traffic-client' | 'http-get';
const SCRIPTS: Record<LabScript, string> = {
  'endpoint-server': ENDPOINT_SERVER_SOURCE,
  'traffic-client': TRAFFIC_CLIENT_SOURCE,
  'http-get': HTTP_GET_SOURCE,
};

export class Lab {
  /** The current rules' scenario; kube-proxy-sim replaces it when it rewrites chains. */
  scenario: Scenario;
  readonly nodeNamespace: string;
  readonly clientNamespace: string;
  readonly podNamespaces = new Map<string, string>();
  readonly clientAddresses: { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] };
  private readonly resources: LabResource[] = [];
  private readonly children = new Set<ChildProcess>();
  private nextUdpPort = 20_000;
  private tornDown = false;

  constructor(
    readonly stem: string,
    readonly dir: string,
    readonly backend: LabBackend,
    readonly layout: Layout,
    readonly comments: boolean,
    scenario: Scenario,
    clientAddresses: number,
  ) {
    this.scenario = scenario;
    this.nodeNamespace = `${stem}-node`;
    this.clientNamespace = `${stem}-client`;
    const range = Array.from({ length: clientAddresses }, (_, i) => i);
    this.clientAddresses = { ipv4: range.map((i) => clientAddress('ipv4', i)), ipv6: range.map((i) => clientAddress('ipv6', i)) };
  }

  /** Families the scenario uses; both tables exist on a dual-stack node, as with kube-proxy's MetaProxier. */
  get families(): IpFamily[] {
    const v6 = this.scenario.services.some((s) => s.ipFamily === 'ipv6');
    return v6 ? ['ipv4', 'ipv6'] : ['ipv4'];
  }

  scriptPath(script: LabScript): string {
    return join(this.dir, `${script}.mjs`);
  }

  /** `ip[6]tables-<backend>-<tool>` for this lab. */
  binary(family: IpFamily, tool: 'save' | 'restore'): string {
    return `${family === 'ipv6' ? 'ip6tables' : 'iptables'}-${this.backend}-${tool}`;
  }

  /** Runs a command inside one of the lab's namespaces (test helper; the exporter is spawned whole with `spawn`). */
  exec(namespace: string, file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult> {
    return runInNamespace(namespace, file, args, options);
  }

  /** `iptables-restore` into the node, with the lab's backend. */
  async restore(family: IpFamily, text: string, flags: readonly string[] = []): Promise<void> {
    await runInNamespace(this.nodeNamespace, this.binary(family, 'restore'), flags, { input: text });
  }

  /** `iptables-save -c -t <table>` of the node. */
  async save(family: IpFamily, table = 'nat'): Promise<string> {
    return (await runInNamespace(this.nodeNamespace, this.binary(family, 'save'), ['-c', '-t', table])).stdout;
  }

  /** `count` UDP source ports never used before in this lab: each is a new conntrack flow. */
  allocateUdpPorts(count: number): number[] {
    if (this.nextUdpPort + count > 32_000) throw new LabError(`lab ${this.stem}: out of UDP source ports`);
    const ports = Array.from({ length: count }, (_, i) => this.nextUdpPort + i);
    this.nextUdpPort += count;
    return ports;
  }

  /**
   * Starts a long-running process inside a namespace (`ip netns exec NS file args`); `ip netns exec`
   * execs the command, so the pid is the process itself. Registered for cleanup.
   */
  spawn(namespace: string, file: string, args: readonly string[], label: string): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', namespace, file, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new LabError(`lab ${this.stem}: could not start ${label}`);
    const resource: LabResource = { kind: 'process', pid: child.pid, label };
    labRegistry.add(resource);
    this.children.add(child);
    child.stdin?.on('error', () => {});
    child.on('exit', () => {
      labRegistry.remove(resource);
      this.children.delete(child);
    });
    return child;
  }

  /** The pids of the lab's live child processes. */
  get pids(): number[] {
    return [...this.children].map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  track(resource: LabResource): void {
    this.resources.push(resource);
  }

  /** Stops every process (SIGTERM, then SIGKILL after 2 s), deletes the namespaces and the temp dir. Idempotent. */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    const exits = [...this.children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.stdin?.end();
          child.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    const errors: string[] = [];
    for (const r of this.resources.filter((x) => x.kind === 'netns').reverse()) {
      try {
        await deleteNamespace(r.name);
      } catch (error) {
        errors.push(String(error));
      }
    }
    errors.push(...labRegistry.cleanupSync(this.resources.filter((r) => r.kind !== 'netns')));
    if (errors.length > 0) throw new LabError(`lab ${this.stem}: teardown left: ${errors.join('; ')}`);
  }
}

/** Waits for a `ready` line from a freshly started endpoint server. */
function waitReady(child: ChildProcess, label: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new LabError(`${label}: not ready after ${timeoutMs} ms: ${err.trim()}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new LabError(`${label}: exited with ${code} before ready: ${err.trim()}`));
    });
  });
}

/** Every (protocol, address, port) a pod must answer on: all target ports of the scenario, on each of its addresses. */
function podListeners(scenario: Scenario, pod: PodSpec): { protocol: string; address: string; port: number }[] {
  const seen = new Set<string>();
  const out: { protocol: string; address: string; port: number }[] = [];
  for (const service of scenario.services) {
    for (const port of service.ports) {
      for (const address of [pod.ipv4, pod.ipv6]) {
        if (address === undefined) continue;
        const key = `${port.protocol}/${address}/${port.targetPort}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ protocol: port.protocol, address, port: port.targetPort });
      }
    }
  }
  return out;
}

/** Throws a clear error when not root: the lab needs CAP_NET_ADMIN and CAP_SYS_ADMIN for namespaces. */
export function assertRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LabError('the lab needs root (network namespaces and iptables); run as root, e.g. sudo');
  }
}

/**
 * Brings a lab up: namespaces, veths, addresses and routes, sysctls, the ruleset (both families when
 * the scenario has IPv6 Services), and one identity server per pod. On any failure everything made
 * so far is torn down before the error is thrown.
 */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  assertRoot();
  const scenario = options.scenario ?? defaultLabScenario();
  validateScenario(scenario);
  if (options.sweep !== false) await sweepStaleLabs();
  const stem = nextLabStem();
  const dir = join(tmpdir(), stem);
  const lab = new Lab(stem, dir, options.backend ?? 'nft', options.layout ?? 'current', options.comments ?? true, scenario, options.clientAddresses ?? 4);
  const dirResource: LabResource = { kind: 'dir', path: dir };
  labRegistry.add(dirResource);
  lab.track(dirResource);
  try {
    mkdirSync(dir, { recursive: true });
    for (const [name, source] of Object.entries(SCRIPTS)) writeFileSync(join(dir, `${name}.mjs`), source);
    await buildNetwork(lab);
    for (const family of lab.families) {
      await lab.restore(family, renderRuleset(scenario, { family, layout: lab.layout, comments: lab.comments, bootstrap: true }));
    }
    await startServers(lab);
    return lab;
  } catch (error) {
    await lab.teardown().catch(() => {});
    throw error;
  }
}

async function newNamespace(lab: Lab, name: string): Promise<void> {
  lab.track({ kind: 'netns', name });
  await createNamespace(name);
  // No duplicate-address detection: addresses are usable at once (IPv6 would otherwise wait ~1 s).
  await setSysctls(name, { 'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0 });
}

async function buildNetwork(lab: Lab): Promise<void> {
  const node = lab.nodeNamespace;
  await newNamespace(lab, node);
  // Forwarding only inside the node namespace (namespaced sysctls); rp_filter off for the /32 routing.
  await setSysctls(node, {
    'net.ipv4.ip_forward': 1,
    'net.ipv6.conf.all.forwarding': 1,
    'net.ipv4.conf.all.rp_filter': 0,
    'net.ipv4.conf.default.rp_filter': 0,
  });
  const gw = LAB_ADDRESSES.podGateway;
  let index = 0;
  for (const pod of lab.scenario.pods) {
    const ns = `${lab.stem}-pod-${pod.name}`;
    await newNamespace(lab, ns);
    lab.podNamespaces.set(pod.name, ns);
    const veth = `vp${index++}`;
    await createVeth(node, veth, ns, 'eth0');
    if (pod.ipv4 !== undefined) {
      // Point-to-point /32 routing like Calico: the node owns the gateway address on every pod veth.
      await ip(node, 'addr', 'add', `${gw.ipv4}/32`, 'dev', veth);
      await ip(node, 'route', 'add', `${pod.ipv4}/32`, 'dev', veth, 'src', gw.ipv4);
      await ip(ns, 'addr', 'add', `${pod.ipv4}/32`, 'dev', 'eth0');
      await ip(ns, 'route', 'add', gw.ipv4, 'dev', 'eth0');
      await ip(ns, 'route', 'add', 'default', 'via', gw.ipv4, 'dev', 'eth0');
    }
    if (pod.ipv6 !== undefined) {
      await ip(node, 'addr', 'add', `${gw.ipv6}/128`, 'dev', veth, 'nodad');
      await ip(node, 'route', 'add', `${pod.ipv6}/128`, 'dev', veth);
      await ip(ns, 'addr', 'add', `${pod.ipv6}/128`, 'dev', 'eth0', 'nodad');
      await ip(ns, 'route', 'add', gw.ipv6, 'dev', 'eth0');
      await ip(ns, 'route', 'add', 'default', 'via', gw.ipv6, 'dev', 'eth0');
    }
  }

  const client = lab.clientNamespace;
  await newNamespace(lab, client);
  await createVeth(node, 'vcl', client, 'eth0');
  const n = LAB_ADDRESSES.node;
  await ip(node, 'addr', 'add', `${n.ipv4}/32`, 'dev', 'vcl');
  await ip(node, 'addr', 'add', `${n.ipv6}/128`, 'dev', 'vcl', 'nodad');
  await ip(node, 'route', 'add', LAB_ADDRESSES.clientNetwork.ipv4, 'dev', 'vcl', 'src', n.ipv4);
  await ip(node, 'route', 'add', LAB_ADDRESSES.clientNetwork.ipv6, 'dev', 'vcl');
  for (const address of lab.clientAddresses.ipv4) await ip(client, 'addr', 'add', `${address}/32`, 'dev', 'eth0');
  for (const address of lab.clientAddresses.ipv6) await ip(client, 'addr', 'add', `${address}/128`, 'dev', 'eth0', 'nodad');
  await ip(client, 'route', 'add', n.ipv4, 'dev', 'eth0');
  await ip(client, 'route', 'add', 'default', 'via', n.ipv4, 'dev', 'eth0', 'src', lab.clientAddresses.ipv4[0] ?? n.ipv4);
  await ip(client, 'route', 'add', n.ipv6, 'dev', 'eth0');
  await ip(client, 'route', 'add', 'default', 'via', n.ipv6, 'dev', 'eth0', 'src', lab.clientAddresses.ipv6[0] ?? n.ipv6);
  // Traffic the node itself sends to a ClusterIP needs a route out of the node, as on a real host
  // (its default route); kube-proxy's OUTPUT DNAT then re-routes it to the pod.
  await ip(node, 'route', 'add', LAB_ADDRESSES.serviceCIDR.ipv4, 'via', lab.clientAddresses.ipv4[0] ?? n.ipv4, 'dev', 'vcl');
  await ip(node, 'route', 'add', LAB_ADDRESSES.serviceCIDR.ipv6, 'via', lab.clientAddresses.ipv6[0] ?? n.ipv6, 'dev', 'vcl');
}

async function startServers(lab: Lab): Promise<void> {
  const ready: Promise<void>[] = [];
  for (const pod of lab.scenario.pods) {
    const ns = lab.podNamespaces.get(pod.name);
    if (ns === undefined) throw new LabError(`lab ${lab.stem}: no namespace for pod ${pod.name}`);
    const listeners = podListeners(lab.scenario, pod);
    const label = `endpoint server ${pod.name}`;
    const child = lab.spawn(ns, process.execPath, [lab.scriptPath('endpoint-server'), JSON.stringify(listeners)], label);
    ready.push(waitReady(child, label, 15_000));
  }
  await Promise.all(ready);
}
