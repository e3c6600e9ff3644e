/** Groups a nat table's per-service chains by their shared hash suffix and collects what the entry rules say. */
import type { Chain, Rule, Table } from '../iptables/types.js';
import type { Slices, WorkMeter } from '../slices.js';
import { sortSteps } from '../sort-steps.js';
import { isEndpointChain, serviceChainPrefix } from './chain-names.js';
import { hostAddress } from './endpoint-chain.js';

/**
 * Where a candidate service-port name came from, in the order the model trusts them: the
 * KUBE-SERVICES "cluster IP" comment, the ladder's masquerade rule, SVC→SEP comments, SEP comments,
 * KUBE-EXT comments, KUBE-NODEPORTS comments, then anything else (external/LB IP, KUBE-FW, XLB).
 */
export const NameSource = {
  ClusterIPEntry: 0,
  Masquerade: 1,
  LadderRule: 2,
  EndpointChain: 3,
  ExternalChain: 4,
  NodePort: 5,
  Other: 6,
} as const;
export type NameSource = (typeof NameSource)[keyof typeof NameSource];
export const NAME_SOURCE_COUNT = 7;

/** Everything known about one service port (one hash suffix) in one family. Mutable while building. */
export interface ServicePortGroup {
  readonly suffix: string;
  /** KUBE-SVC/SVL/XLB chains of this suffix, declared or jumped to, in first-seen order. */
  readonly ladderChains: string[];
  /** A KUBE-EXT or KUBE-FW chain of this suffix is declared or jumped to. */
  hasExternalChain: boolean;
  /** First comment seen per NameSource. */
  readonly nameComments: (string | null)[];
  protocol: string | null;
  clusterIP: string | null;
  servicePort: number | null;
  nodePort: number | null;
  readonly externalIPs: string[];
  readonly loadBalancerIPs: string[];
}

/** Cluster-IP facts from pre-1.23 masquerade rules in KUBE-SERVICES, keyed by the printed service port name. */
export interface ServicesMasquerade {
  readonly clusterIP: string | null;
  readonly servicePort: number | null;
  readonly protocol: string | null;
}

export interface CollectedServicePorts {
  readonly groups: Map<string, ServicePortGroup>;
  /** Ladder chain → suffix. */
  readonly ladders: Map<string, string>;
  readonly servicesMasquerade: Map<string, ServicesMasquerade>;
}

const CLUSTER_IP = ' cluster IP';
const EXTERNAL_IP = ' external IP';
const LOADBALANCER_IP = ' loadbalancer IP';

function pushUnique(list: string[], value: string | null): void {
  if (value !== null && !list.includes(value)) list.push(value);
}

/** Keeps the first comment per source that can hold a name (`ns/svc…` needs a slash; prose comments have none). */
export function noteName(group: ServicePortGroup, source: NameSource, comment: string | null): void {
  if (comment !== null && group.nameComments[source] === null && comment.includes('/')) group.nameComments[source] = comment;
}

export function noteProtocol(group: ServicePortGroup, protocol: string | null): void {
  if (group.protocol === null && protocol !== null) group.protocol = protocol;
}

function compareNullable<T extends string | number>(a: T | null, b: T | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/**
 * A total order on KUBE-SERVICES and KUBE-NODEPORTS rules by every field their readers use. kube-proxy
 * writes these chains in a new order at every sync (a Go map's), and the structure scan treats
 * outputs that differ only in that order as one (counter-refresh/unordered-chains.ts); reading the
 * rules in this order makes the model the same for all of them, as that requires. Rules equal here
 * are interchangeable for the readers.
 */
export function compareEntryRules(a: Rule, b: Rule): number {
  return (
    compareNullable(a.target, b.target) ||
    compareNullable(a.comment, b.comment) ||
    compareNullable(a.destination?.address ?? null, b.destination?.address ?? null) ||
    Number(a.destination?.negated ?? false) - Number(b.destination?.negated ?? false) ||
    compareNullable(a.dport, b.dport) ||
    compareNullable(a.protocol, b.protocol)
  );
}

/**
 * One pass over the table's chains. Ladders are found from chain names and jump targets (any rule
 * anywhere that jumps to KUBE-SVC/SVL/XLB, and every declared one), never from comments; comments
 * only name them. Sliced (buildServiceModelInSlices): yields every few thousand chains and rules.
 */
export function* collectServicePortsInSlices(nat: Table, meter: WorkMeter): Slices<CollectedServicePorts> {
  const groups = new Map<string, ServicePortGroup>();
  const ladders = new Map<string, string>();
  const servicesMasquerade = new Map<string, ServicesMasquerade>();

  const group = (suffix: string): ServicePortGroup => {
    let g = groups.get(suffix);
    if (g === undefined) {
      g = {
        suffix,
        ladderChains: [],
        hasExternalChain: false,
        nameComments: new Array<string | null>(NAME_SOURCE_COUNT).fill(null),
        protocol: null,
        clusterIP: null,
        servicePort: null,
        nodePort: null,
        externalIPs: [],
        loadBalancerIPs: [],
      };
      groups.set(suffix, g);
    }
    return g;
  };

  // A service chain is touched several times (declared, jumped to from KUBE-SERVICES, KUBE-EXT,
  // KUBE-NODEPORTS): later touches are one lookup by the chain's own string, without slicing and
  // hashing its suffix again.
  const touched = new Map<string, ServicePortGroup>();

  /** Registers a service-port chain (declared or jumped to); returns its group. */
  const touch = (chain: string): ServicePortGroup | null => {
    const prefix = serviceChainPrefix(chain);
    if (prefix === null) return null;
    let g = touched.get(chain);
    if (g !== undefined) return g;
    const suffix = chain.slice(prefix.length);
    g = group(suffix);
    if (prefix === 'KUBE-EXT-' || prefix === 'KUBE-FW-') g.hasExternalChain = true;
    else if (!ladders.has(chain)) {
      ladders.set(chain, suffix);
      g.ladderChains.push(chain);
    }
    touched.set(chain, g);
    return g;
  };

  const readServicesRule = (rule: Rule): void => {
    const comment = rule.comment;
    const target = rule.target;
    if (target === null) return;
    const g = touch(target);
    if (g === null) {
      // Before ~v1.23 the cluster-IP masquerade rule sat in KUBE-SERVICES, next to the jump.
      if (target === 'KUBE-MARK-MASQ' && comment !== null && comment.endsWith(CLUSTER_IP) && rule.destination !== null) {
        const key = comment.slice(0, -CLUSTER_IP.length);
        if (!servicesMasquerade.has(key)) {
          servicesMasquerade.set(key, {
            clusterIP: hostAddress(rule.destination.address),
            servicePort: rule.dport,
            protocol: rule.protocol,
          });
        }
      }
      return;
    }
    const destination = rule.destination !== null && !rule.destination.negated ? hostAddress(rule.destination.address) : null;
    if (comment !== null && comment.endsWith(EXTERNAL_IP)) {
      pushUnique(g.externalIPs, destination);
      noteName(g, NameSource.Other, comment);
    } else if (comment !== null && comment.endsWith(LOADBALANCER_IP)) {
      pushUnique(g.loadBalancerIPs, destination);
      noteName(g, NameSource.Other, comment);
    } else if (comment !== null ? comment.endsWith(CLUSTER_IP) : destination !== null && ladders.has(target)) {
      // Uncommented jumps with -d to a ladder are cluster-IP rules too (comments are optional).
      if (g.clusterIP === null) g.clusterIP = destination;
      if (g.servicePort === null) g.servicePort = rule.dport;
      noteName(g, NameSource.ClusterIPEntry, comment);
    } else {
      noteName(g, NameSource.Other, comment);
    }
    noteProtocol(g, rule.protocol);
  };

  const readNodePortsRule = (rule: Rule): void => {
    if (rule.target === null) return;
    const g = touch(rule.target);
    if (g === null) return;
    if (g.nodePort === null) g.nodePort = rule.dport;
    noteName(g, NameSource.NodePort, rule.comment);
    noteProtocol(g, rule.protocol);
  };

  /** Any other chain: registers it, and the service chains it jumps to. */
  const readOtherChain = (name: string, chain: Chain): void => {
    const own = touch(name);
    const prefix = own === null ? null : serviceChainPrefix(name);
    // Ladder chains are read by readLadderChain; here only their jumps to other service chains
    // matter (pre-1.24 KUBE-XLB sends pod traffic to KUBE-SVC).
    const nameSource = prefix === 'KUBE-EXT-' ? NameSource.ExternalChain : prefix === 'KUBE-FW-' ? NameSource.Other : null;
    const rules = chain.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as Rule;
      if (own !== null && nameSource !== null) noteName(own, nameSource, rule.comment);
      if (rule.target !== null) touch(rule.target);
    }
  };

  // The loops are in a plain function, resumed where the last slice stopped: V8 cannot switch a running
  // generator to optimised code (no on-stack replacement), so a loop inside one stays unoptimised, and
  // an unoptimised for-of allocates at every step (~15 MB at 10,000 services × 5 endpoints).
  const names = Array.from(nat.chains.keys());
  const chains = Array.from(nat.chains.values());
  // The entry chains' rules in compareEntryRules' order, not the order kube-proxy happened to write.
  const entryRules = new Map<string, Rule[]>();
  for (const name of ['KUBE-SERVICES', 'KUBE-NODEPORTS']) {
    const chain = nat.chains.get(name);
    if (chain === undefined) continue;
    const sorted = chain.rules.slice();
    yield* sortSteps(sorted, compareEntryRules);
    entryRules.set(name, sorted);
  }
  let chainIndex = 0;
  let ruleIndex = 0;
  /** Reads on from `chainIndex`/`ruleIndex`; false when the meter asks for a checkpoint, true at the end. */
  const readChains = (): boolean => {
    while (chainIndex < chains.length) {
      const name = names[chainIndex] as string;
      const chain = chains[chainIndex] as Chain;
      if (ruleIndex === 0) {
        if (isEndpointChain(name)) {
          // Read lazily, only when a ladder jumps to it.
          chainIndex++;
          if (meter.add(1)) return false;
          continue;
        }
        if (name !== 'KUBE-SERVICES' && name !== 'KUBE-NODEPORTS') {
          readOtherChain(name, chain);
          chainIndex++;
          if (meter.add(1 + chain.rules.length)) return false;
          continue;
        }
      }
      // One rule (or two) per service port: tens of thousands on a large cluster.
      const readRule = name === 'KUBE-SERVICES' ? readServicesRule : readNodePortsRule;
      const rules = entryRules.get(name) as readonly Rule[];
      while (ruleIndex < rules.length) {
        readRule(rules[ruleIndex++] as Rule);
        if (meter.add(2)) return false;
      }
      ruleIndex = 0;
      chainIndex++;
      if (meter.add(1)) return false;
    }
    return true;
  };
  while (!readChains()) yield;
  return { groups, ladders, servicesMasquerade };
}
