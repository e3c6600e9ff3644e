/** Configuration of the conntrack view (`--conntrack.*` flags, src/cli/flags-conntrack.ts). */
export interface ConntrackConfig {
  /** `--conntrack.enabled` (default false): scan conntrack after each sample. */
  readonly enabled: boolean;
  /** `--conntrack.interval`: minimum seconds between scan starts (a scan runs after a sample once this has passed). */
  readonly intervalSeconds: number;
  /** `--conntrack.timeout`: kill a `conntrack -L` that runs longer (seconds). */
  readonly timeoutSeconds: number;
  /** `--conntrack.max-entries`: stop reading after this many entries per scan (all families). */
  readonly maxEntries: number;
}

export const DEFAULT_CONNTRACK_CONFIG: ConntrackConfig = { enabled: false, intervalSeconds: 10, timeoutSeconds: 10, maxEntries: 1_000_000 };
