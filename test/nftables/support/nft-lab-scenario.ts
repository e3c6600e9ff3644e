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
