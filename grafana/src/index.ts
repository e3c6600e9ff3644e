/** The shipped dashboards: file name under grafana/ → builder. `UPDATE_GOLDEN=1 npx vitest run test/grafana` rewrites the JSON. */
import type { JsonObject } from './builders.js';
import { clusterOverview } from './cluster-overview.js';
import { serviceLoadBalance } from './service-load-balance.js';

export const DASHBOARDS: readonly { readonly file: string; readonly build: () => JsonObject }[] = [
  { file: 'kube-balance-service.json', build: serviceLoadBalance },
  { file: 'kube-balance-overview.json', build: clusterOverview },
];
