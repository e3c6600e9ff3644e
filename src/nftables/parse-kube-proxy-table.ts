/**
 * kube-proxy's nftables mode (`nft -j list table ip|ip6 kube-proxy`) → the same Ladder model as
 * iptables mode. Layout (pkg/proxy/nftables/proxier.go):
 *
 *   map service-ips        { <ip> . <proto> . <port> : goto service-…|local-… (ClusterIP) | external-… (external/LB IP) }
 *   map service-nodeports  { <proto> . <nodePort> : goto external-… }
 *   chain external-…       { [jump mark-for-masquerade | short-circuits] ; goto service-…|local-… }
 *   chain service-…/local-… { [masquerade rule] ; [ip saddr @affinity-… goto endpoint-…]* ;
 *                             numgen random mod N vmap { 0 : goto endpoint-…, … } }
 *   chain endpoint-…       { ip saddr <ip> jump mark-for-masquerade ; [update @affinity-…] ; meta l4proto tcp dnat to <ip:port> }
 *
 * The vmap is the load balancer: each slot is one Nth of the random choices, so an endpoint's
 * programmed share is (its slots) / N and the expected one 1/(distinct endpoints). There are no
 * counters in these rules: `connections` stays null here (conntrack supplies new flows instead).
 */
import type { IpFamily } from '../iptables/types.js';
import type { Ladder, LadderEndpoint, ServiceModel } from '../model/types.js';
import { parseChainName } from './chain-names.js';

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface NftRule {
  readonly chain: string;
  readonly handle: number;
  readonly expr: readonly Json[];
}

/** Verdict target of `{ goto: { target } }` / `{ jump: { target } }`. */
function verdictTarget(v: Json): { kind: 'goto' | 'jump'; target: string } | null {
  if (!isObject(v)) return null;
  for (const kind of ['goto', 'jump'] as const) {
    const t = v[kind];
    if (isObject(t) && typeof t.target === 'string') return { kind, target: t.target };
  }
  return null;
}

/** Map elements as [key parts, verdict target]. */
function mapElements(map: Record<string, Json>): { key: (string | number)[]; target: string }[] {
  const out: { key: (string | number)[]; target: string }[] = [];
  const elems = Array.isArray(map.elem) ? map.elem : [];
  for (const elem of elems) {
    if (!Array.isArray(elem) || elem.length !== 2) continue;
    const [k, v] = elem as [Json, Json];
    const target = verdictTarget(v);
    if (target === null) continue;
    const keyValue = isObject(k) && isObject(k.elem) ? k.elem.val : k; // elements with comments/timeouts are wrapped
    const parts = isObject(keyValue) && Array.isArray(keyValue.concat) ? keyValue.concat : [keyValue];
    out.push({ key: parts.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number'), target: target.target });
  }
  return out;
}

/** The `numgen random mod N vmap { i : goto endpoint-… }` of a rule: N and the endpoint chain of each slot. */
function numgenVmap(rule: NftRule): { mod: number; slots: (string | null)[] } | null {
  for (const e of rule.expr) {
    if (!isObject(e) || !isObject(e.vmap)) continue;
    const key = e.vmap.key;
    if (!isObject(key) || !isObject(key.numgen) || key.numgen.mode !== 'random' || typeof key.numgen.mod !== 'number') continue;
    const mod = key.numgen.mod;
    const offset = typeof key.numgen.offset === 'number' ? key.numgen.offset : 0;
    const data = e.vmap.data;
    const set = isObject(data) && Array.isArray(data.set) ? data.set : [];
    const slots: (string | null)[] = Array.from({ length: mod }, () => null);
    for (const entry of set) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'number') continue;
      const target = verdictTarget(entry[1]);
      const slot = entry[0] - offset;
      if (target !== null && slot >= 0 && slot < mod) slots[slot] = target.target;
    }
    return { mod, slots };
  }
  return null;
}

/** `dnat to <addr>:<port>` of an endpoint chain, as `ip:port` / `[v6]:port`. */
function dnatEndpoint(rules: readonly NftRule[], ipFamily: IpFamily): string | null {
  for (const rule of rules) {
    for (const e of rule.expr) {
      if (!isObject(e) || !isObject(e.dnat)) continue;
      const { addr, port } = e.dnat;
      if (typeof addr !== 'string' || typeof port !== 'number') continue;
      return ipFamily === 'ipv6' ? `[${addr.toLowerCase()}]:${port}` : `${addr}:${port}`;
    }
  }
  return null;
}

/** Endpoint from the chain name's `__<ip>/<port>` tail, when the DNAT rule is missing or unreadable. */
function endpointFromName(chain: string, ipFamily: IpFamily): string | null {
  const m = /__([0-9A-Fa-f.]+)\/(\d+)$/.exec(chain);
  if (m === null) return null;
  if (ipFamily === 'ipv4') return `${m[1]}:${m[2]}`;
  // IPv6 ':' became '.' in the name; only the full 8-group form can be turned back unambiguously.
  const groups = (m[1] ?? '').split('.');
  return groups.length === 8 ? `[${groups.join(':').toLowerCase()}]:${m[2]}` : null;
}

function usesAffinity(rules: readonly NftRule[]): boolean {
  return rules.some((r) =>
    r.expr.some((e) => isObject(e) && isObject(e.match) && typeof e.match.right === 'string' && e.match.right.startsWith('@affinity-')),
  );
}

/**
 * Parses one family's kube-proxy table. Returns a ServiceModel with one ladder per service-…/local-…
 * chain that has a numgen vmap; unexpected shapes become warnings, never exceptions.
 */
export function parseKubeProxyTable(json: Json, ipFamily: IpFamily): ServiceModel {
  const warnings: string[] = [];
  const items = isObject(json) && Array.isArray(json.nftables) ? json.nftables : [];
  const rules = new Map<string, NftRule[]>();
  const maps = new Map<string, Record<string, Json>>();
  for (const item of items) {
    if (!isObject(item)) continue;
    if (isObject(item.rule) && typeof item.rule.chain === 'string') {
      const r = item.rule;
      const list = rules.get(r.chain as string) ?? [];
      list.push({ chain: r.chain as string, handle: typeof r.handle === 'number' ? r.handle : 0, expr: Array.isArray(r.expr) ? r.expr : [] });
      rules.set(r.chain as string, list);
    } else if (isObject(item.map) && typeof item.map.name === 'string') {
      maps.set(item.map.name, item.map);
    } else if (isObject(item.chain) && typeof item.chain.name === 'string' && !rules.has(item.chain.name)) {
      rules.set(item.chain.name, []);
    }
  }

  // external-… chains lead to the policy chain they finally `goto`.
  const policyChainOf = (chain: string): string[] => {
    const kind = parseChainName(chain)?.kind;
    if (kind === 'service' || kind === 'local') return [chain];
    if (kind !== 'external') return [];
    const out: string[] = [];
    for (const rule of rules.get(chain) ?? []) {
      for (const e of rule.expr) {
        const t = verdictTarget(e);
        const k = t === null ? undefined : parseChainName(t.target)?.kind;
        if (t !== null && t.kind === 'goto' && (k === 'service' || k === 'local') && !out.includes(t.target)) out.push(t.target);
      }
    }
    return out;
  };

  interface Frontends {
    clusterIP: string | null;
    servicePort: number | null;
    nodePort: number | null;
    external: string[];
  }
  const frontends = new Map<string, Frontends>();
  const frontendOf = (chain: string): Frontends => {
    let f = frontends.get(chain);
    if (f === undefined) {
      f = { clusterIP: null, servicePort: null, nodePort: null, external: [] };
      frontends.set(chain, f);
    }
    return f;
  };
  const serviceIPs = maps.get('service-ips');
  for (const { key, target } of serviceIPs === undefined ? [] : mapElements(serviceIPs)) {
    const [ip, , port] = key;
    if (typeof ip !== 'string' || typeof port !== 'number') continue;
    const direct = parseChainName(target)?.kind !== 'external';
    for (const chain of policyChainOf(target)) {
      const f = frontendOf(chain);
      f.servicePort = port;
      if (direct) f.clusterIP = ip;
      else if (!f.external.includes(ip)) f.external.push(ip);
    }
  }
  const nodePorts = maps.get('service-nodeports');
  for (const { key, target } of nodePorts === undefined ? [] : mapElements(nodePorts)) {
    const port = key[1];
    if (typeof port !== 'number') continue;
    for (const chain of policyChainOf(target)) frontendOf(chain).nodePort = port;
  }

  const ladders: Ladder[] = [];
  for (const [chain, chainRules] of rules) {
    const name = parseChainName(chain);
    if (name === null || (name.kind !== 'service' && name.kind !== 'local')) continue;
    const vmapRule = chainRules.find((r) => numgenVmap(r) !== null);
    const vmap = vmapRule === undefined ? null : numgenVmap(vmapRule);
    if (vmap === null || vmapRule === undefined) {
      warnings.push(`${chain}: no numgen random vmap rule`);
      continue;
    }
    const slotsOf = new Map<string, number>();
    for (const slot of vmap.slots) {
      if (slot === null) {
        warnings.push(`${chain}: numgen mod ${vmap.mod} has a slot without a verdict (those packets fall through)`);
        continue;
      }
      slotsOf.set(slot, (slotsOf.get(slot) ?? 0) + 1);
    }
    const n = slotsOf.size;
    const endpoints: LadderEndpoint[] = [...slotsOf].map(([epChain, slots]) => {
      const endpoint = dnatEndpoint(rules.get(epChain) ?? [], ipFamily) ?? endpointFromName(epChain, ipFamily);
      if (endpoint === null) warnings.push(`${epChain}: no dnat rule and no endpoint in the name`);
      return {
        endpoint,
        chain: epChain,
        probability: null,
        programmedRatio: slots / vmap.mod,
        expectedRatio: 1 / n,
        connections: null,
        affinityConnections: null,
        line: vmapRule.handle,
      };
    });
    const f = frontends.get(chain);
    ladders.push({
      key: `${ipFamily}/${chain}`,
      chain,
      policy: name.kind === 'local' ? 'local' : 'cluster',
      ipFamily,
      name: { namespace: name.namespace, service: name.service, port: name.port },
      protocol: name.protocol,
      clusterIP: f?.clusterIP ?? null,
      servicePort: f?.servicePort ?? null,
      nodePort: f?.nodePort ?? null,
      // The service-ips map does not say whether a non-ClusterIP address is an externalIP or a load-balancer IP.
      externalIPs: f?.external ?? [],
      loadBalancerIPs: [],
      sessionAffinity: usesAffinity(chainRules) ? { timeoutSeconds: null } : null,
      endpoints,
      connections: null,
      fingerprint: `mod ${vmap.mod}: ${vmap.slots.join(',')}`,
      unreachableRules: 0,
    });
  }
  ladders.sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0));
  return { ipFamily, ladders, skipped: [], hasCounters: false, warnings };
}
