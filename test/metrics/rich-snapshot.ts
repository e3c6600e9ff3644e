/** Test helper: one snapshot that makes every metric family appear (golden, drift and promtool tests share it). */
import type { Snapshot } from '../../src/snapshot.js';
import { buildSnapshot, familySample } from './snapshot-builder.js';

export const RICH_PAGE_OPTIONS = {
  windowSeconds: 300,
  version: '0.1.0',
  revision: 'abc1234',
  nodejsVersion: 'v20.19.0',
} as const;

export function richSnapshot(): Snapshot {
  return buildSnapshot({
    lastSuccessTimestamp: 1_700_000_123.5,
    timestamp: 1_700_000_124,
    sampleDurationSeconds: 0.42,
    sampleIntervalSeconds: 15,
    families: [
      familySample('ipv4', { backend: 'nft', outputBytes: 123_456, durationSeconds: 0.3, proxyMode: 'iptables' }),
      familySample('ipv6', { backend: 'nft', ok: false, error: 'exit 1', outputBytes: 0, durationSeconds: 0.12 }),
    ],
    errorsTotal: { save: 2, parse: 0, model: 0, analysis: 0, render: 0 },
    resetsTotal: 3,
    skippedTotal: { 'not-iptables': 4, 'lossy-rule': 1 },
    samplesTotal: 42,
    readsTotal: { ipv4: { parsed: 3, refreshed: 38, reparsed: 1 } },
    kube: {
      enabled: true,
      synced: true,
      lastSyncTimestamp: 1_700_000_100,
      watchErrorsTotal: 1,
      enrichment: {
        endpointInfo: [
          { namespace: 'shop', service: 'frontend', port: 'http', endpoint: '10.244.1.5:8080', pod: 'frontend-7d9f-x2k', podNode: 'node-b', zone: 'eu-1c', ready: true, serving: true, terminating: false },
          { namespace: 'shop', service: 'frontend', port: 'http', endpoint: '10.244.2.9:8080', pod: 'frontend-7d9f-q8z', podNode: 'node-c', zone: 'eu-1a', ready: false, serving: true, terminating: true },
        ],
        drift: [{ ladderKey: 'ipv4/KUBE-SVC-FRONTENDHTTPAAAA', missing: ['10.244.4.1:8080'], stale: ['10.244.2.9:8080'], certain: true }],
      },
    },
    // conntrack view: accounting on; a heavy endpoint carries most bytes over few connections.
    conntrack: {
      timestamp: 1_700_000_124,
      ok: true,
      error: null,
      accounting: true,
      entriesScanned: 120_000,
      entriesMatched: 9,
      truncated: false,
      durationSeconds: 0.35,
      servicePorts: [
        {
          labels: { namespace: 'shop', service: 'frontend', port: 'http', protocol: 'tcp', ipFamily: 'ipv4' },
          expectedRatio: 1 / 3,
          endpoints: [
            { endpoint: '10.244.1.5:8080', established: 3, all: 4, original: { packets: 9000, bytes: 12_000_000 }, reply: { packets: 4000, bytes: 230_000 }, newFlowsTotal: null },
            { endpoint: '10.244.2.9:8080', established: 3, all: 3, original: { packets: 900, bytes: 1_200_000 }, reply: { packets: 400, bytes: 23_000 }, newFlowsTotal: null },
            { endpoint: '10.244.3.4:8080', established: 2, all: 2, original: { packets: 0, bytes: 0 }, reply: { packets: 0, bytes: 0 }, newFlowsTotal: null },
          ],
          activeSkewRatio: 4 / 9 / (1 / 3),
          bytesSkewRatio: 12_230_000 / 13_453_000 / (1 / 3),
        },
      ],
    },
    ladders: [
      // Busy, even, large enough for a p-value.
      {
        name: { namespace: 'shop', service: 'frontend', port: 'http' },
        chain: 'KUBE-SVC-FRONTENDHTTPAAAA',
        clusterIP: '10.96.12.7',
        endpoints: [
          { endpoint: '10.244.1.5:8080', total: 1510, window: 100 },
          { endpoint: '10.244.2.9:8080', total: 1490, window: 98 },
          { endpoint: '10.244.3.4:8080', total: 1500, window: 102 },
        ],
        window: { chiSquare: 0.08, pValue: 0.9608 },
        resets: 2,
      },
      // Session affinity, local policy, IPv6, unnamed port; too few connections for a p-value.
      {
        name: { namespace: 'shop', service: 'cart', port: '' },
        ipFamily: 'ipv6',
        policy: 'local',
        chain: 'KUBE-SVL-CARTAAAAAAAAAAAA',
        clusterIP: 'fd00:10:96::1a',
        affinity: true,
        endpoints: [
          { endpoint: '[fd00:10:244::5]:9000', total: 12, affinity: 9, window: 3 },
          { endpoint: '[fd00:10:244::6]:9000', total: 2, affinity: 0, window: 1 },
        ],
        resets: 1,
      },
      // UDP with a membership change in the window (statistics withheld) and non-uniform rules.
      {
        name: { namespace: 'kube-system', service: 'kube-dns', port: 'dns' },
        protocol: 'udp',
        chain: 'KUBE-SVC-TCOU7JCQXEZGVUNU',
        endpoints: [
          { endpoint: '10.244.0.2:53', total: 800, window: 60, probability: 0.7 },
          { endpoint: '10.244.0.3:53', total: 200, window: 40 },
        ],
        window: { membershipChanged: true },
      },
      // A service name with a quote, a backslash and a newline, as an unusual comment could yield.
      {
        name: { namespace: 'odd', service: 'we"ird\\name\nx', port: 'p' },
        chain: 'KUBE-SVC-ODDAAAAAAAAAAAAA',
        endpoints: [{ endpoint: '10.244.9.9:80', total: 0, window: 0 }],
      },
      // Two comment-less ladders nobody could name: the second is withheld as a duplicate.
      {
        name: null,
        protocol: null,
        chain: 'KUBE-SVC-UNKNOWNAAAAAAAAA',
        clusterIP: null,
        endpoints: [{ endpoint: null, total: 5 }, { endpoint: null, total: 6 }],
      },
      {
        name: null,
        protocol: null,
        chain: 'KUBE-SVC-UNKNOWNBBBBBBBBB',
        clusterIP: null,
        endpoints: [{ endpoint: '10.244.7.7:80', total: 1 }],
      },
    ],
  });
}
