/** Renders deploy/ with the real `kubectl kustomize` and validates every object against its schema. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';

export const REPO = resolve(import.meta.dirname, '../..');
export const DEPLOY = join(REPO, 'deploy');
export const COMPONENTS = ['servicemonitor', 'podmonitor', 'prometheusrule', 'grafana-dashboards'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** Every kind deploy/ may render, with the schema it must satisfy. A new kind must be added here. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/DaemonSet': DaemonSet,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

let kubectlChecked = false;
/** Fails with an actionable message instead of an ENOENT stack when kubectl is absent. */
export function requireKubectl(): void {
  if (kubectlChecked) return;
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(
      'kubectl is required by test/deploy (it renders deploy/ with `kubectl kustomize`) but could not be run: ' +
        `${(err as Error).message}. Install kubectl (.ci/run does) and re-run.`,
    );
  }
  kubectlChecked = true;
}

/** `kubectl kustomize DIR`, parsed into objects. */
export function kustomize(dir: string): KubeObject[] {
  requireKubectl();
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`kubectl kustomize ${relative(REPO, dir) || dir} failed: ${e.stderr ?? e.message}`);
  }
  return parseAllDocuments(out).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`document ${i} of ${dir}: ${doc.errors[0]?.message}`);
    return doc.toJS() as KubeObject;
  });
}

let overlayRoot: string | undefined;
/**
 * An overlay of the base plus the given components, written to a temp dir. Paths must be relative:
 * kustomize rejects absolute resource roots.
 */
export function overlayDir(components: readonly Component[], extra = ''): string {
  overlayRoot ??= mkdtempSync(join(tmpdir(), 'kube-balance-deploy-'));
  const dir = join(overlayRoot, [...components, extra ? 'extra' : ''].filter(Boolean).join('+') || 'base');
  mkdirSync(dir, { recursive: true });
  const rel = (p: string): string => relative(dir, join(DEPLOY, p));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${rel('base')}]`,
      `components: [${components.map((c) => rel(`components/${c}`)).join(', ')}]`,
      extra,
    ].join('\n'),
  );
  return dir;
}

/** Removes the temp overlays; call from afterAll. */
export function removeOverlays(): void {
  if (overlayRoot !== undefined) rmSync(overlayRoot, { recursive: true, force: true });
  overlayRoot = undefined;
}

/** Validates one object against the Kubernetes / prometheus-operator schema for its kind. */
export function validateObject(obj: KubeObject): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const Model = MODELS[key];
  if (!Model) throw new Error(`no schema for ${key} (${obj.metadata.name}); add its kubernetes-models class to test/deploy/render.ts`);
  try {
    new Model(obj as never).validate();
  } catch (err) {
    throw new Error(`${key} ${obj.metadata.name} is invalid: ${(err as Error).message}`);
  }
}

export function find<T = KubeObject>(objects: readonly KubeObject[], kind: string, name?: string): T {
  const hits = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (hits.length !== 1) throw new Error(`expected exactly one ${kind}${name ? ` ${name}` : ''}, found ${hits.length}`);
  return hits[0] as T;
}

export function kinds(objects: readonly KubeObject[]): string[] {
  return objects.map((o) => o.kind).sort();
}

/** Kubernetes quantity → bytes (memory) or cores (cpu). */
export function quantity(q: string | number | undefined): number {
  if (q === undefined) return Number.NaN;
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q));
  if (!m) throw new Error(`unsupported quantity ${q}`);
  const scale: Record<string, number> = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? (scale[m[2]] ?? Number.NaN) : 1);
}
