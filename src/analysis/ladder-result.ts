/**
 * Result objects that read the sample arrays instead of copying them: a ladder's statistics, and its
 * endpoints' statistics built when asked for. At 200,000 endpoints a plain object per endpoint per
 * sample (nine fields, four boxed numbers) held about 30 MiB for as long as the result was served.
 */
import type { Ladder, LadderEndpoint } from '../model/types.js';
import type { SampleCounters } from './state.js';
import type { EndpointStats, LadderStats, WindowStats } from './types.js';

/** Where a ladder's numbers are in this sample's arrays; `counters` null for a ladder without counters. */
export interface LadderValues {
  readonly counters: SampleCounters | null;
  readonly at: number;
  /** `LadderCounterState.affinity`: affinity totals from `size` on; null when they are all zero. */
  readonly affinity: Float64Array | null;
  /** Window deltas, at `at`; null with fewer than two samples in the window. */
  readonly windowCounts: Float64Array | null;
}

export class LadderResult implements LadderStats {
  readonly ladder: Ladder;
  readonly connectionsTotal: number;
  readonly window: WindowStats;
  readonly programmedDeviation: number;
  readonly resets: number;
  // LadderValues, as fields: one object less per ladder and sample.
  readonly counters: SampleCounters | null;
  readonly at: number;
  readonly affinity: Float64Array | null;
  readonly windowCounts: Float64Array | null;

  constructor(ladder: Ladder, fields: Omit<LadderStats, 'ladder' | 'endpoints'>, values: LadderValues) {
    this.ladder = ladder;
    this.connectionsTotal = fields.connectionsTotal;
    this.window = fields.window;
    this.programmedDeviation = fields.programmedDeviation;
    this.resets = fields.resets;
    this.counters = values.counters;
    this.at = values.at;
    this.affinity = values.affinity;
    this.windowCounts = values.windowCounts;
  }

  /** One object per endpoint, in rule order; a new array on each read, so nothing is kept between reads. */
  get endpoints(): readonly EndpointStats[] {
    const endpoints = this.ladder.endpoints;
    const out = new Array<EndpointStats>(endpoints.length);
    for (let i = 0; i < endpoints.length; i++) out[i] = new EndpointResult(this, endpoints[i] as LadderEndpoint, i);
    return out;
  }

  /** The plain object, for JSON and logs (`endpoints` is a getter, not an own property). */
  toJSON(): LadderStats {
    const { ladder, connectionsTotal, endpoints, window, programmedDeviation, resets } = this;
    return { ladder, connectionsTotal, endpoints, window, programmedDeviation, resets };
  }
}

class EndpointResult implements EndpointStats {
  constructor(
    private readonly owner: LadderResult,
    private readonly source: LadderEndpoint,
    private readonly index: number,
  ) {}

  get endpoint(): string | null {
    return this.source.endpoint;
  }

  get chain(): string {
    return this.source.chain;
  }

  get probability(): number | null {
    return this.source.probability;
  }

  get programmedRatio(): number {
    return this.source.programmedRatio;
  }

  get expectedRatio(): number {
    return this.source.expectedRatio;
  }

  get connectionsTotal(): number {
    const { counters, at } = this.owner;
    return counters === null ? 0 : (counters.totals[at + this.index] ?? 0);
  }

  get affinityConnectionsTotal(): number {
    const affinity = this.owner.affinity;
    return affinity === null ? 0 : (affinity[this.owner.ladder.endpoints.length + this.index] ?? 0);
  }

  get windowConnections(): number | null {
    const { windowCounts, at } = this.owner;
    return windowCounts === null ? null : (windowCounts[at + this.index] ?? 0);
  }

  get observedRatio(): number | null {
    const windowConnections = this.windowConnections;
    const windowTotal = this.owner.window.connections ?? 0;
    return windowConnections !== null && windowTotal > 0 ? windowConnections / windowTotal : null;
  }

  /** The plain object, for JSON and logs (getters are not own properties). */
  toJSON(): EndpointStats {
    return {
      endpoint: this.endpoint,
      chain: this.chain,
      probability: this.probability,
      programmedRatio: this.programmedRatio,
      expectedRatio: this.expectedRatio,
      connectionsTotal: this.connectionsTotal,
      affinityConnectionsTotal: this.affinityConnectionsTotal,
      windowConnections: this.windowConnections,
      observedRatio: this.observedRatio,
    };
  }
}
