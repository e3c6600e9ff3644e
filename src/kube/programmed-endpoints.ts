/**
 * Which endpoints kube-proxy programs into one ladder on this node, mirroring CategorizeEndpoints in
 * kubernetes pkg/proxy/topology.go: ready endpoints (narrowed by topology hints when every endpoint
 * carries them and one is meant for this node's zone or name), else the serving-and-terminating
 * fallback; a `local` ladder keeps only this node's endpoints.
 */
import type { Policy } from '../model/types.js';
import type { EndpointView, NodeContext } from './types.js';

export interface CandidateEndpoint {
  /** `ip:port` / `[v6]:port`. */
  readonly endpoint: string;
  readonly view: EndpointView;
}

export interface ProgrammedSet {
  readonly endpoints: ReadonlySet<string>;
  /** False when the answer depends on something we do not know (this node's zone with topology hints). */
  readonly certain: boolean;
}

function availableForTopology(view: EndpointView, node: NodeContext): boolean {
  // Node hints (PreferSameNode, v1.33+) take precedence over zone hints.
  if (view.hintNodes !== null && node.nodeName !== null && view.hintNodes.includes(node.nodeName)) return true;
  return view.hintZones !== null && node.zone !== null && view.hintZones.includes(node.zone);
}

/** kube-proxy's canUseTopology: every ready endpoint has zone hints and one of them is for this node. */
function canUseTopology(candidates: readonly CandidateEndpoint[], node: NodeContext): boolean {
  const ready = candidates.filter((c) => c.view.ready);
  if (ready.length === 0) return false;
  if (ready.some((c) => c.view.hintZones === null && c.view.hintNodes === null)) return false;
  return ready.some((c) => availableForTopology(c.view, node));
}

function withFallback(candidates: readonly CandidateEndpoint[], keep: (c: CandidateEndpoint) => boolean): Set<string> {
  const ready = candidates.filter((c) => c.view.ready && keep(c));
  // With no ready endpoint kube-proxy falls back to endpoints that are serving and terminating.
  const chosen = ready.length > 0 ? ready : candidates.filter((c) => c.view.serving && c.view.terminating && keep(c));
  return new Set(chosen.map((c) => c.endpoint));
}

export function programmedEndpoints(
  candidates: readonly CandidateEndpoint[],
  policy: Policy,
  topologyAware: boolean,
  node: NodeContext,
): ProgrammedSet {
  if (policy === 'local') {
    if (node.nodeName === null) return { endpoints: withFallback(candidates, () => true), certain: false };
    return { endpoints: withFallback(candidates, (c) => c.view.nodeName === node.nodeName), certain: true };
  }
  if (topologyAware && canUseTopology(candidates, node)) {
    return { endpoints: withFallback(candidates, (c) => availableForTopology(c.view, node)), certain: true };
  }
  // Topology requested but this node's zone is unknown: kube-proxy may have narrowed the set.
  const uncertain = topologyAware && node.zone === null && candidates.some((c) => c.view.hintZones !== null);
  return { endpoints: withFallback(candidates, () => true), certain: !uncertain };
}
