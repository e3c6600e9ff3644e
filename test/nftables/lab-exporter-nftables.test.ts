/**
 * The BUILT exporter (`npx tsc -p tsconfig.build.json` first) on a kube-proxy nftables-mode lab node:
 * the node namespace holds only kube-proxy's nftables table (no iptables KUBE-SERVICES), the exporter
 * runs there with default --proxy.mode=auto, real connections go through the vmaps, and /metrics
 * (scraped from inside the namespace) must show the same families and labels as in iptables mode, with
 * per-endpoint counts within the documented sampling error of the ground truth, and the skewed vmap
 * flagged both by its programmed split and by its observed p-value.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInNamespace } from '../../src/lab/command.js';
import { startExporter, type ExporterHandle } from '../../src/lab/exporter-process.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { driveTraffic } from '../../src/lab/traffic.js';
import { nextSamples as waitForSamples, select, sumBy, value, type MetricSample } from '../support/lab-exposition.js';
import { labAvailable } from '../support/lab-env.js';
import { allowedMisses, EP, NFT_SCENARIO, NFT_SERVICES, SKEWED_CONNECTIONS, SKEWED_SHARE_LINE } from './support/nft-lab-scenario.js';
import { renderKubeProxyNftables } from './support/render-nft.js';

const CLI = 'dist/cli.js';
const N = 300;

describe.skipIf(!labAvailable)('exporter end to end on a kube-proxy nftables-mode node', () => {
  let lab: Lab;
  let exporter: ExporterHandle;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p tsconfig.build.json\` before the lab end-to-end tests`);
    lab = await startLab({ scenario: NFT_SCENARIO, backend: 'nft' });
    // Only kube-proxy's nftables table in the node namespace: no iptables rules, as on an nftables-mode node.
    await runInNamespace(lab.nodeNamespace, 'nft', ['flush', 'ruleset']);
    await runInNamespace(lab.nodeNamespace, 'nft', ['-f', '-'], { input: renderKubeProxyNftables(NFT_SERVICES, NFT_SCENARIO.podCIDR.ipv4) });
    exporter = await startExporter(lab, {
      cliPath: CLI,
      args: ['--sample.interval=1s', '--window=120s', '--kube.enabled=false', '--conntrack.enabled', '--log.level=info'],
    });
  }, 60_000);

  afterAll(async () => {
    await exporter?.stop();
    await lab?.teardown();
  });

  const nextSamples = (n = 2): Promise<MetricSample[]> => waitForSamples(exporter, n);

  it('detects nftables mode and publishes the ladders with the iptables-mode label scheme', async () => {
    const samples = await nextSamples(1);
    expect(value(samples, 'kube_balance_up'), exporter.logs().slice(-2000)).toBe(1);
    expect(value(samples, 'kube_balance_proxy_mode_info', { mode: 'nftables' })).toBe(1);
    expect(select(samples, 'kube_balance_proxy_mode_info')).toHaveLength(1);
    expect(exporter.logs()).toMatch(/kube-proxy mode selected.*mode=nftables/);
    // No IPv6 table on this node: only IPv4 is sampled.
    expect(select(samples, 'kube_balance_save_success').map((s) => [s.labels, s.value])).toEqual([[{ ip_family: 'ipv4', backend: 'nft' }, 1]]);
    const info = select(samples, 'kube_balance_service_info', { service: 'skewed' });
    expect(info).toHaveLength(1);
    expect(info[0]?.labels).toMatchObject({ namespace: 'shop', service: 'skewed', port: 'http', protocol: 'tcp', ip_family: 'ipv4', policy: 'cluster', cluster_ip: '10.96.30.2' });
    expect(info[0]?.labels.chain).toMatch(/^service-[A-Z2-7]{8}-shop\/skewed\/tcp\/http$/);
    // Programmed split from the vmap: web-1 holds 2 of 3 slots against an expected 1/2.
    expect(value(samples, 'kube_balance_endpoint_programmed_ratio', { service: 'skewed', endpoint: EP('web-1') })).toBeCloseTo(2 / 3, 9);
    expect(value(samples, 'kube_balance_endpoint_expected_ratio', { service: 'skewed', endpoint: EP('web-1') })).toBeCloseTo(1 / 2, 9);
    expect(value(samples, 'kube_balance_service_programmed_deviation_ratio', { service: 'skewed' })).toBeCloseTo(1 / 6, 9);
    expect(value(samples, 'kube_balance_service_programmed_deviation_ratio', { service: 'even' })).toBeCloseTo(0, 9);
    // The first conntrack scan is a baseline: every endpoint is published, at 0.
    expect(Object.fromEntries(sumBy(samples, 'kube_balance_endpoint_connections_total', 'endpoint', { service: 'even' }))).toEqual({ [EP('web-1')]: 0, [EP('web-2')]: 0, [EP('web-3')]: 0 });
  });

  it('counts new connections per endpoint within the documented sampling error, and flags the skewed vmap', async () => {
    const truth = {
      even: await driveTraffic(lab, { service: 'shop/even', count: N }),
      skewed: await driveTraffic(lab, { service: 'shop/skewed', count: SKEWED_CONNECTIONS }),
    };
    const driven = { even: N, skewed: SKEWED_CONNECTIONS };
    for (const [service, t] of Object.entries(truth)) {
      expect(t.errors).toEqual([]);
      expect(t.total).toBe(driven[service as keyof typeof driven]);
    }
    const samples = await nextSamples();

    for (const [service, t] of Object.entries(truth)) {
      // Same family and labels as iptables mode, summed over policy like the iptables end-to-end test.
      const got = sumBy(samples, 'kube_balance_endpoint_connections_total', 'endpoint', { namespace: 'shop', service, port: 'http' });
      let missed = 0;
      for (const [endpoint, n] of t.counts) {
        const c = got.get(endpoint) ?? 0;
        // Sampled from conntrack: a lower bound, never above the truth.
        expect(c, `${service} ${endpoint}`).toBeLessThanOrEqual(n);
        missed += n - c;
      }
      expect(missed, `${service}: ${JSON.stringify(Object.fromEntries(got))} vs ${JSON.stringify(Object.fromEntries(t.counts))}`).toBeLessThanOrEqual(allowedMisses(driven[service as keyof typeof driven]));
      const total = value(samples, 'kube_balance_service_connections_total', { service, policy: 'cluster' });
      expect(total).toBe([...got.values()].reduce((a, b) => a + b, 0));
    }

    // The skewed vmap: 2/3 vs 1/2 over 1,200 connections is a chi-square of ~133 with 1 degree of
    // freedom; at the 7/12 line (SKEWED_CONNECTIONS) still ~33 (p < 1e-8).
    const p = value(samples, 'kube_balance_service_uniformity_p_value', { service: 'skewed', policy: 'cluster' });
    expect(p).not.toBeNull();
    expect(p as number).toBeLessThan(1e-4);
    expect(value(samples, 'kube_balance_service_skew_ratio', { service: 'skewed' }) as number).toBeGreaterThan(SKEWED_SHARE_LINE / (1 / 2));
    expect(value(samples, 'kube_balance_endpoint_observed_ratio', { service: 'skewed', endpoint: EP('web-1') }) as number).toBeGreaterThan(SKEWED_SHARE_LINE);
    // The even Service has a p-value too (not asserted large: uniform traffic is flagged 1 time in 100 at p ≤ 0.01).
    expect(value(samples, 'kube_balance_service_uniformity_p_value', { service: 'even' })).not.toBeNull();

    // --conntrack.enabled shows the same scan the counts came from (one listing per sample, not two).
    expect(value(samples, 'kube_balance_conntrack_scan_success')).toBe(1);
    const active = sumBy(samples, 'kube_balance_endpoint_active_connections', 'endpoint', { service: 'skewed', state: 'all' });
    expect([...active.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(SKEWED_CONNECTIONS - allowedMisses(SKEWED_CONNECTIONS));
  }, 120_000);

  it('keeps counting on later samples: counters are monotonic and follow new traffic', async () => {
    const before = sumBy(await nextSamples(1), 'kube_balance_endpoint_connections_total', 'endpoint', { service: 'even' });
    const more = await driveTraffic(lab, { service: 'shop/even', count: 60 });
    expect(more.errors).toEqual([]);
    const after = sumBy(await nextSamples(), 'kube_balance_endpoint_connections_total', 'endpoint', { service: 'even' });
    let missed = 0;
    for (const [endpoint, n] of more.counts) {
      const delta = (after.get(endpoint) ?? 0) - (before.get(endpoint) ?? 0);
      expect(delta, endpoint).toBeGreaterThanOrEqual(0);
      expect(delta, endpoint).toBeLessThanOrEqual(n);
      missed += n - delta;
    }
    expect(missed).toBeLessThanOrEqual(allowedMisses(60));
  }, 60_000);
});
