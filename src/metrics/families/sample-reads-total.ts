/** kube_balance_sample_reads_total{ip_family,read}: how each family's iptables output was read (the counter refresh at work). */
import type { MetricFamily } from '../family.js';

const KINDS = ['parsed', 'refreshed', 'reparsed'] as const;

export const sampleReadsTotal: MetricFamily = {
  name: 'kube_balance_sample_reads_total',
  type: 'counter',
  help:
    'Successful reads of iptables-save output per IP family since the exporter started, by how they were read: ' +
    'parsed (parsed and modelled), refreshed (rules unchanged since the last parse, the order of KUBE-SERVICES and ' +
    'KUBE-NODEPORTS aside, which kube-proxy changes at every sync; only the counters read into its ' +
    'model; --sample.refresh-counters), reparsed (a counters-only read found changed rules, so the output was read ' +
    'again and parsed).',
  labels: ['ip_family', 'read'],
  collect(snapshot, emit) {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const kinds = snapshot.readsTotal?.[family];
      if (kinds === undefined) continue;
      for (const kind of KINDS) emit([family, kind], kinds[kind]);
    }
  },
};
