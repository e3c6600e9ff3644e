/** The registry of metric families, in page order: one line per family. */
import type { MetricFamily } from '../family.js';
import { buildInfo } from './build-info.js';
import { dataStale } from './data-stale.js';
import {
  conntrackAccountingEnabled,
  conntrackEntriesMatched,
  conntrackEntriesScanned,
  conntrackScanDurationSeconds,
  conntrackScanSuccess,
  conntrackScanTruncated,
  endpointActiveConnections,
  endpointTrafficBytes,
  endpointTrafficPackets,
  serviceActiveSkewRatio,
  serviceBytesSkewRatio,
} from './conntrack.js';
import { endpointAffinityConnectionsTotal } from './endpoint-affinity-connections-total.js';
import { endpointConnectionsTotal } from './endpoint-connections-total.js';
import { endpointExpectedRatio } from './endpoint-expected-ratio.js';
import { endpointObservedRatio } from './endpoint-observed-ratio.js';
import { endpointProgrammedRatio } from './endpoint-programmed-ratio.js';
import { endpointsWithheld } from './endpoints-withheld.js';
import { laddersWithheld } from './ladders-withheld.js';
import { lastSampleTimestampSeconds } from './last-sample-timestamp-seconds.js';
import { proxyModeInfo } from './proxy-mode-info.js';
import { resetsTotal } from './resets-total.js';
import { rulesSkippedTotal } from './rules-skipped-total.js';
import { sampleDurationSeconds } from './sample-duration-seconds.js';
import { sampleErrorsTotal } from './sample-errors-total.js';
import { sampleIntervalSeconds } from './sample-interval-seconds.js';
import { sampleReadsTotal } from './sample-reads-total.js';
import { samplesTotal } from './samples-total.js';
import { saveDurationSeconds } from './save-duration-seconds.js';
import { saveOutputBytes } from './save-output-bytes.js';
import { saveSuccess } from './save-success.js';
import { serviceChiSquare } from './service-chi-square.js';
import { serviceConnectionsTotal } from './service-connections-total.js';
import { serviceEndpoints } from './service-endpoints.js';
import { serviceInfo } from './service-info.js';
import { serviceProgrammedDeviationRatio } from './service-programmed-deviation-ratio.js';
import { serviceResetsTotal } from './service-resets-total.js';
import { serviceSkewRatio } from './service-skew-ratio.js';
import { serviceUniformityPValue } from './service-uniformity-p-value.js';
import { serviceWindowConnections } from './service-window-connections.js';
import { serviceWindowMembershipChanged } from './service-window-membership-changed.js';
import { serviceWindowSpanSeconds } from './service-window-span-seconds.js';
import {
  endpointInfo,
  kubeEnabled,
  kubeLastSyncTimestampSeconds,
  kubeSynced,
  kubeWatchErrorsTotal,
  serviceDriftMissingEndpoints,
  serviceDriftStaleEndpoints,
} from './kube.js';
import { up } from './up.js';
import { windowSeconds } from './window-seconds.js';

export const METRIC_FAMILIES: readonly MetricFamily[] = [
  // self
  up,
  dataStale,
  lastSampleTimestampSeconds,
  sampleDurationSeconds,
  sampleIntervalSeconds,
  sampleErrorsTotal,
  samplesTotal,
  sampleReadsTotal,
  resetsTotal,
  rulesSkippedTotal,
  saveOutputBytes,
  saveDurationSeconds,
  saveSuccess,
  buildInfo,
  proxyModeInfo,
  windowSeconds,
  laddersWithheld,
  endpointsWithheld,
  // per ladder
  serviceInfo,
  serviceConnectionsTotal,
  serviceEndpoints,
  serviceWindowConnections,
  serviceWindowSpanSeconds,
  serviceSkewRatio,
  serviceUniformityPValue,
  serviceChiSquare,
  serviceWindowMembershipChanged,
  serviceProgrammedDeviationRatio,
  serviceResetsTotal,
  // per endpoint
  endpointConnectionsTotal,
  endpointAffinityConnectionsTotal,
  endpointExpectedRatio,
  endpointProgrammedRatio,
  endpointObservedRatio,
  // Kubernetes API enrichment
  kubeEnabled,
  kubeSynced,
  kubeLastSyncTimestampSeconds,
  kubeWatchErrorsTotal,
  endpointInfo,
  serviceDriftMissingEndpoints,
  serviceDriftStaleEndpoints,
  // conntrack view (--conntrack.enabled)
  conntrackScanSuccess,
  conntrackScanDurationSeconds,
  conntrackAccountingEnabled,
  conntrackEntriesScanned,
  conntrackEntriesMatched,
  conntrackScanTruncated,
  serviceActiveSkewRatio,
  serviceBytesSkewRatio,
  endpointActiveConnections,
  endpointTrafficBytes,
  endpointTrafficPackets,
];
