/** What the exporter keeps of the Kubernetes API: compact, immutable views of Services and EndpointSlices. */
import type { IpFamily } from '../iptables/types.js';

export interface ServicePortView {
  /** The port's name ('' when unnamed), as in kube-proxy's ServicePortName. */
  readonly name: string;
  /** Lower case, as kube-proxy hashes it: tcp | udp | sctp. */
  readonly protocol: string;
  readonly port: number;
}

export interface ServiceView {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIPs: readonly string[];
  readonly ports: readonly ServicePortView[];
  readonly internalTrafficPolicy: 'Cluster' | 'Local';
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
  readonly sessionAffinity: 'None' | 'ClientIP';
  /** Topology-aware routing requested (annotation topology-mode Auto / trafficDistribution PreferClose). */
  readonly topologyAware: boolean;
}

export interface EndpointView {
  readonly addresses: readonly string[];
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName: string | null;
  readonly zone: string | null;
  /** hints.forZones names; null when the endpoint carries no hints. */
  readonly hintZones: readonly string[] | null;
  /** hints.forNodes names (v1.33+); null when absent. */
  readonly hintNodes: readonly string[] | null;
  readonly pod: string | null;
}

export interface EndpointSliceView {
  readonly namespace: string;
  readonly name: string;
  /** The kubernetes.io/service-name label. */
  readonly service: string;
  readonly ipFamily: IpFamily;
  readonly ports: readonly ServicePortView[];
  readonly endpoints: readonly EndpointView[];
}

/** One consistent picture of the cluster, swapped whole when informers change it. */
export interface ClusterView {
  /** Keyed by `namespace/name`. */
  readonly services: ReadonlyMap<string, ServiceView>;
  /** Keyed by `namespace/service`: all slices of that service. */
  readonly slicesByService: ReadonlyMap<string, readonly EndpointSliceView[]>;
}

/** Where this exporter runs: the node whose rules it reads. */
export interface NodeContext {
  readonly nodeName: string | null;
  readonly zone: string | null;
}

/** One endpoint of one service port joined with what the API says about it (kube_balance_endpoint_info). */
export interface EndpointInfo {
  readonly namespace: string;
  readonly service: string;
  readonly port: string;
  readonly endpoint: string;
  readonly pod: string | null;
  readonly podNode: string | null;
  readonly zone: string | null;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

/** A ladder compared with the endpoints kube-proxy should have programmed on this node. */
export interface LadderDrift {
  readonly ladderKey: string;
  /** Endpoints kube-proxy should program here that the ladder lacks. */
  readonly missing: readonly string[];
  /** Ladder endpoints the API no longer has, or that kube-proxy should have removed. */
  readonly stale: readonly string[];
  /** False when this node's zone is unknown and topology hints may legitimately narrow the set. */
  readonly certain: boolean;
}

export interface KubeEnrichment {
  readonly endpointInfo: readonly EndpointInfo[];
  readonly drift: readonly LadderDrift[];
}

/** The Kubernetes side of a Snapshot. */
export interface KubeSnapshot {
  /** False when --kube.enabled=false or no in-cluster config / kubeconfig was found. */
  readonly enabled: boolean;
  /** Both informers have listed successfully and their watches are running. */
  readonly synced: boolean;
  /** Unix seconds of the last successful list or watch event; null before the first. */
  readonly lastSyncTimestamp: number | null;
  readonly watchErrorsTotal: number;
  /** null until synced: enrichment of a half-listed cluster would report false drift. */
  readonly enrichment: KubeEnrichment | null;
}
