/** Finds API credentials the way a DaemonSet pod or an operator's shell would: in-cluster, --kubeconfig, KUBECONFIG, or none. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export type KubeConfigChoice =
  | { readonly kind: 'in-cluster' | 'kubeconfig'; readonly config: KubeConfig; readonly source: string }
  | { readonly kind: 'disabled'; readonly reason: string };

export interface KubeConfigOptions {
  readonly enabled: boolean;
  readonly kubeconfigPath: string | null;
  readonly env?: NodeJS.ProcessEnv;
  readonly fileExists?: (path: string) => boolean;
}

export function chooseKubeConfig(options: KubeConfigOptions): KubeConfigChoice {
  const env = options.env ?? process.env;
  const exists = options.fileExists ?? existsSync;
  if (!options.enabled) return { kind: 'disabled', reason: '--kube.enabled=false' };
  // An explicit --kubeconfig wins, then KUBECONFIG, then the pod's service account, then ~/.kube/config.
  const explicit = options.kubeconfigPath ?? env['KUBECONFIG'] ?? null;
  if (explicit !== null && explicit !== '') {
    const path = explicit.split(':')[0] as string;
    if (!exists(path)) return { kind: 'disabled', reason: `kubeconfig ${path} does not exist` };
    const config = new KubeConfig();
    config.loadFromFile(path);
    return { kind: 'kubeconfig', config, source: path };
  }
  if (env['KUBERNETES_SERVICE_HOST'] !== undefined && exists(SERVICE_ACCOUNT_TOKEN)) {
    const config = new KubeConfig();
    config.loadFromCluster();
    return { kind: 'in-cluster', config, source: 'in-cluster service account' };
  }
  const home = join(env['HOME'] ?? homedir(), '.kube', 'config');
  if (exists(home)) {
    const config = new KubeConfig();
    config.loadFromFile(home);
    return { kind: 'kubeconfig', config, source: home };
  }
  return { kind: 'disabled', reason: 'no in-cluster service account and no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config)' };
}
