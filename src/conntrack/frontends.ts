/** Which original destinations are Service frontends: ClusterIP, external and load-balancer IPs (ip:port), and NodePorts (any local ip). */
import type { Ladder } from '../model/types.js';
import type { ServicePortLabels } from './types.js';

/** One service port of the model, as the conntrack view aggregates it: all its ladders (policies) together. */
export interface TrackedServicePort {
  /** `${ipFamily}|${namespace}/${service}:${port}|${protocol}`: unique per page. */
  readonly id: string;
  readonly labels: ServicePortLabels;
  /** Every endpoint of its ladders, cluster ladder first, in rule order, without repeats. */
  readonly endpoints: readonly string[];
  readonly endpointSet: ReadonlySet<string>;
}

export interface FrontendIndex {
  readonly servicePorts: readonly TrackedServicePort[];
  /** `${protocol}|${ip}|${port}` → service ports (normally one). */
  readonly byAddress: ReadonlyMap<string, readonly TrackedServicePort[]>;
  /** `${protocol}|${nodePort}` → service ports: the destination is any address of the node. */
  readonly byNodePort: ReadonlyMap<string, readonly TrackedServicePort[]>;
}

interface Building {
  readonly id: string;
  readonly labels: ServicePortLabels;
  readonly endpoints: string[];
  readonly endpointSet: Set<string>;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}

/**
 * Builds the index from the ladders of one sample. Ladders without a name or protocol are left out:
 * their flows could not be labelled. A cluster and a local ladder of one service port share frontends
 * and aggregate into one service port.
 */
export function buildFrontendIndex(ladders: readonly Ladder[]): FrontendIndex {
  const byId = new Map<string, Building>();
  const byAddress = new Map<string, Building[]>();
  const byNodePort = new Map<string, Building[]>();
  // Cluster ladders first, so endpoint order follows the ladder that holds every endpoint.
  const ordered = [...ladders].sort((a, b) => (a.policy === b.policy ? 0 : a.policy === 'cluster' ? -1 : 1));
  for (const ladder of ordered) {
    if (ladder.name === null || ladder.protocol === null) continue;
    const { namespace, service, port } = ladder.name;
    const protocol = ladder.protocol.toLowerCase();
    const id = `${ladder.ipFamily}|${namespace}/${service}:${port}|${protocol}`;
    let entry = byId.get(id);
    if (entry === undefined) {
      entry = { id, labels: { namespace, service, port, protocol, ipFamily: ladder.ipFamily }, endpoints: [], endpointSet: new Set() };
      byId.set(id, entry);
    }
    for (const ep of ladder.endpoints) {
      if (ep.endpoint === null) continue;
      const endpoint = ep.endpoint.toLowerCase();
      if (entry.endpointSet.has(endpoint)) continue;
      entry.endpointSet.add(endpoint);
      entry.endpoints.push(endpoint);
    }
    if (ladder.servicePort !== null) {
      for (const ip of [ladder.clusterIP, ...ladder.externalIPs, ...ladder.loadBalancerIPs]) {
        if (ip !== null && ip !== '') push(byAddress, `${protocol}|${ip.toLowerCase()}|${ladder.servicePort}`, entry);
      }
    }
    if (ladder.nodePort !== null) push(byNodePort, `${protocol}|${ladder.nodePort}`, entry);
  }
  return { servicePorts: [...byId.values()], byAddress, byNodePort };
}

/** The service ports a flow's original destination may belong to; empty when it is not a frontend. */
export function candidatesFor(index: FrontendIndex, protocol: string, dst: string, dport: number): readonly TrackedServicePort[] {
  return index.byAddress.get(`${protocol}|${dst}|${dport}`) ?? index.byNodePort.get(`${protocol}|${dport}`) ?? NONE;
}

const NONE: readonly TrackedServicePort[] = [];
