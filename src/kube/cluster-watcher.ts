/** Watches Services and EndpointSlices with client-node informers, restarting with backoff; serves immutable ClusterViews. */
import {
  CoreV1Api,
  DiscoveryV1Api,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type V1EndpointSlice,
  type V1Service,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from '../logger-types.js';
import { endpointSliceView, serviceView } from './from-api.js';
import type { ClusterView, EndpointSliceView, NodeContext, ServiceView } from './types.js';

export interface ClusterWatcherOptions {
  readonly config: KubeConfig;
  readonly logger: Logger;
  readonly nodeName: string | null;
  /** Unix seconds; injected for tests. */
  readonly now?: () => number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How often to re-read this node's zone label. */
  readonly nodeRefreshMs?: number;
}

export interface ClusterWatcherStatus {
  readonly synced: boolean;
  readonly lastSyncTimestamp: number | null;
  readonly watchErrorsTotal: number;
}

type Watched<T extends KubernetesObject> = { informer: Informer<T> & ObjectCache<T>; listed: boolean; backoffMs: number };

const ZONE_LABEL = 'topology.kubernetes.io/zone';

export class ClusterWatcher {
  private readonly options: Required<Omit<ClusterWatcherOptions, 'nodeName'>> & { nodeName: string | null };
  private readonly core: CoreV1Api;
  private readonly discovery: DiscoveryV1Api;
  private services: Watched<V1Service> | null = null;
  private slices: Watched<V1EndpointSlice> | null = null;
  private view: ClusterView | null = null;
  private dirty = true;
  private lastSync: number | null = null;
  private errors = 0;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private zone: string | null = null;
  private readonly serviceViews = new WeakMap<V1Service, ServiceView | null>();
  private readonly sliceViews = new WeakMap<V1EndpointSlice, EndpointSliceView | null>();

  constructor(options: ClusterWatcherOptions) {
    this.options = {
      now: () => Date.now() / 1000,
      initialBackoffMs: 1000,
      maxBackoffMs: 60_000,
      nodeRefreshMs: 600_000,
      ...options,
    };
    this.core = options.config.makeApiClient(CoreV1Api);
    this.discovery = options.config.makeApiClient(DiscoveryV1Api);
  }

  start(): void {
    this.stopped = false;
    this.services = this.watch<V1Service>('services', '/api/v1/services', () => this.core.listServiceForAllNamespaces());
    this.slices = this.watch<V1EndpointSlice>('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', () =>
      this.discovery.listEndpointSliceForAllNamespaces(),
    );
    void this.refreshNode();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([this.services?.informer.stop(), this.slices?.informer.stop()]);
  }

  status(): ClusterWatcherStatus {
    return {
      synced: (this.services?.listed ?? false) && (this.slices?.listed ?? false),
      lastSyncTimestamp: this.lastSync,
      watchErrorsTotal: this.errors,
    };
  }

  node(): NodeContext {
    return { nodeName: this.options.nodeName, zone: this.zone };
  }

  /** The current view, rebuilt only when an informer changed something; null before both have listed once. */
  currentView(): ClusterView | null {
    if (this.services === null || this.slices === null) return this.view;
    // Rebuild only from complete caches: while an informer relists, the last complete view is served.
    if (!this.dirty || !(this.services.listed && this.slices.listed)) return this.view;
    const services = new Map<string, ServiceView>();
    for (const s of this.services.informer.list()) {
      const v = this.cached(this.serviceViews, s, serviceView);
      if (v !== null) services.set(`${v.namespace}/${v.name}`, v);
    }
    const slicesByService = new Map<string, EndpointSliceView[]>();
    for (const s of this.slices.informer.list()) {
      const v = this.cached(this.sliceViews, s, endpointSliceView);
      if (v === null) continue;
      const key = `${v.namespace}/${v.service}`;
      const list = slicesByService.get(key);
      if (list === undefined) slicesByService.set(key, [v]);
      else list.push(v);
    }
    this.view = { services, slicesByService };
    this.dirty = false;
    return this.view;
  }

  private cached<K extends object, V>(cache: WeakMap<K, V>, key: K, build: (k: K) => V): V {
    // The informer replaces an object on every update, so object identity is a free version check.
    let value = cache.get(key);
    if (value === undefined && !cache.has(key)) {
      value = build(key);
      cache.set(key, value);
    }
    return value as V;
  }

  private watch<T extends KubernetesObject>(resource: string, path: string, list: () => Promise<{ items: T[] }>): Watched<T> {
    const watched = { listed: false, backoffMs: this.options.initialBackoffMs } as Watched<T>;
    const launch = (): void => {
      const listFn = async () => {
        const result = await list();
        // The list succeeded: the cache is complete from here on.
        watched.listed = true;
        this.touch();
            return result as never;
      };
      const informer = makeInformer(this.options.config, path, listFn) as Watched<T>['informer'];
      const changed = (): void => this.touch();
      informer.on('add', changed);
      informer.on('update', changed);
      informer.on('delete', changed);
      informer.on('error', (error: unknown) => {
        this.errors++;
        watched.listed = false;
        if (this.stopped) return;
        const delay = watched.backoffMs;
        watched.backoffMs = Math.min(watched.backoffMs * 2, this.options.maxBackoffMs);
        this.options.logger.warn('kubernetes watch failed; relisting after backoff', { resource, error: describe(error), retry_ms: delay });
        // A fresh informer relists: after an error the old cache may have missed events. Until the
        // relist succeeds, currentView() keeps serving the last view (stale, and status says so).
        this.later(delay, () => {
          void informer.stop();
          if (!this.stopped) launch();
        });
      });
      watched.informer = informer;
      this.dirty = true;
      void informer.start().catch(() => undefined);
    };
    launch();
    return watched;
  }

  private touch(): void {
    this.dirty = true;
    this.lastSync = this.options.now();
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private async refreshNode(): Promise<void> {
    const nodeName = this.options.nodeName;
    if (nodeName === null || this.stopped) return;
    try {
      const node = await this.core.readNode({ name: nodeName });
      this.zone = node.metadata?.labels?.[ZONE_LABEL] ?? null;
    } catch (error) {
      // Only topology-hint drift needs the zone; without it those ladders are reported as uncertain.
      this.options.logger.debug('cannot read this node; zone unknown', { node: nodeName, error: describe(error) });
    }
    this.later(this.options.nodeRefreshMs, () => void this.refreshNode());
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { statusCode?: number; code?: number }).statusCode ?? (error as { code?: unknown }).code;
    return status !== undefined ? `${error.message} (${String(status)})` : error.message;
  }
  return String(error);
}
