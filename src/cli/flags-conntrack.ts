/** The conntrack-view flags (--conntrack.*), registered in flags.ts's EXPORTER_FLAGS with one spread. */
import type { ConntrackConfig, ProxyModeChoice } from '../conntrack/config.js';
import type { FlagDef, FlagValue, FlagValues } from './parse-args.js';

function positiveInteger(value: FlagValue): string | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? null : 'must be a whole number greater than zero';
}

function positive(value: FlagValue): string | null {
  return typeof value === 'number' && value > 0 ? null : 'must be greater than zero';
}

export const CONNTRACK_FLAGS: readonly FlagDef[] = [
  {
    name: 'conntrack.enabled',
    type: 'bool',
    default: 'false',
    help: 'After each sample, read the conntrack table (conntrack -L, read-only) for active connections, bytes and packets per endpoint.',
  },
  {
    name: 'conntrack.interval',
    type: 'duration',
    default: '10s',
    placeholder: 'DURATION',
    help: 'Minimum time between conntrack scans of the --conntrack.enabled view (each runs after a sample); longer = cheaper. In nftables mode conntrack is scanned at every sample instead.',
    validate: positive,
  },
  {
    name: 'conntrack.timeout',
    type: 'duration',
    default: '10s',
    placeholder: 'DURATION',
    help: 'Kill a conntrack listing that runs longer than this.',
    validate: positive,
  },
  {
    name: 'conntrack.max-entries',
    type: 'number',
    default: '1000000',
    placeholder: 'N',
    help: 'Stop a conntrack scan after this many entries (all flows, not only Service traffic); the scan is then marked truncated.',
    validate: positiveInteger,
  },
  {
    name: 'proxy.mode',
    type: 'enum',
    default: 'auto',
    values: ['auto', 'iptables', 'nftables'],
    placeholder: 'MODE',
    help: 'kube-proxy mode to read: auto (iptables while its nat table has KUBE-SERVICES, else nftables when table ip/ip6 kube-proxy exists), iptables, or nftables (vmap from nft -j list, new connections sampled from conntrack at every sample).',
  },
];

/** The `conntrack` config these flags set. */
export function conntrackFlagsConfig(values: FlagValues): ConntrackConfig {
  return {
    enabled: values.bool('conntrack.enabled'),
    intervalSeconds: values.number('conntrack.interval'),
    timeoutSeconds: values.number('conntrack.timeout'),
    maxEntries: values.number('conntrack.max-entries'),
    proxyMode: (values.string('proxy.mode') ?? 'auto') as ProxyModeChoice,
  };
}
