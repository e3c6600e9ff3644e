/** The exporter's validated configuration: built by cli/flags.ts from argv + KUBE_BALANCE_* env, read everywhere else. */
import type { ConntrackConfig } from './conntrack/config.js';
import type { IpFamily } from './iptables/types.js';

export type BackendChoice = 'auto' | 'nft' | 'legacy';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'logfmt' | 'json';

export interface ExporterConfig {
  readonly web: {
    /** host:port; host may be empty (all interfaces) or a bracketed IPv6 address. */
    readonly listenAddress: string;
    readonly telemetryPath: string;
    /** --web.config.file: exporter-toolkit web config (TLS, basic auth, headers); null/absent = plain HTTP, no auth. */
    readonly configFile?: string | null;
    /** --web.max-requests: concurrent requests beyond this get 503 (0 = no limit); absent = 40. */
    readonly maxRequests?: number;
  };
  readonly sample: {
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly maxOutputBytes: number;
    readonly maxAgeSeconds: number;
    /** Fraction of one core iptables-save may use; the interval grows to keep under it. */
    readonly maxCpu: number;
    /** --sample.refresh-counters: re-read only counters while the rules are unchanged (CounterRefresher); absent = true. */
    readonly refreshCounters?: boolean;
  };
  readonly windowSeconds: number;
  readonly iptables: {
    readonly backend: BackendChoice;
    /** 'auto' or an explicit list. */
    readonly families: 'auto' | readonly IpFamily[];
  };
  readonly source: {
    /** Read a saved dump instead of running iptables-save; '-' is stdin. null = live node. */
    readonly file: string | null;
  };
  readonly metrics: {
    /** Anchored regexes; null = no filter. Applied to per-endpoint series. */
    readonly includeNamespaces: RegExp | null;
    readonly excludeNamespaces: RegExp | null;
    /** Matched against `namespace/service`. */
    readonly includeServices: RegExp | null;
    readonly excludeServices: RegExp | null;
    /** Series budget: endpoints with per-endpoint series at most (0 = no limit); absent = no limit. */
    readonly maxEndpoints?: number;
  };
  readonly log: {
    readonly level: LogLevel;
    readonly format: LogFormat;
  };
  /**
   * Kubernetes API enrichment (issue 4). Parsed and validated by the CLI; optional so configs built
   * in tests need not mention it. Absent means the CLI did not build this config.
   */
  readonly kube?: KubeConfig;
  /** The conntrack view (issue 9); absent = off. */
  readonly conntrack?: ConntrackConfig;
}

export interface KubeConfig {
  /** `--kube.enabled` (default true); enrichment still turns itself off when no cluster config exists. */
  readonly enabled: boolean;
  /** `--kubeconfig`; null = in-cluster config in a pod, otherwise the client default (KUBECONFIG, ~/.kube/config). */
  readonly kubeconfig: string | null;
  /** `--kube.node-name` / NODE_NAME: this node's name, for Local policy and topology hints. */
  readonly nodeName: string | null;
}
