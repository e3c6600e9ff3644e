import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterWatcher } from '../../src/kube/cluster-watcher.js';
import type { Logger } from '../../src/logger-types.js';
import { FakeApiServer, type ApiObject } from '../support/fake-apiserver.js';

const SERVICES = '/api/v1/services';
const SLICES = '/apis/discovery.k8s.io/v1/endpointslices';

const service = (name: string, port = 'http'): ApiObject => ({
  metadata: { name, namespace: 'default' },
  spec: { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: port, port: 80, protocol: 'TCP' }] },
});

const slice = (name: string, service: string, ips: string[], ready = true): ApiObject => ({
  metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: ips.map((ip, i) => ({
    addresses: [ip],
    conditions: { ready, serving: ready, terminating: false },
    nodeName: `node-${i}`,
    zone: 'zone-a',
    targetRef: { kind: 'Pod', name: `${service}-pod-${i}`, namespace: 'default' },
  })),
});

const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ClusterWatcher against the API wire protocol', () => {
  let api: FakeApiServer;
  let watcher: ClusterWatcher;

  beforeEach(async () => {
    api = new FakeApiServer();
    const server = await api.start();
    api.put(SERVICES, service('web'));
    api.put(SLICES, slice('web-abc', 'web', ['10.244.1.5', '10.244.2.6']));
    api.putNode({ metadata: { name: 'node-0', labels: { 'topology.kubernetes.io/zone': 'zone-a' } } });
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'fake', server, skipTLSVerify: true }],
      users: [{ name: 'exporter', token: 'test-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'exporter' }],
      currentContext: 'fake',
    });
    watcher = new ClusterWatcher({ config, logger: silent, nodeName: 'node-0', initialBackoffMs: 50, maxBackoffMs: 200 });
    watcher.start();
  });

  afterEach(async () => {
    await watcher.stop();
    await api.close();
  });

  const endpointsOf = (svc: string): string[] =>
    (watcher.currentView()?.slicesByService.get(`default/${svc}`) ?? []).flatMap((s) => s.endpoints.flatMap((e) => e.addresses));

  it('lists, then follows ADDED, MODIFIED and DELETED events', async () => {
    await until('synced', () => watcher.status().synced);
    expect(endpointsOf('web')).toEqual(['10.244.1.5', '10.244.2.6']);
    expect(watcher.currentView()?.services.get('default/web')?.ports).toEqual([{ name: 'http', protocol: 'tcp', port: 80 }]);
    await until('zone', () => watcher.node().zone === 'zone-a');

    api.put(SERVICES, service('api'));
    api.put(SLICES, slice('web-abc', 'web', ['10.244.1.5']));
    await until('modified slice', () => endpointsOf('web').length === 1);
    await until('added service', () => watcher.currentView()?.services.has('default/api') === true);
    api.delete(SERVICES, 'default', 'api');
    await until('deleted service', () => watcher.currentView()?.services.has('default/api') === false);
  });

  it('resumes a watch the server ended from the last BOOKMARK resourceVersion, without relisting', async () => {
    await until('synced', () => watcher.status().synced);
    await until('watches open', () => api.requests.filter((r) => r.query['watch'] === 'true').length >= 2);
    api.bookmark();
    await new Promise((r) => setTimeout(r, 100));
    const listsBefore = api.requests.filter((r) => r.query['watch'] !== 'true' && !r.path.includes('/nodes/')).length;
    const bookmarkRv = api.requests.at(-1)?.query['resourceVersion'];
    api.endWatches();
    api.put(SLICES, slice('web-abc', 'web', ['10.244.9.9']));
    await until('event after reconnect', () => endpointsOf('web').join() === '10.244.9.9');
    const rewatches = api.requests.filter((r) => r.query['watch'] === 'true').slice(2);
    expect(rewatches.length).toBeGreaterThan(0);
    // The re-watch asks for events after the bookmark, not after the initial list.
    expect(Number(rewatches[0]?.query['resourceVersion'])).toBeGreaterThanOrEqual(Number(bookmarkRv ?? 0));
    const listsAfter = api.requests.filter((r) => r.query['watch'] !== 'true' && !r.path.includes('/nodes/')).length;
    expect(listsAfter).toBe(listsBefore);
  });

  it('relists after a dropped connection and sees what happened meanwhile', async () => {
    await until('synced', () => watcher.status().synced);
    api.dropConnections();
    api.put(SLICES, slice('web-abc', 'web', ['10.244.7.7']));
    await until('state after reconnect', () => endpointsOf('web').join() === '10.244.7.7');
    await until('synced again', () => watcher.status().synced);
  });

  it('relists after 410 Gone and ends up with the current state', async () => {
    await until('synced', () => watcher.status().synced);
    const listsBefore = api.requests.filter((r) => r.path === SLICES && r.query['watch'] !== 'true').length;
    api.put(SLICES, slice('web-abc', 'web', ['10.244.3.3', '10.244.4.4', '10.244.5.5']));
    api.compact();
    api.endWatches();
    await until('relist', () => api.requests.filter((r) => r.path === SLICES && r.query['watch'] !== 'true').length > listsBefore);
    await until('current state', () => endpointsOf('web').length === 3);
    expect(watcher.status().synced).toBe(true);
    // The informer handled the 410 itself: no error, no backoff.
    expect(watcher.status().watchErrorsTotal).toBe(0);
  });

  it('reports not synced while the API fails, keeps the last view, and recovers', async () => {
    await until('synced', () => watcher.status().synced);
    const before = watcher.currentView();
    api.failNext(6, 503);
    api.compact();
    api.dropConnections();
    await until('errors counted', () => watcher.status().watchErrorsTotal > 0);
    expect(watcher.status().synced).toBe(false);
    // Enrichment goes stale gracefully: the last view is still served.
    expect(watcher.currentView()?.services.has('default/web')).toBe(true);
    expect(before).not.toBeNull();
    await until('recovered', () => watcher.status().synced, 15_000);
    expect(endpointsOf('web')).toEqual(['10.244.1.5', '10.244.2.6']);
  });
});
