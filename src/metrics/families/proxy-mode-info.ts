/** kube_balance_proxy_mode_info{mode}: whose rules the last sample read: kube-proxy's iptables nat table or its nftables table. */
import type { MetricFamily } from '../family.js';

export const proxyModeInfo: MetricFamily = {
  name: 'kube_balance_proxy_mode_info',
  type: 'gauge',
  help: 'kube-proxy mode whose rules the last sample read (--proxy.mode), value always 1: iptables (exact rule counters) or nftables (new connections sampled from conntrack).',
  labels: ['mode'],
  collect(snapshot, emit) {
    const modes = new Set(snapshot.families.map((f) => f.proxyMode ?? 'iptables'));
    for (const mode of modes) emit([mode], 1);
  },
};
