/** Traffic driver: N real TCP connections or UDP flows through a ClusterIP or NodePort, and the per-endpoint ground truth they produce. */
import type { IpFamily } from '../iptables/types.js';
import { LAB_ADDRESSES, LabError, type Lab } from './lab.js';
import { findPort, findService, type LabProtocol } from './scenario.js';

export interface TrafficRequest {
  /** `namespace/name` of the Service. */
  readonly service: string;
  /** Service port name; default: the Service's first port. */
  readonly port?: string;
  /** `cluster-ip` (default) or `node-port` (the node's address on the client network). */
  readonly via?: 'cluster-ip' | 'node-port';
  /** `node`: from the node itself (nat OUTPUT path); `client` (default): from outside the pod CIDR (PREROUTING, forwarded). */
  readonly from?: 'node' | 'client';
  readonly count: number;
  readonly concurrency?: number;
  readonly timeoutMs?: number;
  /** Client source address (index into the lab's client addresses, or an address); default the first. */
  readonly clientAddress?: number | string;
  /** UDP only: send every datagram from one source port, sequentially: one conntrack flow. */
  readonly reuseSourcePort?: boolean;
}

export interface TrafficResult {
  /** Answers per endpoint identity (`ip:port` / `[v6]:port`): the ground truth. */
  readonly counts: ReadonlyMap<string, number>;
  /** Sum of `counts`: connections (TCP) or flows (UDP) that were answered. */
  readonly total: number;
  readonly failures: number;
  readonly errors: readonly string[];
  readonly target: { readonly host: string; readonly port: number; readonly protocol: LabProtocol; readonly family: IpFamily };
}

interface ClientOutput {
  counts: Record<string, number>;
  failures: number;
  errors: string[];
}

/** Resolves where a request connects to. */
export function trafficTarget(lab: Lab, request: Pick<TrafficRequest, 'service' | 'port' | 'via'>): TrafficResult['target'] {
  const service = findService(lab.scenario, request.service);
  const port = request.port === undefined ? service.ports[0] : findPort(service, request.port);
  if (port === undefined) throw new LabError(`service ${request.service} has no ports`);
  if ((request.via ?? 'cluster-ip') === 'cluster-ip') {
    return { host: service.clusterIP, port: port.port, protocol: port.protocol, family: service.ipFamily };
  }
  if (port.nodePort === undefined) throw new LabError(`service ${request.service} port '${port.name}' has no NodePort`);
  return { host: LAB_ADDRESSES.node[service.ipFamily], port: port.nodePort, protocol: port.protocol, family: service.ipFamily };
}

/**
 * Runs the lab's traffic client inside the source namespace (`ip netns exec NS node traffic-client.mjs`)
 * and returns which endpoint answered each connection or flow. Does not throw on failed connections:
 * they are counted in `failures` (a REJECTed Service fails them all).
 */
export async function driveTraffic(lab: Lab, request: TrafficRequest): Promise<TrafficResult> {
  const target = trafficTarget(lab, request);
  const from = request.from ?? 'client';
  let localAddress: string | undefined;
  if (from === 'client') {
    const addresses = lab.clientAddresses[target.family];
    localAddress = typeof request.clientAddress === 'string' ? request.clientAddress : addresses[request.clientAddress ?? 0];
    if (localAddress === undefined) throw new LabError(`lab ${lab.stem}: no client address ${String(request.clientAddress)}`);
  }
  const reuse = request.reuseSourcePort === true && target.protocol === 'udp';
  const sourcePorts = target.protocol !== 'udp' ? undefined : reuse ? Array<number>(request.count).fill(lab.allocateUdpPorts(1)[0] ?? 0) : lab.allocateUdpPorts(request.count);
  const timeoutMs = request.timeoutMs ?? 3_000;
  const input = {
    protocol: target.protocol,
    host: target.host,
    port: target.port,
    count: request.count,
    concurrency: reuse ? 1 : (request.concurrency ?? 16),
    timeoutMs,
    localAddress,
    sourcePorts,
  };
  const namespace = from === 'node' ? lab.nodeNamespace : lab.clientNamespace;
  const result = await lab.exec(namespace, process.execPath, [lab.scriptPath('traffic-client'), JSON.stringify(input)], {
    timeoutMs: 30_000 + Math.ceil(request.count / input.concurrency) * timeoutMs,
  });
  let output: ClientOutput;
  try {
    output = JSON.parse(result.stdout) as ClientOutput;
  } catch (error) {
    throw new LabError(`traffic client in ${namespace}: unreadable output '${result.stdout.slice(0, 200)}' (stderr: ${result.stderr.slice(0, 400)})`, { cause: error });
  }
  const counts = new Map(Object.entries(output.counts));
  let total = 0;
  for (const n of counts.values()) total += n;
  return { counts, total, failures: output.failures, errors: output.errors, target };
}

/** Adds ground-truth tallies together (several runs against one Service). */
export function mergeCounts(...results: readonly (ReadonlyMap<string, number> | TrafficResult)[]): Map<string, number> {
  const merged = new Map<string, number>();
  for (const r of results) {
    const counts = 'counts' in r ? (r as TrafficResult).counts : (r as ReadonlyMap<string, number>);
    for (const [k, v] of counts) merged.set(k, (merged.get(k) ?? 0) + v);
  }
  return merged;
}
