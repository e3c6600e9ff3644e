/** Converts API objects (V1Service, V1EndpointSlice) into the compact views the join uses; tolerant of missing fields. */
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { EndpointSliceView, EndpointView, ServicePortView, ServiceView } from './types.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function protocolOf(protocol: string | undefined): string {
  return (protocol ?? 'TCP').toLowerCase();
}

export function serviceView(service: V1Service): ServiceView | null {
  const namespace = service.metadata?.namespace;
  const name = service.metadata?.name;
  if (namespace === undefined || name === undefined) return null;
  const spec = service.spec ?? {};
  const annotations = service.metadata?.annotations ?? {};
  const topologyMode = annotations['service.kubernetes.io/topology-mode'] ?? annotations['service.kubernetes.io/topology-aware-hints'];
  const trafficDistribution = (spec as { trafficDistribution?: string }).trafficDistribution;
  const ports: ServicePortView[] = (spec.ports ?? []).map((p) => ({ name: p.name ?? '', protocol: protocolOf(p.protocol), port: p.port }));
  const clusterIPs = spec.clusterIPs ?? (spec.clusterIP !== undefined ? [spec.clusterIP] : []);
  return {
    namespace,
    name,
    clusterIPs: clusterIPs.filter((ip) => ip !== 'None' && ip !== ''),
    ports,
    internalTrafficPolicy: spec.internalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    externalTrafficPolicy: spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    sessionAffinity: spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None',
    topologyAware:
      topologyMode === 'Auto' ||
      topologyMode === 'auto' ||
      trafficDistribution === 'PreferClose' ||
      trafficDistribution === 'PreferSameZone' ||
      trafficDistribution === 'PreferSameNode',
  };
}

export function endpointSliceView(slice: V1EndpointSlice): EndpointSliceView | null {
  const namespace = slice.metadata?.namespace;
  const name = slice.metadata?.name;
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  // kube-proxy ignores slices without the service-name label and FQDN slices; so do we.
  if (namespace === undefined || name === undefined || service === undefined) return null;
  if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') return null;
  const ports: ServicePortView[] = (slice.ports ?? [])
    .filter((p) => p.port !== undefined)
    .map((p) => ({ name: p.name ?? '', protocol: protocolOf(p.protocol), port: p.port as number }));
  const endpoints: EndpointView[] = (slice.endpoints ?? []).map((e) => {
    // EndpointSlice conditions: a nil `ready` means ready; a nil `serving` defaults to `ready`.
    const ready = e.conditions?.ready ?? true;
    const hints = e.hints as { forZones?: { name: string }[]; forNodes?: { name: string }[] } | undefined;
    return {
      addresses: e.addresses,
      ready,
      serving: e.conditions?.serving ?? ready,
      terminating: e.conditions?.terminating ?? false,
      nodeName: e.nodeName ?? null,
      zone: e.zone ?? null,
      hintZones: hints?.forZones?.map((z) => z.name) ?? null,
      hintNodes: hints?.forNodes?.map((n) => n.name) ?? null,
      pod: e.targetRef?.kind === 'Pod' ? (e.targetRef.name ?? null) : null,
    };
  });
  return { namespace, name, service, ipFamily: slice.addressType === 'IPv6' ? 'ipv6' : 'ipv4', ports, endpoints };
}

/** kube-proxy's endpoint string: `ip:port`, `[v6]:port`. */
export function endpointString(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
