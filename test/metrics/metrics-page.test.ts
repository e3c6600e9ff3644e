import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsPage, type MetricsPageOptions } from '../../src/metrics/metrics-page.js';
import { MetricsRenderError } from '../../src/metrics/metrics-render-error.js';
import { METRIC_FAMILIES } from '../../src/metrics/families/index.js';
import type { Snapshot } from '../../src/snapshot.js';
import { parseExposition, samplesOf } from './parse-exposition.js';
import { buildSnapshot, type LadderSpec } from './snapshot-builder.js';

const BASE: MetricsPageOptions = { windowSeconds: 300, version: '1.2.3', revision: 'deadbee', nodejsVersion: 'v20.0.0' };

async function renderPage(snapshot: Snapshot, options: Partial<MetricsPageOptions> = {}): Promise<string> {
  const page = createMetricsPage({ ...BASE, registry: new Registry(), ...options });
  page.update(snapshot);
  return page.render();
}

function ladder(namespace: string, service: string, extra: Partial<LadderSpec> = {}): LadderSpec {
  return {
    name: { namespace, service, port: 'http' },
    endpoints: [
      { endpoint: '10.0.0.1:80', total: 10, window: 4 },
      { endpoint: '10.0.0.2:80', total: 20, window: 6 },
    ],
    ...extra,
  };
}

const LADDER_PREFIX = /^kube_balance_(service|endpoint)_/;

describe('metrics page', () => {
  it('escapes backslash, double quote and newline in label values', async () => {
    const text = await renderPage(buildSnapshot({ ladders: [ladder('odd', 'a"b\\c\nd')] }));
    expect(text).toContain(
      'kube_balance_service_connections_total{namespace="odd",service="a\\"b\\\\c\\nd",port="http",protocol="tcp",ip_family="ipv4",policy="cluster"} 30\n',
    );
    // Every sample is still on one line, and the value round-trips through a parser.
    const services = samplesOf(parseExposition(text), 'kube_balance_endpoint_connections_total').map(
      (s) => s.labels.service,
    );
    expect(services).toEqual(['a"b\\c\nd', 'a"b\\c\nd']);
  });

  it('renders the ladder and endpoint values of the snapshot', async () => {
    const page = parseExposition(await renderPage(buildSnapshot({ ladders: [ladder('shop', 'web')] })));
    const endpoints = samplesOf(page, 'kube_balance_endpoint_connections_total');
    expect(endpoints.map((s) => [s.labels.endpoint, s.value])).toEqual([
      ['10.0.0.1:80', 10],
      ['10.0.0.2:80', 20],
    ]);
    expect(samplesOf(page, 'kube_balance_endpoint_observed_ratio').map((s) => s.value)).toEqual([0.4, 0.6]);
    expect(samplesOf(page, 'kube_balance_endpoint_expected_ratio').map((s) => s.value)).toEqual([0.5, 0.5]);
    expect(samplesOf(page, 'kube_balance_service_endpoints')[0]?.value).toBe(2);
    expect(samplesOf(page, 'kube_balance_service_window_connections')[0]?.value).toBe(10);
    expect(samplesOf(page, 'kube_balance_service_skew_ratio')[0]?.value).toBeCloseTo(1.2, 12);
    expect(samplesOf(page, 'kube_balance_service_info')[0]?.labels).toEqual({
      namespace: 'shop',
      service: 'web',
      port: 'http',
      protocol: 'tcp',
      ip_family: 'ipv4',
      policy: 'cluster',
      cluster_ip: '10.96.0.10',
      session_affinity: 'None',
      chain: expect.stringMatching(/^KUBE-SVC-[A-Z2-7]{16}$/),
    });
  });

  it('withholds every ladder and endpoint series when the snapshot is stale, but keeps self metrics', async () => {
    const text = await renderPage(
      buildSnapshot({ stale: true, up: false, ladders: [ladder('shop', 'web'), ladder('shop', 'api')] }),
    );
    const page = parseExposition(text);
    expect([...page.keys()].filter((n) => LADDER_PREFIX.test(n))).toEqual([]);
    expect(samplesOf(page, 'kube_balance_up')[0]?.value).toBe(0);
    expect(samplesOf(page, 'kube_balance_data_stale')[0]?.value).toBe(1);
    expect(samplesOf(page, 'kube_balance_ladders_withheld').find((s) => s.labels.reason === 'stale')?.value).toBe(2);
    expect(page.has('kube_balance_build_info')).toBe(true);
  });

  it('withholds ladder series when there is no analysis yet', async () => {
    const page = parseExposition(await renderPage(buildSnapshot({ ladders: null, lastSuccessTimestamp: null })));
    expect([...page.keys()].filter((n) => LADDER_PREFIX.test(n))).toEqual([]);
    expect(page.has('kube_balance_last_sample_timestamp_seconds')).toBe(false);
    expect(samplesOf(page, 'kube_balance_samples_total')[0]?.value).toBe(1);
  });

  it('applies namespace/service filters to per-endpoint families only', async () => {
    const snapshot = buildSnapshot({
      ladders: [ladder('shop', 'web'), ladder('shop', 'admin'), ladder('kube-system', 'dns')],
    });
    const page = parseExposition(
      await renderPage(snapshot, { includeNamespaces: /^(?:shop)$/, excludeServices: /^(?:shop\/admin)$/ }),
    );
    const endpointServices = new Set(samplesOf(page, 'kube_balance_endpoint_connections_total').map((s) => s.labels.service));
    expect(endpointServices).toEqual(new Set(['web']));
    for (const family of ['kube_balance_endpoint_expected_ratio', 'kube_balance_endpoint_observed_ratio']) {
      expect(new Set(samplesOf(page, family).map((s) => s.labels.service))).toEqual(new Set(['web']));
    }
    const serviceLevel = samplesOf(page, 'kube_balance_service_connections_total').map((s) => s.labels.service);
    expect(serviceLevel.sort()).toEqual(['admin', 'dns', 'web']);
    expect(samplesOf(page, 'kube_balance_endpoints_withheld').find((s) => s.labels.reason === 'filter')?.value).toBe(4);
  });

  it('emits the affinity family only for ladders with ClientIP session affinity', async () => {
    const snapshot = buildSnapshot({
      ladders: [
        ladder('shop', 'sticky', {
          affinity: true,
          endpoints: [
            { endpoint: '10.0.1.1:80', total: 10, affinity: 7 },
            { endpoint: '10.0.1.2:80', total: 5, affinity: 0 },
          ],
        }),
        ladder('shop', 'plain'),
      ],
    });
    const page = parseExposition(await renderPage(snapshot));
    const affinity = samplesOf(page, 'kube_balance_endpoint_affinity_connections_total');
    expect(affinity.map((s) => [s.labels.service, s.labels.endpoint, s.value])).toEqual([
      ['sticky', '10.0.1.1:80', 7],
      ['sticky', '10.0.1.2:80', 0],
    ]);
    const info = samplesOf(page, 'kube_balance_service_info');
    expect(info.map((s) => [s.labels.service, s.labels.session_affinity])).toEqual([
      ['plain', 'None'],
      ['sticky', 'ClientIP'],
    ]);
  });

  it('leaves out p-value and chi-square where analysis withheld them, and observed ratios without traffic', async () => {
    const snapshot = buildSnapshot({
      ladders: [
        ladder('shop', 'tested', { window: { chiSquare: 0.4, pValue: 0.527 } }),
        ladder('shop', 'small'), // analysis gave null: sample too small
        ladder('shop', 'idle', { endpoints: [{ endpoint: '10.0.2.1:80', total: 3, window: 0 }] }),
      ],
    });
    const page = parseExposition(await renderPage(snapshot));
    expect(samplesOf(page, 'kube_balance_service_uniformity_p_value').map((s) => [s.labels.service, s.value])).toEqual([
      ['tested', 0.527],
    ]);
    expect(samplesOf(page, 'kube_balance_service_chi_square').map((s) => s.labels.service)).toEqual(['tested']);
    const observed = samplesOf(page, 'kube_balance_endpoint_observed_ratio').map((s) => s.labels.service);
    expect(observed).not.toContain('idle');
    expect(samplesOf(page, 'kube_balance_service_window_connections').find((s) => s.labels.service === 'idle')?.value).toBe(0);
    expect(samplesOf(page, 'kube_balance_service_skew_ratio').map((s) => s.labels.service)).not.toContain('idle');
  });

  it('drops the series of endpoints that vanished from the next snapshot', async () => {
    const page = createMetricsPage({ ...BASE, registry: new Registry() });
    page.update(buildSnapshot({ ladders: [ladder('shop', 'web')] }));
    const before = samplesOf(parseExposition(await page.render()), 'kube_balance_endpoint_connections_total');
    expect(before.map((s) => s.labels.endpoint)).toEqual(['10.0.0.1:80', '10.0.0.2:80']);
    page.update(buildSnapshot({ ladders: [ladder('shop', 'web', { endpoints: [{ endpoint: '10.0.0.2:80', total: 25 }] })] }));
    const text = await page.render();
    expect(text).not.toContain('10.0.0.1:80');
    expect(samplesOf(parseExposition(text), 'kube_balance_endpoint_connections_total').map((s) => s.value)).toEqual([25]);
  });

  it('orders ladders by their labels and endpoints by rule order, whatever the snapshot order', async () => {
    const endpoints = [
      { endpoint: '10.0.0.9:80', total: 1 },
      { endpoint: '10.0.0.1:80', total: 1 },
    ];
    const a = buildSnapshot({ ladders: [ladder('b', 'x', { endpoints }), ladder('a', 'y', { endpoints }), ladder('a', 'x', { endpoints })] });
    const b = buildSnapshot({ ladders: [ladder('a', 'x', { endpoints }), ladder('b', 'x', { endpoints }), ladder('a', 'y', { endpoints })] });
    const textA = await renderPage(a);
    expect(await renderPage(b)).toBe(textA);
    const order = samplesOf(parseExposition(textA), 'kube_balance_endpoint_connections_total').map(
      (s) => `${s.labels.namespace}/${s.labels.service} ${s.labels.endpoint}`,
    );
    expect(order).toEqual([
      'a/x 10.0.0.9:80',
      'a/x 10.0.0.1:80',
      'a/y 10.0.0.9:80',
      'a/y 10.0.0.1:80',
      'b/x 10.0.0.9:80',
      'b/x 10.0.0.1:80',
    ]);
  });

  it('never emits duplicate series for ladders or endpoints whose names are unknown', async () => {
    const unknown = (chain: string): LadderSpec => ({
      name: null,
      protocol: null,
      clusterIP: null,
      chain,
      endpoints: [{ endpoint: null, total: 1 }, { endpoint: null, total: 2 }],
    });
    const page = parseExposition(
      await renderPage(buildSnapshot({ ladders: [unknown('KUBE-SVC-BBBB'), unknown('KUBE-SVC-AAAA')] })),
    );
    expect(samplesOf(page, 'kube_balance_service_connections_total')).toHaveLength(1);
    // The first by chain name wins, and its first endpoint.
    expect(samplesOf(page, 'kube_balance_endpoint_connections_total').map((s) => [s.labels.endpoint, s.value])).toEqual([
      ['', 1],
    ]);
    expect(samplesOf(page, 'kube_balance_service_info').map((s) => s.labels.chain)).toEqual(['KUBE-SVC-AAAA', 'KUBE-SVC-BBBB']);
    const ladders = samplesOf(page, 'kube_balance_ladders_withheld');
    expect(ladders.find((s) => s.labels.reason === 'duplicate-labels')?.value).toBe(1);
    const endpoints = samplesOf(page, 'kube_balance_endpoints_withheld');
    expect(endpoints.find((s) => s.labels.reason === 'duplicate-labels')?.value).toBe(1);
  });

  it('publishes build info, window and every error stage and skip reason', async () => {
    const page = parseExposition(
      await renderPage(
        buildSnapshot({ errorsTotal: { save: 3, parse: 0, model: 0, analysis: 1, render: 0 }, skippedTotal: { 'malformed-rule': 7 } }),
      ),
    );
    expect(samplesOf(page, 'kube_balance_build_info')).toEqual([
      { name: 'kube_balance_build_info', labels: { version: '1.2.3', revision: 'deadbee', nodejs_version: 'v20.0.0' }, value: 1 },
    ]);
    expect(samplesOf(page, 'kube_balance_window_seconds')[0]?.value).toBe(300);
    expect(Object.fromEntries(samplesOf(page, 'kube_balance_sample_errors_total').map((s) => [s.labels.stage, s.value]))).toEqual({
      save: 3,
      parse: 0,
      model: 0,
      analysis: 1,
      render: 0,
    });
    const skipped = Object.fromEntries(samplesOf(page, 'kube_balance_rules_skipped_total').map((s) => [s.labels.reason, s.value]));
    expect(skipped).toEqual({
      'not-iptables': 0,
      'malformed-rule': 7,
      'malformed-chain': 0,
      'lossy-rule': 0,
      'unsupported-command': 0,
    });
  });

  it('serves the page rendered at update() followed by the registry, with the Prometheus content type', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'scrape_probe', help: 'changes between scrapes', registers: [registry] });
    const page = createMetricsPage({ ...BASE, registry });
    expect(page.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await page.render()).not.toContain('kube_balance_');

    page.update(buildSnapshot({ ladders: [ladder('shop', 'web')] }));
    gauge.set(1);
    const first = await page.render();
    gauge.set(2);
    const second = await page.render();
    expect(first.indexOf('kube_balance_up')).toBeLessThan(first.indexOf('scrape_probe'));
    expect(first).toContain('scrape_probe 1\n');
    expect(second).toContain('scrape_probe 2\n');
    expect(second.slice(0, second.indexOf('# HELP scrape_probe'))).toBe(first.slice(0, first.indexOf('# HELP scrape_probe')));
  });

  it('by default adds process and Node.js metrics, without the gauges promtool rejects', async () => {
    const page = createMetricsPage(BASE);
    page.update(buildSnapshot());
    const families = parseExposition(await page.render());
    expect(families.has('process_resident_memory_bytes')).toBe(true);
    expect(families.has('nodejs_heap_size_used_bytes')).toBe(true);
    expect(families.has('nodejs_active_handles_total')).toBe(false);
  });

  it('keeps serving the other families when one throws, and reports it', async () => {
    const broken = { ...METRIC_FAMILIES[0]!, name: 'kube_balance_broken', collect: () => { throw new Error('boom'); } };
    const page = createMetricsPage({ ...BASE, registry: new Registry(), families: [broken, ...METRIC_FAMILIES] });
    let error: unknown;
    try {
      page.update(buildSnapshot({ ladders: [ladder('shop', 'web')] }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MetricsRenderError);
    expect((error as MetricsRenderError).code).toBe('METRICS_RENDER');
    expect((error as MetricsRenderError).families).toEqual(['kube_balance_broken']);
    expect(((error as MetricsRenderError).cause as Error).message).toBe('boom');
    const families = parseExposition(await page.render());
    expect(families.has('kube_balance_broken')).toBe(false);
    expect(samplesOf(families, 'kube_balance_service_connections_total')).toHaveLength(1);
  });
});
