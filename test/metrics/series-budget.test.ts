import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsPage } from '../../src/metrics/metrics-page.js';
import { buildSnapshot } from './snapshot-builder.js';

const ladder = (service: string, endpoints: number, window: number) => ({
  name: { namespace: 'shop', service, port: 'http' },
  endpoints: Array.from({ length: endpoints }, (_, i) => ({ endpoint: `10.244.${service.length}.${i}:80`, total: window * 10, window })),
});

async function page(maxEndpoints: number): Promise<string> {
  const p = createMetricsPage({ windowSeconds: 300, version: 'v', revision: 'r', registry: new Registry(), maxEndpoints });
  // busy: 3 endpoints × 100 new connections each; calm: 4 × 10; idle: 2 × 0.
  p.update(buildSnapshot({ ladders: [ladder('busy', 3, 100), ladder('calm', 4, 10), ladder('idle', 2, 0)] }));
  return p.render();
}

const endpointSeries = (text: string, service: string): number =>
  text.split('\n').filter((l) => l.startsWith('kube_balance_endpoint_connections_total{') && l.includes(`service="${service}"`)).length;

describe('--metrics.max-endpoints (series budget)', () => {
  it('drops per-endpoint detail of the least active ladders first, whole ladders at a time, and counts it', async () => {
    const text = await page(7);
    expect([endpointSeries(text, 'busy'), endpointSeries(text, 'calm'), endpointSeries(text, 'idle')]).toEqual([3, 4, 0]);
    expect(text).toContain('kube_balance_endpoints_withheld{reason="budget"} 2');
    // Service-level series stay for every ladder.
    expect(text).toMatch(/kube_balance_service_connections_total\{namespace="shop",service="idle"/);
  });

  it('keeps a smaller, more active ladder when a larger one does not fit', async () => {
    const text = await page(6);
    expect([endpointSeries(text, 'busy'), endpointSeries(text, 'calm'), endpointSeries(text, 'idle')]).toEqual([3, 0, 2]);
    expect(text).toContain('kube_balance_endpoints_withheld{reason="budget"} 4');
  });

  it('0 means no limit', async () => {
    const text = await page(0);
    expect([endpointSeries(text, 'busy'), endpointSeries(text, 'calm'), endpointSeries(text, 'idle')]).toEqual([3, 4, 2]);
    expect(text).toContain('kube_balance_endpoints_withheld{reason="budget"} 0');
  });
});
