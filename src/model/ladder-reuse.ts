/**
 * A parse after a rules change keeps the last model's ladders where kube-proxy left them alone.
 *
 * Such a parse runs while the last sample's state still holds the last model, and used to build a
 * whole second model beside it: at 20,000 services × 10 endpoints, 200,000 endpoint objects and
 * their chain names and addresses. The last model (~55 MiB) then became old-generation garbage all at
 * once, and that is what tipped runs into a cycle of one long full collection per sample for the
 * samples after the change (docs/benchmarks.md: 7 of 14 runs before this, 0 of 52 since). Yet a
 * rules change touches few ladders: kube-proxy rewrites the chains of the services whose endpoints
 * changed. So each ladder the build makes is compared with the last model's ladder of the same key,
 * and when everything but its counters and rule lines is the same, the last model's object is kept
 * and the new one dropped at once (it dies young). The counters and lines, which do differ, go into
 * arrays: the model is then what a refreshed read gives (ServiceModel.counters, refreshed-model.ts),
 * which the analysis reads already, and it equals (toStrictEqual) the model built without reuse.
 *
 * It does not lower the parse's memory peak, which is set before the build (docs/benchmarks.md,
 * "Where a rules change's peak comes from").
 */
import { refreshedModel } from './counter-refresh/refreshed-model.js';
import type { Slices, WorkMeter } from '../slices.js';
import type { Ladder, LadderEndpoint, ModelCounters, ServiceModel } from './types.js';

export class LadderReuse {
  private readonly last: Map<string, Ladder>;
  private readonly lastLadders: readonly Ladder[];
  /** Per endpoint in build order: counters and the ladder rule's line. */
  private readonly connections: Float64Array;
  private readonly affinityConnections: Float64Array;
  private readonly lines: Int32Array;
  /** Where each built ladder's endpoints start in the build-order arrays. */
  private readonly starts = new Map<Ladder, number>();

  /** `lastLadders`: the last model's structure (laddersOf). `endpoints`: how many the build will make. */
  constructor(lastLadders: readonly Ladder[], endpoints: number) {
    this.last = new Map(lastLadders.map((ladder) => [ladder.key, ladder]));
    this.lastLadders = lastLadders;
    this.connections = new Float64Array(endpoints);
    this.affinityConnections = new Float64Array(endpoints);
    this.lines = new Int32Array(endpoints);
  }

  /**
   * The ladder to put in the model for `built` (a ladder with counters, whose endpoints start at
   * `start` in build order): the last model's, when only counters and lines differ; else `built`.
   */
  take(built: Ladder, start: number): Ladder {
    const endpoints = built.endpoints;
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[i] as LadderEndpoint;
      this.connections[start + i] = endpoint.connections ?? 0;
      this.affinityConnections[start + i] = endpoint.affinityConnections ?? 0;
      this.lines[start + i] = endpoint.line;
    }
    const last = this.last.get(built.key);
    const ladder = last !== undefined && sameStructure(last, built) ? last : built;
    this.starts.set(ladder, start);
    return ladder;
  }

  /**
   * Puts `ladders` (take's, in build order) in the last model's order, which is sorted, and those not
   * from the last model after them: the sort (sortSteps, which copies runs already in order) then
   * compares ~2n times instead of ~n log n (at 20,000 ladders ~40k string comparisons, not ~290k).
   * The order it ends in is the same: compareLadders orders every two ladders of a model.
   */
  arrange(ladders: Ladder[]): void {
    const placed = new Array<Ladder | undefined>(this.lastLadders.length);
    const positions = new Map<Ladder, number>();
    for (let i = 0; i < this.lastLadders.length; i++) positions.set(this.lastLadders[i] as Ladder, i);
    const others: Ladder[] = [];
    for (let i = 0; i < ladders.length; i++) {
      const ladder = ladders[i] as Ladder;
      const at = positions.get(ladder);
      if (at === undefined) others.push(ladder);
      else placed[at] = ladder;
    }
    let k = 0;
    for (let i = 0; i < placed.length; i++) {
      const ladder = placed[i];
      if (ladder !== undefined) ladders[k++] = ladder;
    }
    for (let i = 0; i < others.length; i++) ladders[k++] = others[i] as Ladder;
  }

  /**
   * `model` (built from `take`'s ladders, sorted; with counters) with its counters and lines as arrays,
   * in slices: at 20,000 services × 10 endpoints this copy reads every ladder of the last model
   * (scattered in memory) and took 65–73 ms in one go, the longest step of a reparse's build.
   */
  *modelInSlices(model: ServiceModel, meter: WorkMeter): Slices<ServiceModel> {
    const ladders = model.ladders;
    const endpoints = this.connections.length;
    const counters: ModelCounters = {
      ladders,
      connections: new Float64Array(endpoints),
      affinityConnections: new Float64Array(endpoints),
      hasAffinity: new Uint8Array(ladders.length),
      lines: new Int32Array(endpoints),
    };
    let e = 0;
    for (let l = 0; l < ladders.length; l++) {
      const ladder = ladders[l] as Ladder;
      let from = this.starts.get(ladder) as number;
      const n = ladder.endpoints.length;
      // Index loops, not subarray + set: a ladder has a handful of endpoints, and each subarray is an object.
      for (let i = 0; i < n; i++, e++, from++) {
        counters.connections[e] = this.connections[from] as number;
        counters.affinityConnections[e] = this.affinityConnections[from] as number;
        counters.lines[e] = this.lines[from] as number;
      }
      counters.hasAffinity[l] = ladder.sessionAffinity === null ? 0 : 1;
      if (meter.add(1 + n)) yield;
    }
    if (e !== endpoints) throw new Error(`ladder reuse: the model has ${e} endpoints, the build made ${endpoints}`);
    return refreshedModel(model, counters);
  }
}

/** Everything a ladder shows but its counters and rule lines. */
export function sameStructure(a: Ladder, b: Ladder): boolean {
  return (
    a.key === b.key &&
    a.chain === b.chain &&
    a.policy === b.policy &&
    a.ipFamily === b.ipFamily &&
    a.fingerprint === b.fingerprint &&
    a.protocol === b.protocol &&
    a.clusterIP === b.clusterIP &&
    a.servicePort === b.servicePort &&
    a.nodePort === b.nodePort &&
    a.unreachableRules === b.unreachableRules &&
    (a.name === b.name || (a.name !== null && b.name !== null && a.name.namespace === b.name.namespace && a.name.service === b.name.service && a.name.port === b.name.port)) &&
    (a.sessionAffinity === null ? b.sessionAffinity === null : b.sessionAffinity !== null && a.sessionAffinity.timeoutSeconds === b.sessionAffinity.timeoutSeconds) &&
    sameTexts(a.externalIPs, b.externalIPs) &&
    sameTexts(a.loadBalancerIPs, b.loadBalancerIPs) &&
    sameEndpoints(a.endpoints, b.endpoints)
  );
}

function sameTexts(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameEndpoints(a: readonly LadderEndpoint[], b: readonly LadderEndpoint[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as LadderEndpoint;
    const y = b[i] as LadderEndpoint;
    if (
      x.endpoint !== y.endpoint ||
      x.chain !== y.chain ||
      x.probability !== y.probability ||
      x.programmedRatio !== y.programmedRatio ||
      x.expectedRatio !== y.expectedRatio
    ) {
      return false;
    }
  }
  return true;
}
