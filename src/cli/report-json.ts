/** `report --format json`: the stable, script-facing shape of a ServiceModel (see docs/architecture.md). */
import type { IpFamily, SkipReason } from '../iptables/types.js';
import type { Policy, ServiceModel } from '../model/types.js';
import { orderedLadders } from './ladder-order.js';

export interface ReportJsonEndpoint {
  readonly endpoint: string | null;
  readonly chain: string;
  /** As printed in the rule; null on the final unconditional rule. */
  readonly probability: number | null;
  readonly programmedRatio: number;
  readonly expectedRatio: number;
  /** null when the dump has no counters. */
  readonly connections: number | null;
  /** null without counters or without ClientIP affinity. */
  readonly affinityConnections: number | null;
}

export interface ReportJsonServicePort {
  readonly namespace: string | null;
  readonly service: string | null;
  /** The service port's name ('' for an unnamed port); null when the service is unknown. */
  readonly port: string | null;
  readonly protocol: string | null;
  readonly ipFamily: IpFamily;
  readonly policy: Policy;
  readonly chain: string;
  readonly clusterIP: string | null;
  readonly sessionAffinity: 'None' | 'ClientIP';
  readonly connections: number | null;
  readonly endpoints: readonly ReportJsonEndpoint[];
}

export interface ReportJson {
  readonly servicePorts: readonly ReportJsonServicePort[];
  readonly skipped: ReadonlyArray<{ readonly line: number; readonly reason: SkipReason }>;
}

/** The report as plain data. Keys are listed explicitly so the contract never grows by accident. */
export function toReportJson(models: readonly ServiceModel[]): ReportJson {
  return {
    servicePorts: orderedLadders(models).map((ladder) => ({
      namespace: ladder.name?.namespace ?? null,
      service: ladder.name?.service ?? null,
      port: ladder.name?.port ?? null,
      protocol: ladder.protocol,
      ipFamily: ladder.ipFamily,
      policy: ladder.policy,
      chain: ladder.chain,
      clusterIP: ladder.clusterIP,
      sessionAffinity: ladder.sessionAffinity === null ? 'None' : 'ClientIP',
      connections: ladder.connections,
      endpoints: ladder.endpoints.map((e) => ({
        endpoint: e.endpoint,
        chain: e.chain,
        probability: e.probability,
        programmedRatio: e.programmedRatio,
        expectedRatio: e.expectedRatio,
        connections: e.connections,
        affinityConnections: e.affinityConnections,
      })),
    })),
    skipped: models
      .flatMap((m) => m.skipped)
      .map((s) => ({ line: s.line, reason: s.reason }))
      .sort((a, b) => a.line - b.line),
  };
}

/** Pretty-printed JSON with a trailing newline. */
export function renderReportJson(models: readonly ServiceModel[]): string {
  return `${JSON.stringify(toReportJson(models), null, 2)}\n`;
}
