/**
 * Test helper: an AnalysisResult as plain data, for comparing two ways of reaching it. A ladder is
 * given by its structure only: a refreshed model's results carry its parsed read's Ladder objects,
 * whose own counter fields are that read's (ServiceModel.counters); every number the analysis derives
 * is compared, endpoint by endpoint.
 */
import type { AnalysisResult, EndpointStats } from '../../src/analysis/types.js';
import type { Ladder } from '../../src/model/types.js';

export function comparableResult(result: AnalysisResult): unknown {
  return {
    resetsThisSample: result.resetsThisSample,
    ladders: result.ladders.map((stats) => ({
      ladder: ladderStructure(stats.ladder),
      connectionsTotal: stats.connectionsTotal,
      window: stats.window,
      programmedDeviation: stats.programmedDeviation,
      resets: stats.resets,
      endpoints: stats.endpoints.map(comparableEndpoint),
    })),
  };
}

/** Every field of an endpoint's statistics as plain data (its stats object reads some through getters). */
export function comparableEndpoint(e: EndpointStats): unknown {
  return {
    endpoint: e.endpoint,
    chain: e.chain,
    probability: e.probability,
    programmedRatio: e.programmedRatio,
    expectedRatio: e.expectedRatio,
    connectionsTotal: e.connectionsTotal,
    affinityConnectionsTotal: e.affinityConnectionsTotal,
    windowConnections: e.windowConnections,
    observedRatio: e.observedRatio,
  };
}

function ladderStructure(ladder: Ladder): unknown {
  const { connections: _connections, endpoints, ...rest } = ladder;
  return {
    ...rest,
    hasCounters: ladder.connections !== null,
    endpoints: endpoints.map(({ connections, affinityConnections, ...e }) => ({ ...e, counted: connections !== null, affinity: affinityConnections !== null })),
  };
}
