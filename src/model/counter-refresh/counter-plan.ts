/**
 * Where each number of a ServiceModel comes from, by line: the counters a model carries are sums of
 * packet counters of known rule lines (an endpoint's ladder rule plus its `--rcheck` affinity rules).
 * With the plan, a later output of the same structure (StructureScan digest) gives the same model
 * with its counters re-read — no parse, no model build. Pure.
 */
import { runToEnd, type Slices, WorkMeter } from '../../slices.js';
import type { Ladder, LadderEndpoint, ModelCounters, ServiceModel } from '../types.js';

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
  return runToEnd(planCountersInSlices(model, affinityLinesByLadder, packets));
}

/** `planCounters` in slices (see runInSlices): yields when `meter` says, returns the same plan. */
export function* planCountersInSlices(
  model: ServiceModel,
  affinityLinesByLadder: ReadonlyMap<string, readonly (readonly number[])[]>,
  packets: Float64Array,
  meter = new WorkMeter(),
): Slices<CounterPlan | null> {
  if (!model.hasCounters) return null;
  let endpoints = 0;
  for (const ladder of model.ladders) endpoints += ladder.endpoints.length;
  const lines: PlanLines = { ruleLines: new Int32Array(endpoints), affinityStart: new Int32Array(endpoints + 1), affinityLines: [] };
  const hasAffinity = new Uint8Array(model.ladders.length);
  // The loops over endpoints are plain functions: V8 runs a loop inside a generator slower than in a plain one.
  let e = 0;
  for (let l = 0; l < model.ladders.length; l++) {
    const ladder = model.ladders[l] as Ladder;
    hasAffinity[l] = ladder.sessionAffinity === null ? 0 : 1;
    if (!planLadder(ladder, affinityLinesByLadder.get(ladder.key), lines, e)) return null;
    e += ladder.endpoints.length;
    if (meter.add(1 + ladder.endpoints.length)) yield;
  }
  lines.affinityStart[e] = lines.affinityLines.length;
  const plan: CounterPlan = { ruleLines: lines.ruleLines, affinityStart: lines.affinityStart, affinityLines: Int32Array.from(lines.affinityLines), hasAffinity };
  if (!allWithin(plan.ruleLines, packets.length) || !allWithin(plan.affinityLines, packets.length)) return null;
  const applied = yield* applyCountersInSlices(model, plan, packets, meter);
  return (yield* sameCountersInSlices(model, applied, meter)) ? plan : null;
}

/** A plan's per-endpoint lines while it is made. */
interface PlanLines {
  readonly ruleLines: Int32Array;
  readonly affinityStart: Int32Array;
  readonly affinityLines: number[];
}

/** Adds one ladder's lines (its endpoints are the plan's from `e` on); false when the model build reported none that fit. */
function planLadder(ladder: Ladder, affinityLines: readonly (readonly number[])[] | undefined, lines: PlanLines, e: number): boolean {
  if (ladder.endpoints.length === 0) return true;
  if (affinityLines === undefined || affinityLines.length !== ladder.endpoints.length) return false;
  for (let i = 0; i < affinityLines.length; i++, e++) {
    lines.ruleLines[e] = (ladder.endpoints[i] as LadderEndpoint).line;
    lines.affinityStart[e] = lines.affinityLines.length;
    for (const line of affinityLines[i] as readonly number[]) lines.affinityLines.push(line);
  }
  return true;
}

/** Every line is one of the scan's (line 0 does not exist). */
function allWithin(lines: Int32Array, lineCount: number): boolean {
  for (const line of lines) if (line <= 0 || line >= lineCount) return false;
  return true;
}

/**
 * `model` with every counter re-read from `packets` (a scan of an output with the structure the
 * plan was made for); everything else is shared with `model`.
 */
export function applyCounters(model: ServiceModel, plan: CounterPlan, packets: Float64Array): ServiceModel {
  return runToEnd(applyCountersInSlices(model, plan, packets));
}

/** `applyCounters` in slices (see runInSlices): yields when `meter` says, returns the same model. */
export function* applyCountersInSlices(model: ServiceModel, plan: CounterPlan, packets: Float64Array, meter = new WorkMeter()): Slices<ServiceModel> {
  const ladders = new Array<Ladder>(model.ladders.length);
  // Per ladder, its endpoints are the plan's from `e` on (the loop over them is a plain function, as above).
  let e = 0;
  for (let l = 0; l < model.ladders.length; l++) {
    const ladder = model.ladders[l] as Ladder;
    ladders[l] = applyToLadder(ladder, plan, packets, plan.hasAffinity[l] === 1, e);
    e += ladder.endpoints.length;
    if (meter.add(1 + ladder.endpoints.length)) yield;
  }
  return { ...model, ladders };
}

// An endpoint here is a few array reads: far less than the WorkMeter's unit (about a microsecond).
const ENDPOINTS_PER_UNIT = 16;
const ENDPOINTS_PER_STRETCH = 16_384;

/**
 * `model`'s counters re-read from `packets` (a scan of an output with the structure the plan was made
 * for) as arrays over its ladders: what `applyCounters` puts into new endpoint objects, without them.
 */
export function readCounters(model: ServiceModel, plan: CounterPlan, packets: Float64Array): ModelCounters {
  return runToEnd(readCountersInSlices(model, plan, packets));
}

/** `readCounters` in slices (see runInSlices): yields when `meter` says, returns the same counters. */
export function* readCountersInSlices(model: ServiceModel, plan: CounterPlan, packets: Float64Array, meter = new WorkMeter()): Slices<ModelCounters> {
  const endpoints = plan.ruleLines.length;
  const connections = new Float64Array(endpoints);
  const affinityConnections = new Float64Array(endpoints);
  for (let from = 0; from < endpoints; from += ENDPOINTS_PER_STRETCH) {
    const to = Math.min(endpoints, from + ENDPOINTS_PER_STRETCH);
    readStretch(plan, packets, from, to, connections, affinityConnections);
    if (meter.add(Math.ceil((to - from) / ENDPOINTS_PER_UNIT))) yield;
  }
  return { ladders: model.ladders, connections, affinityConnections, hasAffinity: plan.hasAffinity };
}

/** Endpoints [from, to): the same sums, in the same order, as applyToLadder. */
function readStretch(plan: CounterPlan, packets: Float64Array, from: number, to: number, connections: Float64Array, affinityConnections: Float64Array): void {
  const { ruleLines, affinityStart, affinityLines } = plan;
  for (let e = from; e < to; e++) {
    let affinityPackets = 0;
    for (let a = affinityStart[e] as number; a < (affinityStart[e + 1] as number); a++) affinityPackets += packets[affinityLines[a] as number] as number;
    connections[e] = (packets[ruleLines[e] as number] as number) + affinityPackets;
    affinityConnections[e] = affinityPackets;
  }
}

function applyToLadder(ladder: Ladder, plan: CounterPlan, packets: Float64Array, affinity: boolean, e: number): Ladder {
  const { ruleLines, affinityStart, affinityLines } = plan;
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
  return { ...ladder, endpoints, connections: total };
}

function* sameCountersInSlices(a: ServiceModel, b: ServiceModel, meter: WorkMeter): Slices<boolean> {
  if (a.ladders.length !== b.ladders.length) return false;
  for (let l = 0; l < a.ladders.length; l++) {
    const x = a.ladders[l] as Ladder;
    if (!sameLadderCounters(x, b.ladders[l] as Ladder)) return false;
    if (meter.add(1 + x.endpoints.length)) yield;
  }
  return true;
}

function sameLadderCounters(x: Ladder, y: Ladder): boolean {
  if (x.connections !== y.connections || x.endpoints.length !== y.endpoints.length) return false;
  for (let i = 0; i < x.endpoints.length; i++) {
    const p = x.endpoints[i] as LadderEndpoint;
    const q = y.endpoints[i] as LadderEndpoint;
    if (p.connections !== q.connections || p.affinityConnections !== q.affinityConnections) return false;
  }
  return true;
}
