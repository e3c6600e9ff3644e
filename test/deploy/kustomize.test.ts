/** deploy/ renders with kubectl kustomize in every supported combination, validates, and is least-privilege. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IPodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { COMPONENTS, DEPLOY, REPO, find, kinds, kustomize, overlayDir, quantity, removeOverlays, validateObject, type Component, type KubeObject } from './render.js';

afterAll(removeOverlays);

const NAMESPACE = 'kube-balance';
const PORT = 10090;
const BASE_KINDS = ['ClusterRole', 'ClusterRoleBinding', 'DaemonSet', 'Namespace', 'Service', 'ServiceAccount'];
const COMPONENT_KINDS: Record<Component, string | null> = {
  servicemonitor: 'ServiceMonitor',
  podmonitor: 'PodMonitor',
  // These embed generated files that may hold zero objects until deploy/prometheus/ and grafana/ exist.
  prometheusrule: null,
  'grafana-dashboards': null,
};
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };

const combinations: Array<[string, Component[]]> = [
  ['base', []],
  ...COMPONENTS.map((c): [string, Component[]] => [`base+${c}`, [c]]),
  ['all', [...COMPONENTS]],
];

function exporterContainer(objects: KubeObject[]): { ds: IDaemonSet; c: IContainer } {
  const ds = find<IDaemonSet>(objects, 'DaemonSet', 'kube-balance-exporter');
  const containers = ds.spec?.template.spec?.containers ?? [];
  expect(containers).toHaveLength(1);
  return { ds, c: containers[0] as IContainer };
}

describe('kubectl kustomize', () => {
  it.each(combinations)('%s renders, and every object validates against its schema', (_name, components) => {
    const objects = kustomize(overlayDir(components));
    for (const o of objects) validateObject(o);
    const expected = [...BASE_KINDS, ...components.map((c) => COMPONENT_KINDS[c]).filter((k): k is string => k !== null)];
    const got = kinds(objects).filter((k) => k !== 'PrometheusRule' && k !== 'ConfigMap');
    expect(got).toEqual(expected.sort());
    for (const o of objects.filter((x) => !['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(x.kind))) {
      expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(NAMESPACE);
    }
    const ids = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('deploy/ (what `kubectl apply -k deploy/` installs) is exactly the base', () => {
    expect(kustomize(DEPLOY)).toEqual(kustomize(overlayDir([])));
  });

  it('the shipped prometheus-operator overlay is base + servicemonitor + prometheusrule + grafana-dashboards', () => {
    const objects = kustomize(join(DEPLOY, 'overlays/prometheus-operator'));
    for (const o of objects) validateObject(o);
    expect(objects).toEqual(kustomize(overlayDir(['servicemonitor', 'prometheusrule', 'grafana-dashboards'])));
  });

  // docs/deploy.md "Another namespace": the plain `namespace:` field would rename our Namespace (and
  // stamp PSA privileged on yours) and leave the binding's subject in kube-balance (kustomize only
  // rewrites subjects in `default`), so the docs give this instead; keep the two identical.
  it('the documented namespace move keeps RBAC pointing at the ServiceAccount and leaves your Namespace alone', () => {
    const snippet = [
      'patches:',
      '  - patch: |-',
      '      $patch: delete',
      '      apiVersion: v1',
      '      kind: Namespace',
      '      metadata:',
      '        name: kube-balance',
      'transformers:',
      '  - |-',
      '    apiVersion: builtin',
      '    kind: NamespaceTransformer',
      '    metadata:',
      '      name: namespace',
      '      namespace: monitoring',
      '    setRoleBindingSubjects: allServiceAccounts',
      '    unsetOnly: false',
    ].join('\n');
    expect(readFileSync(join(REPO, 'docs/deploy.md'), 'utf8')).toContain(snippet);
    const objects = kustomize(overlayDir(['servicemonitor'], snippet));
    expect(objects.filter((o) => o.kind === 'Namespace')).toEqual([]);
    const crb = find<IClusterRoleBinding>(objects, 'ClusterRoleBinding');
    expect(crb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'kube-balance-exporter', namespace: 'monitoring' }]);
    for (const o of objects.filter((x) => !x.kind.startsWith('Cluster'))) expect(o.metadata.namespace, o.kind).toBe('monitoring');
  });
});

describe('base', () => {
  const objects = kustomize(DEPLOY);

  it('namespace enforces the privileged Pod Security level (hostNetwork + NET_ADMIN fail baseline)', () => {
    const ns = find(objects, 'Namespace');
    expect(ns.metadata.name).toBe(NAMESPACE);
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });

  it('RBAC grants exactly list/watch on services and endpointslices, and get on nodes (zone lookup)', () => {
    const role = find<IClusterRole>(objects, 'ClusterRole');
    const grants = (role.rules ?? []).flatMap((r) =>
      (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).map((res) => `${g}/${res}: ${[...r.verbs].sort().join(',')}`)),
    );
    expect(grants.sort()).toEqual(['/nodes: get', '/services: list,watch', 'discovery.k8s.io/endpointslices: list,watch']);
    for (const r of role.rules ?? []) {
      expect(r.resourceNames).toBeUndefined();
      expect(r.nonResourceURLs).toBeUndefined();
    }
    expect(role.aggregationRule).toBeUndefined();
    const crb = find<IClusterRoleBinding>(objects, 'ClusterRoleBinding');
    expect(crb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata?.name });
    const { ds } = exporterContainer(objects);
    expect(crb.subjects).toEqual([{ kind: 'ServiceAccount', name: ds.spec?.template.spec?.serviceAccountName, namespace: NAMESPACE }]);
    expect(find(objects, 'ServiceAccount').metadata.name).toBe(ds.spec?.template.spec?.serviceAccountName);
  });

  it('DaemonSet runs on every node in the host network namespace at node-critical priority', () => {
    const { ds } = exporterContainer(objects);
    const pod = ds.spec?.template.spec;
    expect(pod?.hostNetwork).toBe(true);
    expect(pod?.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(pod?.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod?.priorityClassName).toBe('system-node-critical');
    expect(pod?.hostPID ?? false).toBe(false);
    expect(pod?.hostIPC ?? false).toBe(false);
    expect(pod?.automountServiceAccountToken ?? true).toBe(true);
    expect(ds.spec?.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%', maxSurge: 0 } });
    expect(ds.spec?.selector.matchLabels).toEqual(
      Object.fromEntries(Object.entries(ds.spec?.template.metadata?.labels ?? {}).filter(([k]) => k in (ds.spec?.selector.matchLabels ?? {}))),
    );
  });

  it('container is root with only NET_ADMIN and NET_RAW, read-only, no escalation, RuntimeDefault seccomp', () => {
    const { ds, c } = exporterContainer(objects);
    const sc = c.securityContext;
    expect(sc?.runAsUser).toBe(0);
    expect(sc?.privileged ?? false).toBe(false);
    expect(sc?.allowPrivilegeEscalation).toBe(false);
    expect(sc?.readOnlyRootFilesystem).toBe(true);
    expect(sc?.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] });
    const seccomp = sc?.seccompProfile ?? ds.spec?.template.spec?.securityContext?.seccompProfile;
    expect(seccomp).toEqual({ type: 'RuntimeDefault' });
    // Nothing from the host's filesystem: the only volume is a scratch /tmp.
    const volumes = ds.spec?.template.spec?.volumes ?? [];
    for (const v of volumes) expect(v.hostPath, `volume ${v.name}`).toBeUndefined();
    expect(c.volumeMounts?.map((m) => m.mountPath)).toEqual(['/tmp']);
  });

  it('NODE_NAME comes from the downward API (spec.nodeName)', () => {
    const { c } = exporterContainer(objects);
    expect(c.env?.find((e) => e.name === 'NODE_NAME')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'spec.nodeName' } });
  });

  it('port 10090 is named metrics and is what the args, probes and the headless Service use', () => {
    const { c } = exporterContainer(objects);
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: PORT, protocol: 'TCP' }]);
    expect(c.args).toContain(`--web.listen-address=:${PORT}`);
    expect(c.startupProbe?.httpGet).toEqual({ path: '/-/healthy', port: 'metrics' });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/-/healthy', port: 'metrics' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/-/ready', port: 'metrics' });
    // The startup probe must outlast a first iptables-nft-save at XL (~12 s, issue 7) with room to spare.
    const startup = c.startupProbe;
    expect((startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3)).toBeGreaterThanOrEqual(60);
    const svc = find<IService>(objects, 'Service');
    expect(svc.spec?.clusterIP).toBe('None');
    expect(svc.spec?.ports).toEqual([{ name: 'metrics', port: PORT, targetPort: 'metrics', protocol: 'TCP' }]);
    const { ds } = exporterContainer(objects);
    const podLabels = ds.spec?.template.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(svc.spec?.selector ?? {})) expect(podLabels[k], `selector ${k}`).toBe(v);
  });

  it('resources: small requests, a memory limit that holds the exporter and its iptables-save child', () => {
    const { c } = exporterContainer(objects);
    const MiB = 2 ** 20;
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    expect(quantity(req.cpu)).toBeGreaterThan(0);
    expect(quantity(req.memory)).toBeGreaterThan(0);
    // issue 7: iptables-save peaks ~200 MiB at 10k services; the exporter's own target is <= 250 MiB.
    expect(quantity(lim.memory)).toBeGreaterThanOrEqual((200 + 250) * MiB);
    expect(quantity(lim.memory)).toBeGreaterThan(quantity(req.memory));
    // No CPU limit: throttling would only stretch iptables-save (the sampler budgets its CPU itself).
    expect(lim.cpu).toBeUndefined();
    // docs/deploy.md's sizing table states the defaults that ship.
    const docs = readFileSync(join(REPO, 'docs/deploy.md'), 'utf8');
    const line = docs.split('\n').find((l) => l.startsWith('The defaults that ship:')) ?? '';
    expect(line).toContain(`requests \`cpu: ${String(req.cpu)}\`, \`memory: ${String(req.memory)}\``);
    expect(line).toContain(`limit \`memory: ${String(lim.memory)}\``);
  });

  it('the image tag follows package.json version', () => {
    const { c } = exporterContainer(objects);
    expect(c.image).toBe(`kube-balance-exporter:${pkg.version}`);
  });
});

describe('components', () => {
  const all = kustomize(overlayDir([...COMPONENTS]));
  const { ds, c } = exporterContainer(all);
  const podLabels = ds.spec?.template.metadata?.labels ?? {};
  const svc = find<IService>(all, 'Service');
  const nodeRelabel = { sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node', action: 'replace' };

  it('ServiceMonitor selects the headless Service, honors our labels and adds `node`', () => {
    const sm = find<IServiceMonitor>(all, 'ServiceMonitor');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels ?? {})) expect(svc.metadata?.labels?.[k], k).toBe(v);
    expect(sm.spec.namespaceSelector).toBeUndefined(); // same namespace as the Service
    expect(sm.spec.endpoints).toHaveLength(1);
    const ep = sm.spec.endpoints[0];
    expect(ep?.port).toBe(svc.spec?.ports?.[0]?.name);
    expect(ep?.path).toBe('/metrics');
    expect(ep?.honorLabels).toBe(true);
    expect(ep?.relabelings).toContainEqual(nodeRelabel);
  });

  it('PodMonitor selects the exporter pods, honors our labels and adds `node`', () => {
    const pm = find<IPodMonitor>(all, 'PodMonitor');
    for (const [k, v] of Object.entries(pm.spec.selector.matchLabels ?? {})) expect(podLabels[k], k).toBe(v);
    const eps = pm.spec.podMetricsEndpoints ?? [];
    expect(eps).toHaveLength(1);
    expect(eps[0]?.port).toBe(c.ports?.[0]?.name);
    expect(eps[0]?.path).toBe('/metrics');
    expect(eps[0]?.honorLabels).toBe(true);
    expect(eps[0]?.relabelings).toContainEqual(nodeRelabel);
  });

  // prometheus-operator names the job after the Service (ServiceMonitor) or `<namespace>/<name>`
  // (PodMonitor); the exporter-health alerts select on it.
  it('the job either monitor produces matches every job selector in deploy/prometheus/', () => {
    const sm = find<IServiceMonitor>(all, 'ServiceMonitor');
    const pm = find<IPodMonitor>(all, 'PodMonitor');
    expect(sm.spec.jobLabel).toBeUndefined();
    expect(pm.spec.jobLabel).toBeUndefined();
    const jobs = [svc.metadata?.name, `${pm.metadata?.namespace}/${pm.metadata?.name}`];
    const dir = join(DEPLOY, 'prometheus');
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];
    const exprs = files.flatMap((f) => {
      const data = parse(readFileSync(join(dir, f), 'utf8')) as { groups?: Array<{ rules?: Array<{ expr?: unknown }> }> } | null;
      return (data?.groups ?? []).flatMap((g) => (g.rules ?? []).map((r) => String(r.expr ?? '')));
    });
    const selectors = exprs.flatMap((expr) => [...expr.matchAll(/\bjob\s*(=~|=)\s*"((?:[^"\\]|\\.)*)"/g)]);
    if (files.length > 0) expect(selectors.length, 'no job selector found in the rule files').toBeGreaterThan(0);
    for (const [, op, value] of selectors) {
      const re = op === '=~' ? new RegExp(`^(?:${value})$`) : null;
      for (const job of jobs) expect(re ? re.test(String(job)) : job === value, `job ${job} vs job${op}"${value}"`).toBe(true);
    }
  });
});
