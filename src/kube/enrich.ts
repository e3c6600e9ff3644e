/** Pure join of this node's ladders with the cluster view: endpoint metadata, comment-less ladder names, and drift. */
import { servicePortChainSuffix } from '../model/chain-names.js';
import { laddersOf, refreshedModel } from '../model/counter-refresh/refreshed-model.js';
import type { Ladder, ServiceModel, ServicePortName } from '../model/types.js';
import { endpointString } from './from-api.js';
import { programmedEndpoints, type CandidateEndpoint } from './programmed-endpoints.js';
import type { ClusterView, EndpointInfo, KubeEnrichment, LadderDrift, NodeContext } from './types.js';

/** kube-proxy's ServicePortName.String(): `ns/name:port`, or `ns/name` for an unnamed port. */
function servicePortString(namespace: string, service: string, port: string): string {
  return port === '' ? `${namespace}/${service}` : `${namespace}/${service}:${port}`;
}

const suffixIndexCache = new WeakMap<ClusterView, Map<string, { name: ServicePortName; protocol: string }>>();

/** chain suffix → service port, for every port of every Service (cached per view: hashing is not free). */
function suffixIndex(view: ClusterView): Map<string, { name: ServicePortName; protocol: string }> {
  let index = suffixIndexCache.get(view);
  if (index === undefined) {
    index = new Map();
    for (const service of view.services.values()) {
      for (const port of service.ports) {
        const suffix = servicePortChainSuffix(servicePortString(service.namespace, service.name, port.name), port.protocol);
        index.set(suffix, { name: { namespace: service.namespace, service: service.name, port: port.name }, protocol: port.protocol });
      }
    }
    suffixIndexCache.set(view, index);
  }
  return index;
}

/**
 * Per ladders array, the named ladders last made from it. A refreshed read hands over the same
 * (parsed read's) ladders every sample; giving back the same named objects while the names hold keeps
 * the analysis on its same-layout path (analysis/sample-layout.ts) on exactly the large clusters whose
 * rules have no comments.
 */
const lastNamed = new WeakMap<readonly Ladder[], readonly Ladder[]>();

/**
 * Names ladders that kube-proxy left without comments (large-cluster mode, v1.12-1.18) by recomputing
 * its chain-name hashes from the API's Services. Ladders that already have a name are returned as is.
 * A refreshed model stays one (its counters as arrays, no endpoint objects built).
 */
export function nameLadders(models: readonly ServiceModel[], view: ClusterView): ServiceModel[] {
  return models.map((model) => {
    const structure = laddersOf(model);
    if (structure.every((l) => l.name !== null)) return model;
    const index = suffixIndex(view);
    const previous = lastNamed.get(structure);
    const ladders = structure.map((ladder, i): Ladder => {
      if (ladder.name !== null) return ladder;
      const found = index.get(ladder.chain.slice(ladder.chain.lastIndexOf('-') + 1));
      if (found === undefined) return ladder;
      const protocol = ladder.protocol ?? found.protocol;
      const before = previous?.[i];
      if (before !== undefined && before.protocol === protocol && sameName(before.name, found.name)) return before;
      return { ...ladder, name: found.name, protocol };
    });
    lastNamed.set(structure, ladders);
    return model.counters === undefined ? { ...model, ladders } : refreshedModel(model, { ...model.counters, ladders });
  });
}

function sameName(a: ServicePortName | null, b: ServicePortName): boolean {
  return a !== null && a.namespace === b.namespace && a.service === b.service && a.port === b.port;
}

/** Endpoints of one service port in one family, from all its slices (first occurrence wins, ready preferred). */
function candidatesFor(view: ClusterView, ladder: Ladder, name: ServicePortName): CandidateEndpoint[] | null {
  const slices = view.slicesByService.get(`${name.namespace}/${name.service}`);
  if (slices === undefined) return null;
  const byEndpoint = new Map<string, CandidateEndpoint>();
  for (const slice of slices) {
    if (slice.ipFamily !== ladder.ipFamily) continue;
    const port = slice.ports.find((p) => p.name === name.port && (ladder.protocol === null || p.protocol === ladder.protocol));
    if (port === undefined) continue;
    for (const view of slice.endpoints) {
      // kube-proxy uses the first address of an endpoint.
      const address = view.addresses[0];
      if (address === undefined) continue;
      const endpoint = endpointString(address, port.port);
      const existing = byEndpoint.get(endpoint);
      if (existing === undefined || (!existing.view.ready && view.ready)) byEndpoint.set(endpoint, { endpoint, view });
    }
  }
  return [...byEndpoint.values()];
}

export function enrich(models: readonly ServiceModel[], view: ClusterView, node: NodeContext): KubeEnrichment {
  const endpointInfo: EndpointInfo[] = [];
  const seenInfo = new Set<string>();
  const drift: LadderDrift[] = [];
  for (const model of models) {
    // Structure only: a refreshed model's ladders would be built, 200,000 endpoint objects at once.
    for (const ladder of laddersOf(model)) {
      const name = ladder.name;
      if (name === null) continue;
      const service = view.services.get(`${name.namespace}/${name.service}`);
      const candidates = service === undefined ? [] : (candidatesFor(view, ladder, name) ?? []);
      const byEndpoint = new Map(candidates.map((c) => [c.endpoint, c]));
      const inLadder = new Set<string>();
      for (const e of ladder.endpoints) {
        if (e.endpoint === null) continue;
        inLadder.add(e.endpoint);
        const candidate = byEndpoint.get(e.endpoint);
        const infoKey = `${name.namespace}/${name.service}:${name.port}/${e.endpoint}`;
        if (candidate === undefined || seenInfo.has(infoKey)) continue;
        seenInfo.add(infoKey);
        endpointInfo.push({
          namespace: name.namespace,
          service: name.service,
          port: name.port,
          endpoint: e.endpoint,
          pod: candidate.view.pod,
          podNode: candidate.view.nodeName,
          zone: candidate.view.zone,
          ready: candidate.view.ready,
          serving: candidate.view.serving,
          terminating: candidate.view.terminating,
        });
      }
      const programmed = programmedEndpoints(candidates, ladder.policy, service?.topologyAware ?? false, node);
      const missing = programmed.certain ? [...programmed.endpoints].filter((e) => !inLadder.has(e)).sort() : [];
      // When unsure which subset kube-proxy chose, only endpoints it could never have chosen are stale.
      const plausible = programmed.certain
        ? programmed.endpoints
        : programmedEndpoints(candidates, ladder.policy, false, { nodeName: node.nodeName, zone: null }).endpoints;
      const stale = [...inLadder].filter((e) => !plausible.has(e)).sort();
      drift.push({ ladderKey: ladder.key, missing, stale, certain: programmed.certain });
    }
  }
  return { endpointInfo, drift };
}
