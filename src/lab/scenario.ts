/** Lab scenario: the pods and Services one simulated kube-proxy node programs, and the default lab scenario. */
import type { IpFamily } from '../iptables/types.js';

export type LabProtocol = 'tcp' | 'udp';

/** A pod that backs Services: one network namespace in the lab, one server per (family, protocol, port). */
export interface PodSpec {
  /** Short DNS-label name, unique in the scenario (`web-1`). */
  readonly name: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
  /** Runs on the simulated node: decides membership of KUBE-SVL (externalTrafficPolicy Local) ladders. */
  readonly local: boolean;
}

export interface ServicePortSpec {
  /** Service port name; '' for an unnamed port (kube-proxy then names it `ns/svc`, no colon, since v1.19). */
  readonly name: string;
  readonly protocol: LabProtocol;
  readonly port: number;
  readonly targetPort: number;
  readonly nodePort?: number;
}

export interface ServiceSpec {
  readonly namespace: string;
  readonly name: string;
  readonly ipFamily: IpFamily;
  readonly clusterIP: string;
  readonly ports: readonly ServicePortSpec[];
  /** Pod names, in the order kube-proxy writes them into the ladder. Empty: "has no endpoints" REJECT. */
  readonly endpoints: readonly string[];
  readonly externalTrafficPolicy?: 'Cluster' | 'Local';
  /** `sessionAffinity: ClientIP` with `sessionAffinityConfig.clientIP.timeoutSeconds` (kube-proxy default 10800). */
  readonly sessionAffinity?: { readonly timeoutSeconds: number };
  /**
   * Deliberately non-uniform ladder, as a stale or hand-edited chain would be: the `--probability` of
   * each rule in order (null = no statistic match). Length must equal the number of endpoints.
   * Applies to every port of the service and to its KUBE-SVC ladder only.
   */
  readonly ladderProbabilities?: readonly (number | null)[];
}

export interface Scenario {
  readonly name: string;
  /** Pod CIDR per family: kube-proxy's local-traffic detector (`! -s <podCIDR>` masquerade rules). */
  readonly podCIDR: { readonly ipv4: string; readonly ipv6: string };
  readonly pods: readonly PodSpec[];
  readonly services: readonly ServiceSpec[];
}

/** kube-proxy's ServicePortName string: `ns/name:port`, or `ns/name` for an unnamed port (v1.19+). */
export function servicePortName(service: Pick<ServiceSpec, 'namespace' | 'name'>, portName: string): string {
  return portName === '' ? `${service.namespace}/${service.name}` : `${service.namespace}/${service.name}:${portName}`;
}

/** `namespace/name`, the key the lab uses for a Service. */
export function serviceKey(service: Pick<ServiceSpec, 'namespace' | 'name'>): string {
  return `${service.namespace}/${service.name}`;
}

/** kube-proxy's endpoint string (`net.JoinHostPort`): `ip:port`, `[v6]:port`. */
export function endpointString(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export class ScenarioError extends Error {
  readonly code = 'LAB_SCENARIO';
}

export function podAddress(pod: PodSpec, family: IpFamily): string {
  const address = family === 'ipv6' ? pod.ipv6 : pod.ipv4;
  if (address === undefined) throw new ScenarioError(`pod ${pod.name} has no ${family} address`);
  return address;
}

/** One endpoint of one service port as kube-proxy sees it. */
export interface ResolvedEndpoint {
  readonly pod: PodSpec;
  readonly ip: string;
  readonly port: number;
  /** `ip:port` / `[v6]:port`. */
  readonly endpoint: string;
}

export function findPod(scenario: Scenario, name: string): PodSpec {
  const pod = scenario.pods.find((p) => p.name === name);
  if (pod === undefined) throw new ScenarioError(`scenario ${scenario.name}: unknown pod ${name}`);
  return pod;
}

export function findService(scenario: Scenario, key: string): ServiceSpec {
  const service = scenario.services.find((s) => serviceKey(s) === key);
  if (service === undefined) throw new ScenarioError(`scenario ${scenario.name}: unknown service ${key}`);
  return service;
}

export function findPort(service: ServiceSpec, portName: string): ServicePortSpec {
  const port = service.ports.find((p) => p.name === portName);
  if (port === undefined) throw new ScenarioError(`service ${serviceKey(service)} has no port named '${portName}'`);
  return port;
}

export function resolveEndpoints(scenario: Scenario, service: ServiceSpec, port: ServicePortSpec): ResolvedEndpoint[] {
  return service.endpoints.map((name) => {
    const pod = findPod(scenario, name);
    const ip = podAddress(pod, service.ipFamily);
    return { pod, ip, port: port.targetPort, endpoint: endpointString(ip, port.targetPort) };
  });
}

/** Checks names, families, addresses and probabilities; throws ScenarioError with the offending item. */
export function validateScenario(scenario: Scenario): void {
  const podNames = new Set<string>();
  for (const pod of scenario.pods) {
    if (!/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/.test(pod.name)) throw new ScenarioError(`bad pod name '${pod.name}'`);
    if (podNames.has(pod.name)) throw new ScenarioError(`duplicate pod ${pod.name}`);
    podNames.add(pod.name);
    if (pod.ipv4 === undefined && pod.ipv6 === undefined) throw new ScenarioError(`pod ${pod.name} has no address`);
  }
  const keys = new Set<string>();
  for (const service of scenario.services) {
    const key = serviceKey(service);
    if (keys.has(key)) throw new ScenarioError(`duplicate service ${key}`);
    keys.add(key);
    if (service.ports.length === 0) throw new ScenarioError(`service ${key} has no ports`);
    if (service.clusterIP.includes(':') !== (service.ipFamily === 'ipv6')) {
      throw new ScenarioError(`service ${key}: clusterIP ${service.clusterIP} is not ${service.ipFamily}`);
    }
    const portNames = new Set(service.ports.map((p) => p.name));
    if (portNames.size !== service.ports.length) throw new ScenarioError(`service ${key} has duplicate port names`);
    if (service.ports.length > 1 && portNames.has('')) throw new ScenarioError(`service ${key}: only a single port may be unnamed`);
    for (const name of service.endpoints) podAddress(findPod(scenario, name), service.ipFamily);
    const ladder = service.ladderProbabilities;
    if (ladder !== undefined && ladder.length !== service.endpoints.length) {
      throw new ScenarioError(`service ${key}: ladderProbabilities has ${ladder.length} entries for ${service.endpoints.length} endpoints`);
    }
  }
}

/**
 * The default lab: every rule shape the exporter must read. Pods back several Services, as real pods
 * do; `web-3` runs on "another node" so the Local-policy Service has a KUBE-SVL ladder smaller than
 * its KUBE-SVC ladder.
 */
export function defaultLabScenario(): Scenario {
  return {
    name: 'default',
    podCIDR: { ipv4: '10.244.0.0/16', ipv6: 'fd00:10:244::/64' },
    pods: [
      { name: 'api-1', ipv4: '10.244.1.10', local: true },
      { name: 'web-1', ipv4: '10.244.1.11', ipv6: 'fd00:10:244::11', local: true },
      { name: 'web-2', ipv4: '10.244.1.12', ipv6: 'fd00:10:244::12', local: true },
      { name: 'web-3', ipv4: '10.244.2.13', ipv6: 'fd00:10:244::13', local: false },
    ],
    services: [
      {
        // Single endpoint: the ladder is one unconditional jump.
        namespace: 'default',
        name: 'kubernetes',
        ipFamily: 'ipv4',
        clusterIP: '10.96.0.1',
        ports: [{ name: 'https', protocol: 'tcp', port: 443, targetPort: 6443 }],
        endpoints: ['api-1'],
      },
      {
        // Unnamed port, NodePort, Cluster policy: the uniform reference.
        namespace: 'shop',
        name: 'web',
        ipFamily: 'ipv4',
        clusterIP: '10.96.10.10',
        ports: [{ name: '', protocol: 'tcp', port: 80, targetPort: 8080, nodePort: 30080 }],
        endpoints: ['web-1', 'web-2', 'web-3'],
      },
      {
        // Named ports, UDP and TCP on the same port number.
        namespace: 'kube-system',
        name: 'dns',
        ipFamily: 'ipv4',
        clusterIP: '10.96.0.10',
        ports: [
          { name: 'dns', protocol: 'udp', port: 53, targetPort: 5353 },
          { name: 'dns-tcp', protocol: 'tcp', port: 53, targetPort: 5353 },
        ],
        endpoints: ['web-1', 'web-2'],
      },
      {
        // externalTrafficPolicy Local: KUBE-EXT → KUBE-SVL over the node-local pods only.
        namespace: 'shop',
        name: 'checkout',
        ipFamily: 'ipv4',
        clusterIP: '10.96.10.20',
        ports: [{ name: 'http', protocol: 'tcp', port: 80, targetPort: 8081, nodePort: 30081 }],
        endpoints: ['web-1', 'web-2', 'web-3'],
        externalTrafficPolicy: 'Local',
      },
      {
        namespace: 'shop',
        name: 'cart',
        ipFamily: 'ipv4',
        clusterIP: '10.96.10.30',
        ports: [{ name: 'http', protocol: 'tcp', port: 80, targetPort: 8082 }],
        endpoints: ['web-1', 'web-2', 'web-3'],
        sessionAffinity: { timeoutSeconds: 10800 },
      },
      {
        // Selects no ready pod: filter-table REJECT, no nat chains.
        namespace: 'shop',
        name: 'legacy',
        ipFamily: 'ipv4',
        clusterIP: '10.96.10.40',
        ports: [{ name: 'http', protocol: 'tcp', port: 80, targetPort: 8083 }],
        endpoints: [],
      },
      {
        // A stale / hand-edited ladder: 0.8 then unconditional, 80/20 instead of 50/50.
        namespace: 'shop',
        name: 'search',
        ipFamily: 'ipv4',
        clusterIP: '10.96.10.50',
        ports: [{ name: 'http', protocol: 'tcp', port: 80, targetPort: 8084 }],
        endpoints: ['web-1', 'web-2'],
        ladderProbabilities: [0.8, null],
      },
      {
        namespace: 'shop',
        name: 'web6',
        ipFamily: 'ipv6',
        clusterIP: 'fd00:10:96::10',
        ports: [{ name: 'http', protocol: 'tcp', port: 80, targetPort: 8080, nodePort: 30082 }],
        endpoints: ['web-1', 'web-2', 'web-3'],
      },
    ],
  };
}

/** Replaces one Service (by key) in a scenario; used to change endpoint sets mid-test. */
export function withService(scenario: Scenario, key: string, update: (service: ServiceSpec) => ServiceSpec): Scenario {
  findService(scenario, key);
  return { ...scenario, services: scenario.services.map((s) => (serviceKey(s) === key ? update(s) : s)) };
}
