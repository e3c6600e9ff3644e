/** The Kubernetes-enrichment families: API sync state, endpoint metadata to join on, and rule drift per ladder. */
import { LADDER_LABELS, ROWS_PER_STEP, type CollectContext, type LadderView, type MetricFamily } from '../family.js';
import { scalarFamily, steppedFamily } from './define.js';

export const kubeEnabled = scalarFamily({
  name: 'kube_balance_kube_enabled',
  type: 'gauge',
  help: '1 when Kubernetes API enrichment is on (credentials found and --kube.enabled), else 0.',
  value: (s) => (s.kube?.enabled === true ? 1 : 0),
});

export const kubeSynced = scalarFamily({
  name: 'kube_balance_kube_synced',
  type: 'gauge',
  help:
    '1 when the Service and EndpointSlice informers have listed and are watching; 0 while the API is ' +
    'unreachable (enrichment and drift then use the last view, which may be stale).',
  value: (s) => (s.kube?.enabled === true ? (s.kube.synced ? 1 : 0) : null),
});

export const kubeLastSyncTimestampSeconds = scalarFamily({
  name: 'kube_balance_kube_last_sync_timestamp_seconds',
  type: 'gauge',
  help: 'Unix time of the last successful list or watch event from the Kubernetes API.',
  value: (s) => s.kube?.lastSyncTimestamp ?? null,
});

export const kubeWatchErrorsTotal = scalarFamily({
  name: 'kube_balance_kube_watch_errors_total',
  type: 'counter',
  help: 'Failed Kubernetes API lists or watches (each is retried with backoff and a relist).',
  value: (s) => (s.kube?.enabled === true ? s.kube.watchErrorsTotal : null),
});

export const endpointInfo = steppedFamily({
  name: 'kube_balance_endpoint_info',
  type: 'gauge',
  help:
    'Kubernetes metadata of an endpoint in this node\'s rules, value always 1: pod, the pod\'s node, zone and ' +
    'EndpointSlice conditions. Join on namespace, service, port, endpoint.',
  labels: ['namespace', 'service', 'port', 'endpoint', 'pod', 'pod_node', 'zone', 'ready', 'serving', 'terminating'],
  *collectSteps(snapshot, emit, context) {
    const rows = snapshot.kube?.enrichment?.endpointInfo;
    if (rows === undefined || context.ladders.length === 0) return;
    let i = 0;
    for (const r of rows) {
      emit(
        [r.namespace, r.service, r.port, r.endpoint, r.pod ?? '', r.podNode ?? '', r.zone ?? '', String(r.ready), String(r.serving), String(r.terminating)],
        1,
      );
      if (++i % ROWS_PER_STEP === 0) yield;
    }
  },
});

const laddersByKey = new WeakMap<CollectContext, Map<string, LadderView>>();

function ladderIndex(context: CollectContext): Map<string, LadderView> {
  let index = laddersByKey.get(context);
  if (index === undefined) {
    index = new Map(context.ladders.map((l) => [l.stats.ladder.key, l]));
    laddersByKey.set(context, index);
  }
  return index;
}

function driftFamily(name: string, help: string, count: (d: { missing: readonly string[]; stale: readonly string[] }) => number): MetricFamily {
  return steppedFamily({
    name,
    type: 'gauge',
    help,
    labels: LADDER_LABELS,
    *collectSteps(snapshot, emit, context) {
      const drift = snapshot.kube?.enrichment?.drift;
      if (drift === undefined) return;
      const index = ladderIndex(context);
      yield;
      let rows = 0;
      for (const d of drift) {
        const ladder = index.get(d.ladderKey);
        if (ladder !== undefined) emit(ladder.labels, count(d));
        if (++rows % ROWS_PER_STEP === 0) yield;
      }
    },
  });
}

export const serviceDriftMissingEndpoints = driftFamily(
  'kube_balance_service_drift_missing_endpoints',
  'Endpoints the Kubernetes API says kube-proxy should program in this ladder on this node (ready, topology hints, ' +
    'Local policy and the terminating fallback considered) that the rules lack. 0 when unsure of this node\'s zone.',
  (d) => d.missing.length,
);

export const serviceDriftStaleEndpoints = driftFamily(
  'kube_balance_service_drift_stale_endpoints',
  'Endpoints in this ladder\'s rules on this node that the Kubernetes API no longer has, or that kube-proxy should ' +
    'have removed (not ready, another node\'s for a local ladder).',
  (d) => d.stale.length,
);
