/** The lab scenario of the nftables-mode tests: three pods, an even Service and one whose vmap is deliberately skewed. */
import type { Scenario } from '../../../src/lab/scenario.js';
import type { NftServiceSpec } from './render-nft.js';

export const PODS = { 'web-1': '10.244.1.31', 'web-2': '10.244.1.32', 'web-3': '10.244.2.33' } as const;
export const EP = (pod: keyof typeof PODS): string => `${PODS[pod]}:8080`;

/** The lab starts one identity server per pod on every target port of its scenario. */
export const NFT_SCENARIO: Scenario = {
  name: 'nftables-mode',
  podCIDR: { ipv4: '10.244.0.0/16', ipv6: 'fd00:10:244::/64' },
  pods: Object.entries(PODS).map(([name, ipv4]) => ({ name, ipv4, local: true })),
  services: [
    { namespace: 'shop', name: 'even', ipFamily: 'ipv4', clusterIP: '10.96.30.1', ports: [{ name: 'http', protocol: 'tcp', port: 80, targetPort: 8080 }], endpoints: ['web-1', 'web-2', 'web-3'] },
    { namespace: 'shop', name: 'skewed', ipFamily: 'ipv4', clusterIP: '10.96.30.2', ports: [{ name: 'http', protocol: 'tcp', port: 80, targetPort: 8080 }], endpoints: ['web-1', 'web-2'] },
  ],
};

export const NFT_SERVICES: NftServiceSpec[] = [
  { namespace: 'shop', name: 'even', port: 'http', protocol: 'tcp', clusterIP: '10.96.30.1', servicePort: 80, nodePort: 30090, endpoints: [EP('web-1'), EP('web-2'), EP('web-3')] },
  // A deliberately skewed vmap: web-1 sits in two of the three slots (2/3 instead of 1/2).
  { namespace: 'shop', name: 'skewed', port: 'http', protocol: 'tcp', clusterIP: '10.96.30.2', servicePort: 80, endpoints: [EP('web-1'), EP('web-2')], slots: [0, 1, 0] },
];

/** The documented sampling error of nftables-mode new-connection counts in this lab (docs/conntrack.md): lower bound, at most 3% + 3 missed per Service. */
export function allowedMisses(n: number): number {
  return Math.ceil(0.03 * n) + 3;
}

/**
 * Connections driven to the skewed Service (web-1 gets 2/3 of them, 1/2 expected). Its checks put the
 * line halfway, at a 7/12 share (a skew ratio of 7/6): with 1,200 draws the share's standard deviation
 * is 0.0136, so the line is 6 of them below 2/3 (with every allowed miss on web-1, still 4) and a
 * uniform split is as far above it. With 300 draws it was 2.5 deviations from a line at 0.6: ~1 run in
 * 100 failed (CI did, at exactly 180 of 300).
 */
export const SKEWED_CONNECTIONS = 1200;
/** Half-way between the skewed share (2/3) and the uniform one (1/2). */
export const SKEWED_SHARE_LINE = 7 / 12;
