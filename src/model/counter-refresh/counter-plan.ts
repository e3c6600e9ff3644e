/**
 * Where each number of a ServiceModel comes from, by line: the counters a model carries are sums of
 * packet counters of known rule lines (an endpoint's ladder rule plus its `--rcheck` affinity rules).
 * With the plan, a later output of the same structure (StructureScan digest) gives the same model
 * with its counters re-read — no parse, no model build. Pure.
 */
import type { Ladder, LadderEndpoint, ServiceModel } from '../types.js';

export interface CounterPlan {
  /** Per endpoint, in model order (ladders, then endpoints): the line of its ladder rule. */
  readonly ruleLines: Int32Array;
  /** Per endpoint: its affinity rules' lines are affinityLines[affinityStart[i] .. affinityStart[i+1]). */
  readonly affinityStart: Int32Array;
  readonly affinityLines: Int32Array;
  /** Per ladder: whether its endpoints report affinityConnections (ClientIP affinity). */
  readonly hasAffinity: Uint8Array;
}

/**
 * The plan of a model, from the affinity lines buildServiceModel reported for it (its `affinityLines`
 * option), checked: applying it to `packets` (the same output's scan) must reproduce every counter of
 * the model exactly, else null (the model has a shape the plan does not describe, and must be built
 * from a parse every time). Null too for a model without counters.
 */
export function planCounters(model: ServiceModel, affinityLinesByLadder: ReadonlyMap<string, readonly (readonly number[])[]>, packets: Float64Array): CounterPlan | null {
  if (!model.hasCounters) return null;
  let endpoints = 0;
  for (const ladder of model.ladders) endpoints += ladder.endpoints.length;
  const ruleLines = new Int32Array(endpoints);
  const affinityStart = new Int32Array(endpoints + 1);
  const affinityLines: number[] = [];
  const hasAffinity = new Uint8Array(model.ladders.length);
  let e = 0;
  for (let l = 0; l < model.ladders.length; l++) {
    const ladder = model.ladders[l] as Ladder;
    hasAffinity[l] = ladder.sessionAffinity === null ? 0 : 1;
    if (ladder.endpoints.length === 0) continue;
    const lines = affinityLinesByLadder.get(ladder.key);
    if (lines === undefined || lines.length !== ladder.endpoints.length) return null;
    for (let i = 0; i < lines.length; i++) {
      ruleLines[e] = (ladder.endpoints[i] as LadderEndpoint).line;
      affinityStart[e] = affinityLines.length;
      for (const line of lines[i] as readonly number[]) affinityLines.push(line);
      e++;
    }
  }
  affinityStart[e] = affinityLines.length;
  const plan: CounterPlan = { ruleLines, affinityStart, affinityLines: Int32Array.from(affinityLines), hasAffinity };
  for (const line of ruleLines) if (line <= 0 || line >= packets.length) return null;
  for (const line of plan.affinityLines) if (line <= 0 || line >= packets.length) return null;
  return sameCounters(model, applyCounters(model, plan, packets)) ? plan : null;
}

/**
 * `model` with every counter re-read from `packets` (a scan of an output with the structure the
 * plan was made for); everything else is shared with `model`.
 */
export function applyCounters(model: ServiceModel, plan: CounterPlan, packets: Float64Array): ServiceModel {
  const { ruleLines, affinityStart, affinityLines, hasAffinity } = plan;
  let e = 0;
  const ladders = new Array<Ladder>(model.ladders.length);
  for (let l = 0; l < model.ladders.length; l++) {
    const ladder = model.ladders[l] as Ladder;
    const affinity = hasAffinity[l] === 1;
    let total = 0;
    const endpoints = new Array<LadderEndpoint>(ladder.endpoints.length);
    for (let i = 0; i < ladder.endpoints.length; i++, e++) {
      const old = ladder.endpoints[i] as LadderEndpoint;
      let affinityPackets = 0;
      for (let a = affinityStart[e] as number; a < (affinityStart[e + 1] as number); a++) affinityPackets += packets[affinityLines[a] as number] as number;
      const connections = (packets[ruleLines[e] as number] as number) + affinityPackets;
      total += connections;
      endpoints[i] = {
        endpoint: old.endpoint,
        chain: old.chain,
        probability: old.probability,
        programmedRatio: old.programmedRatio,
        expectedRatio: old.expectedRatio,
        connections,
        affinityConnections: affinity ? affinityPackets : null,
        line: old.line,
      };
    }
    ladders[l] = { ...ladder, endpoints, connections: total };
  }
  return { ...model, ladders };
}

function sameCounters(a: ServiceModel, b: ServiceModel): boolean {
  if (a.ladders.length !== b.ladders.length) return false;
  for (let l = 0; l < a.ladders.length; l++) {
    const x = a.ladders[l] as Ladder;
    const y = b.ladders[l] as Ladder;
    if (x.connections !== y.connections || x.endpoints.length !== y.endpoints.length) return false;
    for (let i = 0; i < x.endpoints.length; i++) {
      const p = x.endpoints[i] as LadderEndpoint;
      const q = y.endpoints[i] as LadderEndpoint;
      if (p.connections !== q.connections || p.affinityConnections !== q.affinityConnections) return false;
    }
  }
  return true;
}
