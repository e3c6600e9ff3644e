import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExporterConfig } from '../../src/config.js';
import { METRIC_FAMILIES } from '../../src/metrics/families/index.js';
import type { MetricFamily } from '../../src/metrics/family.js';
import { openHoldings } from '../../src/held-while-running.js';
import { silentLogger } from '../../src/logger-types.js';
import { runExporter, type ExporterHandle } from '../../src/run-exporter.js';
import { createCommandRunner } from '../../src/source/run-command.js';
import { IPV4_DUMP } from '../source/dump-texts.js';
import { createShimDir, type ShimDir } from '../support/shims/shim-dir.js';

function config(overrides: { file?: string | null; families?: ExporterConfig['iptables']['families'] } = {}): ExporterConfig {
  return {
    web: { listenAddress: '127.0.0.1:0', telemetryPath: '/metrics' },
    sample: { intervalSeconds: 3600, timeoutSeconds: 10, maxOutputBytes: 1 << 20, maxAgeSeconds: 7200, maxCpu: 0.1 },
    windowSeconds: 300,
    iptables: { backend: 'nft', families: overrides.families ?? ['ipv4'] },
    source: { file: overrides.file ?? null },
    metrics: { includeNamespaces: null, excludeNamespaces: null, includeServices: null, excludeServices: null },
    log: { level: 'info', format: 'logfmt' },
  };
}

let shims: ShimDir;
let handle: ExporterHandle | null = null;
beforeEach(() => {
  shims = createShimDir();
});
afterEach(async () => {
  await handle?.close();
  handle = null;
  shims.remove();
});

async function waitForReady(base: string): Promise<void> {
  // Polls readiness; bounded by the test timeout, no timing assertion.
  while ((await fetch(`${base}/-/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 20));
}

const deps = { logger: silentLogger, metricsPage: { registry: new Registry(), nodejsVersion: 'v20.0.0' } };

describe('runExporter', () => {
  it('live node through shims: sample → metrics page → HTTP, then close()', async () => {
    const run = createCommandRunner({ env: shims.env({ 'iptables-nft-save': `dump:${shims.fixture('v4.txt', IPV4_DUMP)}` }) });
    const holdings = openHoldings();
    handle = await runExporter(config(), { ...deps, run });
    // Its sampler, page and source are held from the heap while it runs (held-while-running.ts).
    expect(openHoldings()).toBe(holdings + 1);
    const base = `http://127.0.0.1:${handle.address.port}`;
    await waitForReady(base);

    const page = await (await fetch(`${base}/metrics`)).text();
    expect(page).toMatch(/^kube_balance_up 1$/m);
    expect(page).toMatch(/kube_balance_endpoint_connections_total\{[^}]*endpoint="10\.244\.1\.2:8080"[^}]*\} 30$/m);
    expect(shims.calls()).toEqual(['iptables-nft-save -c -t nat']);

    await handle.close();
    await expect(fetch(`${base}/-/healthy`)).rejects.toThrow();
    expect(openHoldings()).toBe(holdings);
    handle = null;
  });

  it('serves kube_balance_up 0 and 503 on /-/ready while iptables-save fails', async () => {
    const run = createCommandRunner({ env: shims.env({ default: 'fail:1:Permission denied (you must be root)' }) });
    handle = await runExporter(config(), { ...deps, run });
    const base = `http://127.0.0.1:${handle.address.port}`;
    const sampler = handle.sampler;
    while (sampler.snapshot.samplesTotal === 0) await new Promise((r) => setTimeout(r, 20));
    expect((await fetch(`${base}/-/ready`)).status).toBe(503);
    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
    const page = await (await fetch(`${base}/metrics`)).text();
    expect(page).toMatch(/^kube_balance_up 0$/m);
    expect(page).toMatch(/^kube_balance_sample_errors_total\{stage="save"\} 1$/m);
  });

  it('--source.file reads a saved dump', async () => {
    handle = await runExporter(config({ file: shims.fixture('dump.txt', IPV4_DUMP), families: 'auto' }), deps);
    const base = `http://127.0.0.1:${handle.address.port}`;
    await waitForReady(base);
    const page = await (await fetch(`${base}/metrics`)).text();
    expect(page).toMatch(/kube_balance_endpoint_connections_total\{[^}]*endpoint="10\.244\.2\.3:8080"[^}]*\} 10$/m);
    expect(shims.calls()).toEqual([]);
  });

  it('counts a failed page render under stage render on the next page; ready only once a page with data is served', async () => {
    const broken: MetricFamily = { name: 'kube_balance_broken', type: 'gauge', help: 'always throws', labels: [], collect: () => { throw new Error('boom'); } };
    const file = shims.fixture('dump.txt', IPV4_DUMP);
    handle = await runExporter(config({ file, families: 'auto' }), { ...deps, metricsPage: { ...deps.metricsPage, families: [broken, ...METRIC_FAMILIES] } });
    const base = `http://127.0.0.1:${handle.address.port}`;
    await waitForReady(base);
    // Ready means the page already shows the sample.
    const first = await (await fetch(`${base}/metrics`)).text();
    expect(first).toMatch(/kube_balance_endpoint_connections_total\{[^}]*endpoint="10\.244\.2\.3:8080"[^}]*\} 10$/m);
    expect(first).not.toContain('kube_balance_broken');
    await handle.sampler.sampleNow();
    await handle.pageRendered();
    const next = await (await fetch(`${base}/metrics`)).text();
    expect(next).toMatch(/^kube_balance_sample_errors_total\{stage="render"\} [1-9]\d*$/m);
  });

  it('aborting the signal closes it; close() is idempotent', async () => {
    const controller = new AbortController();
    const run = createCommandRunner({ env: shims.env({ default: 'hang' }) });
    handle = await runExporter(config(), { ...deps, run, signal: controller.signal });
    controller.abort();
    await handle.close();
    await handle.close();
    expect(handle.sampler.snapshot.samplesTotal).toBe(0);
    handle = null;
  });

  it('an address in use fails start-up with a clear error', async () => {
    const run = createCommandRunner({ env: shims.env({ default: `dump:${shims.fixture('v4.txt', IPV4_DUMP)}` }) });
    handle = await runExporter(config(), { ...deps, run });
    const taken = `127.0.0.1:${handle.address.port}`;
    const second = { ...config(), web: { listenAddress: taken, telemetryPath: '/metrics' } };
    await expect(runExporter(second, { ...deps, run })).rejects.toThrow(/address already in use/);
  });
});
