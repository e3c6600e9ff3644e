/**
 * A loopback HTTP server speaking the Kubernetes API wire protocol that client-node informers use:
 * list with resourceVersion, chunked watch streams of ADDED/MODIFIED/DELETED/BOOKMARK events, a 410
 * Gone ERROR event for a compacted resourceVersion, dropped connections, and injected failures.
 * No kube-apiserver can run here; this is the real protocol, not a mock of our code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ApiObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown };
  [key: string]: unknown;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface Resource {
  readonly listKind: string;
  readonly apiVersion: string;
  readonly objects: Map<string, ApiObject>;
  /** Every change, in order, for watch replay. */
  readonly history: { rv: number; type: EventType; object: ApiObject }[];
  readonly watchers: Set<ServerResponse>;
}

export interface RecordedRequest {
  readonly path: string;
  readonly query: Record<string, string>;
}

const RESOURCES: Record<string, { listKind: string; apiVersion: string }> = {
  '/api/v1/services': { listKind: 'ServiceList', apiVersion: 'v1' },
  '/apis/discovery.k8s.io/v1/endpointslices': { listKind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1' },
};

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private readonly resources = new Map<string, Resource>();
  private readonly nodes = new Map<string, ApiObject>();
  private readonly sockets = new Set<Socket>();
  private rv = 100;
  /** Watches asking for a resourceVersion older than this get 410 Gone. */
  private compactedRv = 0;
  private failuresLeft = 0;
  private failureStatus = 500;
  /** Milliseconds every list request waits before answering (a slow or overloaded apiserver). */
  listDelayMs = 0;

  constructor() {
    for (const [path, meta] of Object.entries(RESOURCES)) {
      this.resources.set(path, { ...meta, objects: new Map(), history: [], watchers: new Set() });
    }
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Creates or replaces an object, notifying watches (ADDED or MODIFIED). */
  put(path: string, object: ApiObject): void {
    const resource = this.resource(path);
    const key = keyOf(object);
    const type: EventType = resource.objects.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = this.stamp(resource, object);
    resource.objects.set(key, stored);
    this.emit(resource, type, stored);
  }

  delete(path: string, namespace: string, name: string): void {
    const resource = this.resource(path);
    const key = `${namespace}/${name}`;
    const existing = resource.objects.get(key);
    if (existing === undefined) return;
    resource.objects.delete(key);
    this.emit(resource, 'DELETED', this.stamp(resource, existing));
  }

  putNode(node: ApiObject): void {
    this.nodes.set(node.metadata.name, node);
  }

  /** Sends a BOOKMARK carrying the current resourceVersion to every open watch. */
  bookmark(): void {
    for (const resource of this.resources.values()) {
      for (const res of resource.watchers) {
        writeEvent(res, 'BOOKMARK', { apiVersion: resource.apiVersion, kind: resource.listKind.replace(/List$/, ''), metadata: { name: '', resourceVersion: String(this.rv) } });
      }
    }
  }

  /** Forgets history: a watch resuming from an older resourceVersion gets 410 Gone. */
  compact(): void {
    // Every resourceVersion a client holds now is too old; a fresh list gets the new one.
    this.rv++;
    this.compactedRv = this.rv;
    for (const resource of this.resources.values()) resource.history.splice(0);
  }

  /** Ends every watch stream cleanly, as the apiserver does when a watch reaches its timeout. */
  endWatches(): void {
    for (const resource of this.resources.values()) {
      for (const res of resource.watchers) res.end();
      resource.watchers.clear();
    }
  }

  /** Cuts every open connection, as a load balancer or an apiserver restart would. */
  dropConnections(): void {
    for (const resource of this.resources.values()) resource.watchers.clear();
    for (const socket of this.sockets) socket.destroy();
  }

  /** The next `count` requests fail with `status` (an apiserver that is down or overloaded). */
  failNext(count: number, status = 500): void {
    this.failuresLeft = count;
    this.failureStatus = status;
  }

  private resource(path: string): Resource {
    const resource = this.resources.get(path);
    if (resource === undefined) throw new Error(`unknown resource ${path}`);
    return resource;
  }

  private stamp(resource: Resource, object: ApiObject): ApiObject {
    this.rv++;
    return {
      apiVersion: resource.apiVersion,
      kind: resource.listKind.replace(/List$/, ''),
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(this.rv) },
    };
  }

  private emit(resource: Resource, type: EventType, object: ApiObject): void {
    resource.history.push({ rv: this.rv, type, object });
    for (const res of resource.watchers) writeEvent(res, type, object);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({ path: url.pathname, query });
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      sendJson(res, this.failureStatus, status(this.failureStatus, 'injected failure'));
      return;
    }
    const nodeMatch = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname);
    if (nodeMatch !== null) {
      const node = this.nodes.get(decodeURIComponent(nodeMatch[1] as string));
      if (node === undefined) sendJson(res, 404, status(404, 'node not found'));
      else sendJson(res, 200, { apiVersion: 'v1', kind: 'Node', ...node });
      return;
    }
    const resource = this.resources.get(url.pathname);
    if (resource === undefined) {
      sendJson(res, 404, status(404, `no resource at ${url.pathname}`));
      return;
    }
    if (query['watch'] !== 'true') {
      const answer = (): void => sendJson(res, 200, {
        apiVersion: resource.apiVersion,
        kind: resource.listKind,
        metadata: { resourceVersion: String(this.rv) },
        items: [...resource.objects.values()],
      });
      if (this.listDelayMs > 0) setTimeout(answer, this.listDelayMs);
      else answer();
      return;
    }
    const from = Number(query['resourceVersion'] ?? '0');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (from < this.compactedRv) {
      // The real apiserver reports an expired resourceVersion as an ERROR event, then ends the stream.
      writeEvent(res, 'ERROR', status(410, `too old resource version: ${from} (${this.compactedRv})`, 'Expired'));
      res.end();
      return;
    }
    for (const event of resource.history) if (event.rv > from) writeEvent(res, event.type, event.object);
    resource.watchers.add(res);
    res.on('close', () => resource.watchers.delete(res));
  }
}

function keyOf(object: ApiObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function status(code: number, message: string, reason = 'InternalError'): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message, reason, code };
}

function writeEvent(res: ServerResponse, type: string, object: unknown): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
