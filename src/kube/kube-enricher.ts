/** The sampler's hook into the Kubernetes API: names comment-less ladders and builds the Snapshot's kube part. */
import type { ServiceModel } from '../model/types.js';
import type { ClusterWatcher } from './cluster-watcher.js';
import { enrich, nameLadders } from './enrich.js';
import type { KubeSnapshot } from './types.js';

export interface ModelEnricher {
  /** Before analysis, so counters of comment-less ladders are labelled from the first sample on. */
  name(models: readonly ServiceModel[]): readonly ServiceModel[];
  /** After the models are final: endpoint metadata and drift for this sample. */
  snapshot(models: readonly ServiceModel[]): KubeSnapshot;
}

/** Enrichment that is off (no credentials, --kube.enabled=false): the metrics say so. */
export const DISABLED_ENRICHER: ModelEnricher = {
  name: (models) => models,
  snapshot: () => ({ enabled: false, synced: false, lastSyncTimestamp: null, watchErrorsTotal: 0, enrichment: null }),
};

export function watcherEnricher(watcher: ClusterWatcher): ModelEnricher {
  return {
    name(models) {
      const view = watcher.currentView();
      return view === null ? models : nameLadders(models, view);
    },
    snapshot(models) {
      const status = watcher.status();
      const view = watcher.currentView();
      return {
        enabled: true,
        synced: status.synced,
        lastSyncTimestamp: status.lastSyncTimestamp,
        watchErrorsTotal: status.watchErrorsTotal,
        // Before the first complete list, drift against an empty view would flag every endpoint.
        enrichment: view === null ? null : enrich(models, view, watcher.node()),
      };
    },
  };
}
