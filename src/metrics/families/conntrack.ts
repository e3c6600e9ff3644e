/**
 * The conntrack families (issue 9, `--conntrack.enabled`): what the node's live flows to Service
 * frontends look like per endpoint right now, next to the new-connection view of the rule counters.
 * They read `snapshot.conntrack`, the last scan; absent when conntrack is off.
 */
import type { ConntrackEndpointStats, ConntrackServicePortStats } from '../../conntrack/types.js';
import type { Snapshot } from '../../snapshot.js';
import { ROWS_PER_STEP, type CollectContext, type Emit, type MetricFamily } from '../family.js';
import { scalarFamily, steppedFamily } from './define.js';

/** Labels of the per service port conntrack families: the ladder labels without `policy` (a flow does not say which ladder chose it). */
export const SERVICE_PORT_LABELS = ['namespace', 'service', 'port', 'protocol', 'ip_family'] as const;
export const CONNTRACK_ENDPOINT_LABELS = [...SERVICE_PORT_LABELS, 'endpoint'] as const;

const filteredByContext = new WeakMap<CollectContext, Set<string>>();

/** `namespace\0service` pairs whose per-endpoint series the include/exclude flags removed from the ladder families. */
function filteredServices(context: CollectContext): Set<string> {
  let set = filteredByContext.get(context);
  if (set === undefined) {
    set = new Set();
    for (const view of context.allLadders) {
      if (view.endpointIndexes.length === 0 && view.stats.ladder.endpoints.length > 0) set.add(`${view.labels[0] ?? ''}\u0000${view.labels[1] ?? ''}`);
    }
    filteredByContext.set(context, set);
  }
  return set;
}

function servicePortLabels(sp: ConntrackServicePortStats): string[] {
  const l = sp.labels;
  return [l.namespace, l.service, l.port, l.protocol, l.ipFamily];
}

function okScan(snapshot: Snapshot): readonly ConntrackServicePortStats[] {
  const ct = snapshot.conntrack;
  return ct === undefined || ct === null || !ct.ok ? [] : ct.servicePorts;
}

/** One series per endpoint (and per extra label value), for endpoints of services the filters keep. */
function endpointConntrackFamily(spec: {
  name: string;
  help: string;
  extraLabel: string;
  values: readonly string[];
  value: (endpoint: ConntrackEndpointStats, extra: string) => number | null;
}): MetricFamily {
  return steppedFamily({
    name: spec.name,
    type: 'gauge',
    help: spec.help,
    labels: [...CONNTRACK_ENDPOINT_LABELS, spec.extraLabel],
    *collectSteps(snapshot: Snapshot, emit: Emit, context: CollectContext) {
      const filtered = filteredServices(context);
      yield;
      let rows = 0;
      for (const sp of okScan(snapshot)) {
        if (filtered.has(`${sp.labels.namespace}\u0000${sp.labels.service}`)) continue;
        const base = servicePortLabels(sp);
        for (const ep of sp.endpoints) {
          for (const extra of spec.values) {
            const v = spec.value(ep, extra);
            if (v !== null) emit([...base, ep.endpoint, extra], v);
          }
        }
        if (++rows % ROWS_PER_STEP === 0) yield;
      }
    },
  });
}

export const endpointActiveConnections = endpointConntrackFamily({
  name: 'kube_balance_endpoint_active_connections',
  help:
    'Connections (UDP/SCTP: flows) to this endpoint through a Service frontend that conntrack tracks on this node right now, ' +
    'from the last conntrack scan. state="established": TCP/SCTP ESTABLISHED (UDP: ASSURED); state="all": every tracked flow, ' +
    'TIME_WAIT and UNREPLIED included.',
  extraLabel: 'state',
  values: ['established', 'all'],
  value: (ep, state) => (state === 'established' ? ep.established : ep.all),
});

export const endpointTrafficBytes = endpointConntrackFamily({
  name: 'kube_balance_endpoint_traffic_bytes',
  help:
    'Bytes carried so far by the connections to this endpoint that conntrack tracks on this node right now (current flows, from the ' +
    'last conntrack scan; not a counter since start: it drops when connections close). direction="original": client to endpoint, "reply": back. ' +
    'Needs net.netfilter.nf_conntrack_acct=1; absent when it is off.',
  extraLabel: 'direction',
  values: ['original', 'reply'],
  value: (ep, direction) => (direction === 'original' ? ep.original?.bytes : ep.reply?.bytes) ?? null,
});

export const endpointTrafficPackets = endpointConntrackFamily({
  name: 'kube_balance_endpoint_traffic_packets',
  help:
    'Packets carried so far by the connections to this endpoint that conntrack tracks on this node right now (current flows, from ' +
    'the last conntrack scan; not a counter since start). direction="original" or "reply". Needs net.netfilter.nf_conntrack_acct=1; absent when it is off.',
  extraLabel: 'direction',
  values: ['original', 'reply'],
  value: (ep, direction) => (direction === 'original' ? ep.original?.packets : ep.reply?.packets) ?? null,
});

function serviceConntrackFamily(spec: { name: string; help: string; value: (sp: ConntrackServicePortStats) => number | null }): MetricFamily {
  return steppedFamily({
    name: spec.name,
    type: 'gauge',
    help: spec.help,
    labels: SERVICE_PORT_LABELS,
    *collectSteps(snapshot, emit) {
      let rows = 0;
      for (const sp of okScan(snapshot)) {
        const v = spec.value(sp);
        if (v !== null) emit(servicePortLabels(sp), v);
        if (++rows % ROWS_PER_STEP === 0) yield;
      }
    },
  });
}

export const serviceActiveSkewRatio = serviceConntrackFamily({
  name: 'kube_balance_service_active_skew_ratio',
  help:
    'max over endpoints of (share of the connections conntrack tracks on this node, state="all") / expected share 1/n, from the ' +
    'last conntrack scan (1 = even; 2 = one endpoint holds twice its share). Absent without tracked connections.',
  value: (sp) => sp.activeSkewRatio,
});

export const serviceBytesSkewRatio = serviceConntrackFamily({
  name: 'kube_balance_service_bytes_skew_ratio',
  help:
    'max over endpoints of (share of the bytes, both directions, of the connections conntrack tracks on this node) / expected ' +
    'share 1/n, from the last conntrack scan. Absent without bytes or when nf_conntrack_acct is off.',
  value: (sp) => sp.bytesSkewRatio,
});

export const conntrackScanSuccess = scalarFamily({
  name: 'kube_balance_conntrack_scan_success',
  type: 'gauge',
  help: '1 when the last conntrack scan succeeded, else 0. Absent when --conntrack.enabled is off.',
  value: (s) => (s.conntrack == null ? null : s.conntrack.ok ? 1 : 0),
});

export const conntrackScanDurationSeconds = scalarFamily({
  name: 'kube_balance_conntrack_scan_duration_seconds',
  type: 'gauge',
  help: 'Seconds the last conntrack scan took (listing, parsing and summarizing, all IP families).',
  value: (s) => s.conntrack?.durationSeconds ?? null,
});

export const conntrackAccountingEnabled = scalarFamily({
  name: 'kube_balance_conntrack_accounting_enabled',
  type: 'gauge',
  help:
    'net.netfilter.nf_conntrack_acct as read at the last scan: 1 = the kernel counts packets and bytes per flow (traffic families ' +
    'present), 0 = off (the exporter never changes it). Absent when it cannot be read.',
  value: (s) => (s.conntrack?.accounting == null ? null : s.conntrack.accounting ? 1 : 0),
});

export const conntrackEntriesScanned = scalarFamily({
  name: 'kube_balance_conntrack_entries_scanned',
  type: 'gauge',
  help: 'conntrack entries read by the last scan (all flows of this node, not only Service traffic; capped by --conntrack.max-entries).',
  value: (s) => s.conntrack?.entriesScanned ?? null,
});

export const conntrackEntriesMatched = scalarFamily({
  name: 'kube_balance_conntrack_entries_matched',
  type: 'gauge',
  help: 'Entries of the last scan attributed to a Service frontend and one of its endpoints.',
  value: (s) => s.conntrack?.entriesMatched ?? null,
});

export const conntrackScanTruncated = scalarFamily({
  name: 'kube_balance_conntrack_scan_truncated',
  type: 'gauge',
  help: '1 when the last scan stopped at --conntrack.max-entries: the conntrack families then cover only part of the table.',
  value: (s) => (s.conntrack == null ? null : s.conntrack.truncated ? 1 : 0),
});
