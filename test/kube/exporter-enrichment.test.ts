import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExporterConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger-types.js';
import { endpointChainName, serviceChainName } from '../../src/model/chain-names.js';
import { runExporter, type ExporterHandle } from '../../src/run-exporter.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

// A comment-less ruleset (large-cluster mode / the v1.12-1.18 bug): only the API can name it.
const SVC = serviceChainName('KUBE-SVC-', 'shop/web:http', 'tcp');
const sep = (ip: string) => endpointChainName('shop/web:http', 'tcp', `${ip}:8080`);
const ENDPOINTS = ['10.244.1.5', '10.244.2.6', '10.244.3.7'];
const DUMP = [
  '*nat',
  ':KUBE-SERVICES - [0:0]',
  `:${SVC} - [0:0]`,
  ...ENDPOINTS.map((ip) => `:${sep(ip)} - [0:0]`),
  `[0:0] -A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j ${SVC}`,
  `[10:600] -A ${SVC} -m statistic --mode random --probability 0.33333333349 -j ${sep('10.244.1.5')}`,
  `[11:660] -A ${SVC} -m statistic --mode random --probability 0.50000000000 -j ${sep('10.244.2.6')}`,
  `[9:540] -A ${SVC} -j ${sep('10.244.3.7')}`,
  ...ENDPOINTS.flatMap((ip) => [
    `[0:0] -A ${sep(ip)} -s ${ip}/32 -j KUBE-MARK-MASQ`,
    `[0:0] -A ${sep(ip)} -p tcp -m tcp -j DNAT --to-destination ${ip}:8080`,
  ]),
  'COMMIT',
  '',
].join('\n');

let api: FakeApiServer;
let dir: string;
let handle: ExporterHandle | null = null;

beforeEach(async () => {
  api = new FakeApiServer();
  const server = await api.start();
  api.put('/api/v1/services', {
    metadata: { name: 'web', namespace: 'shop' },
    spec: { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  });
  api.put('/apis/discovery.k8s.io/v1/endpointslices', {
    metadata: { name: 'web-x1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ENDPOINTS.map((ip, i) => ({
      addresses: [ip],
      // The third endpoint went not-ready; the node's rules still hold it.
      conditions: { ready: i < 2, serving: i < 2, terminating: false },
      nodeName: `node-${String.fromCharCode(97 + i)}`,
      zone: 'eu-1c',
      targetRef: { kind: 'Pod', namespace: 'shop', name: `web-pod-${i}` },
    })),
  });
  dir = mkdtempSync(join(tmpdir(), 'kbe-kube-'));
  writeFileSync(join(dir, 'dump.txt'), DUMP);
  writeFileSync(
    join(dir, 'kubeconfig'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'exporter', user: { token: 'test' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'exporter' } }],
      'current-context': 'fake',
    }),
  );
});

afterEach(async () => {
  await handle?.close();
  handle = null;
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(): ExporterConfig {
  return {
    web: { listenAddress: '127.0.0.1:0', telemetryPath: '/metrics' },
    sample: { intervalSeconds: 0.2, timeoutSeconds: 10, maxOutputBytes: 1 << 20, maxAgeSeconds: 3600, maxCpu: 1 },
    windowSeconds: 300,
    iptables: { backend: 'nft', families: ['ipv4'] },
    source: { file: join(dir, 'dump.txt') },
    metrics: { includeNamespaces: null, excludeNamespaces: null, includeServices: null, excludeServices: null },
    log: { level: 'info', format: 'logfmt' },
    kube: { enabled: true, kubeconfig: join(dir, 'kubeconfig'), nodeName: 'node-a' },
  };
}

async function scrapeUntil(base: string, ...patterns: RegExp[]): Promise<string> {
  for (let i = 0; ; i++) {
    const text = await (await fetch(`${base}/metrics`)).text();
    if (patterns.every((p) => p.test(text))) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('exporter with Kubernetes enrichment (real client-node against the API wire protocol)', () => {
  it('names comment-less chains, publishes endpoint info and flags the stale endpoint', async () => {
    handle = await runExporter(config(), { logger: silentLogger, metricsPage: { registry: new Registry(), nodejsVersion: 'v20.0.0' } });
    const base = `http://127.0.0.1:${handle.address.port}`;
    const text = await scrapeUntil(base, /kube_balance_service_drift_stale_endpoints\{/);
    const ladder = 'namespace="shop",service="web",port="http",protocol="tcp",ip_family="ipv4",policy="cluster"';
    expect(text).toContain('kube_balance_kube_synced 1');
    expect(text).toContain(`kube_balance_endpoint_connections_total{${ladder},endpoint="10.244.2.6:8080"} 11`);
    expect(text).toContain(
      'kube_balance_endpoint_info{namespace="shop",service="web",port="http",endpoint="10.244.3.7:8080",pod="web-pod-2",pod_node="node-c",zone="eu-1c",ready="false",serving="false",terminating="false"} 1',
    );
    expect(text).toContain(`kube_balance_service_drift_stale_endpoints{${ladder}} 1`);
    expect(text).toContain(`kube_balance_service_drift_missing_endpoints{${ladder}} 0`);
  });

  it('keeps sampling while the API is slow to list, then enriches once it answers', async () => {
    api.listDelayMs = 1500;
    handle = await runExporter(config(), { logger: silentLogger, metricsPage: { registry: new Registry(), nodejsVersion: 'v20.0.0' } });
    const base = `http://127.0.0.1:${handle.address.port}`;
    // Samples land every 0.2 s while the lists are still pending: iptables numbers do not wait for the API.
    const early = await scrapeUntil(base, /kube_balance_samples_total [3-9]/);
    expect(early).toContain('kube_balance_up 1');
    expect(early).toContain('kube_balance_kube_synced 0');
    expect(early).not.toContain('kube_balance_endpoint_info{');
    const later = await scrapeUntil(base, /kube_balance_kube_synced 1/, /kube_balance_endpoint_info\{/);
    expect(later).toContain('kube_balance_service_drift_stale_endpoints{namespace="shop",service="web"');
  });

  it('keeps sampling iptables while the API is down, and says enrichment is not synced', async () => {
    api.failNext(1000, 503);
    handle = await runExporter(config(), { logger: silentLogger, metricsPage: { registry: new Registry(), nodejsVersion: 'v20.0.0' } });
    const base = `http://127.0.0.1:${handle.address.port}`;
    const text = await scrapeUntil(base, /kube_balance_kube_watch_errors_total [1-9]/, /kube_balance_up 1/);
    expect(text).toContain('kube_balance_up 1');
    expect(text).toContain('kube_balance_kube_synced 0');
    // Without the API nobody can name the ladder, but its counters are there.
    expect(text).toMatch(/kube_balance_service_connections_total\{namespace="",service="",port="",protocol="tcp",ip_family="ipv4",policy="cluster"\} 30/);
    expect(text).not.toContain('kube_balance_endpoint_info{');
  });
});
