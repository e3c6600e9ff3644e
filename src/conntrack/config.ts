/** Configuration of the conntrack view (`--conntrack.*` flags, src/cli/flags-conntrack.ts). */

/** Which kube-proxy mode's rules the exporter reads (`--proxy.mode`). */
export type ProxyMode = 'iptables' | 'nftables';
/** `--proxy.mode`: auto detects (nftables when table ip/ip6 kube-proxy exists and iptables has no KUBE-SERVICES). */
export type ProxyModeChoice = 'auto' | ProxyMode;

export interface ConntrackConfig {
  /** `--conntrack.enabled` (default false): scan conntrack after each sample. */
  readonly enabled: boolean;
  /** `--conntrack.interval`: minimum seconds between scan starts (a scan runs after a sample once this has passed). */
  readonly intervalSeconds: number;
  /** `--conntrack.timeout`: kill a `conntrack -L` that runs longer (seconds). */
  readonly timeoutSeconds: number;
  /** `--conntrack.max-entries`: stop reading after this many entries per scan (all families). */
  readonly maxEntries: number;
  /**
   * `--proxy.mode` (default auto). In nftables mode conntrack is scanned at every sample to count new
   * connections (timeout and max-entries above apply), whether or not the view is enabled. Absent =
   * iptables (configs built without the CLI).
   */
  readonly proxyMode?: ProxyModeChoice;
}

export const DEFAULT_CONNTRACK_CONFIG: ConntrackConfig = { enabled: false, intervalSeconds: 10, timeoutSeconds: 10, maxEntries: 1_000_000, proxyMode: 'auto' };
