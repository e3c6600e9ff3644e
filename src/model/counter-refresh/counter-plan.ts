/**
 * Where each number of a ServiceModel comes from, by line: the counters a model carries are sums of
 * packet counters of known rule lines (an endpoint's ladder rule plus its `--rcheck` affinity rules).
 * With the plan, a later output of the same structure (StructureScan digest) gives the same model
 * with its counters re-read — no parse, no model build. Pure.
 */
import { runToEnd, type Slices, WorkMeter } from '../../slices.js';
import type { Ladder, LadderEndpoint, ModelCounters, ServiceModel } from '../types.js';
import { laddersOf, laddersWithCounters } from './refreshed-model.js';

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
  // A model built with reuseLadders holds its lines and counters in arrays (its ladders may be an earlier parse's).
  const ladders = laddersOf(model);
  const modelLines = model.counters?.lines ?? null;
  let endpoints = 0;
  for (const ladder of ladders) endpoints += ladder.endpoints.length;
  const lines: PlanLines = { ruleLines: new Int32Array(endpoints), affinityStart: new Int32Array(endpoints + 1), affinityLines: [] };
  const hasAffinity = new Uint8Array(ladders.length);
  // The loops over endpoints are plain functions: V8 runs a loop inside a generator slower than in a plain one.
  let e = 0;
  for (let l = 0; l < ladders.length; l++) {
    const ladder = ladders[l] as Ladder;
    hasAffinity[l] = ladder.sessionAffinity === null ? 0 : 1;
    if (!planLadder(ladder, modelLines, affinityLinesByLadder.get(ladder.key), lines, e)) return null;
    e += ladder.endpoints.length;
    if (meter.add(1 + ladder.endpoints.length)) yield;
  }
  lines.affinityStart[e] = lines.affinityLines.length;
  const plan: CounterPlan = { ruleLines: lines.ruleLines, affinityStart: lines.affinityStart, affinityLines: Int32Array.from(lines.affinityLines), hasAffinity };
  if (!allWithin(plan.ruleLines, packets.length) || !allWithin(plan.affinityLines, packets.length)) return null;
  // Checked on arrays, not on a model of new endpoint objects: this runs at the peak of a parsed read
  // (the dump, the new model and the last one alive), where 200k more objects cost memory and GC time.
  const counters = yield* readCountersInSlices(model, plan, packets, meter);
  return (yield* sameCountersInSlices(model, counters, meter)) ? plan : null;
}

/** A plan's per-endpoint lines while it is made. */
interface PlanLines {
  readonly ruleLines: Int32Array;
  readonly affinityStart: Int32Array;
  readonly affinityLines: number[];
}

/**
 * Adds one ladder's lines (its endpoints are the plan's from `e` on; their rule lines are
 * `modelLines`' when the model has them); false when the model build reported none that fit.
 */
function planLadder(ladder: Ladder, modelLines: Int32Array | null, affinityLines: readonly (readonly number[])[] | undefined, lines: PlanLines, e: number): boolean {
  if (ladder.endpoints.length === 0) return true;
  if (affinityLines === undefined || affinityLines.length !== ladder.endpoints.length) return false;
  for (let i = 0; i < affinityLines.length; i++, e++) {
    lines.ruleLines[e] = modelLines === null ? (ladder.endpoints[i] as LadderEndpoint).line : (modelLines[e] as number);
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
  // The exporter keeps refreshed counters as arrays (refreshedModel); this is the same with endpoint objects.
  return { ...model, ladders: laddersWithCounters(readCounters(model, plan, packets)) };
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
  return { ladders: laddersOf(model), connections, affinityConnections, hasAffinity: plan.hasAffinity, lines: plan.ruleLines };
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

/** Whether `counters` (over `model`'s ladders) are the model's own, exactly: totals summed in the same order. */
function* sameCountersInSlices(model: ServiceModel, counters: ModelCounters, meter: WorkMeter): Slices<boolean> {
  if (model.counters !== undefined) return sameArrays(model.counters, counters);
  let e = 0;
  for (let l = 0; l < model.ladders.length; l++) {
    const ladder = model.ladders[l] as Ladder;
    if (!sameLadderCounters(ladder, counters, counters.hasAffinity[l] === 1, e)) return false;
    e += ladder.endpoints.length;
    if (meter.add(1 + ladder.endpoints.length)) yield;
  }
  return e === counters.connections.length;
}

/** Both hold the same counters (a model built with reuseLadders holds its own as arrays). */
function sameArrays(a: ModelCounters, b: ModelCounters): boolean {
  if (a.connections.length !== b.connections.length) return false;
  for (let e = 0; e < a.connections.length; e++) if (a.connections[e] !== b.connections[e] || a.affinityConnections[e] !== b.affinityConnections[e]) return false;
  for (let l = 0; l < a.hasAffinity.length; l++) if (a.hasAffinity[l] !== b.hasAffinity[l]) return false;
  return true;
}

function sameLadderCounters(ladder: Ladder, counters: ModelCounters, affinity: boolean, e: number): boolean {
  const { connections, affinityConnections } = counters;
  let total = 0;
  for (let i = 0; i < ladder.endpoints.length; i++, e++) {
    const endpoint = ladder.endpoints[i] as LadderEndpoint;
    const value = connections[e] as number;
    total += value;
    if (endpoint.connections !== value || endpoint.affinityConnections !== (affinity ? (affinityConnections[e] as number) : null)) return false;
  }
  return ladder.connections === total;
}
