/** ExporterConfig literals for hardening tests: loopback, ephemeral port, long intervals unless asked. */
import type { ExporterConfig } from '../../../src/config.js';

export interface TestConfigOptions {
  readonly file?: string | null;
  readonly webConfigFile?: string | null;
  readonly maxRequests?: number;
  readonly intervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly maxOutputBytes?: number;
  readonly maxAgeSeconds?: number;
}

export function testConfig(options: TestConfigOptions = {}): ExporterConfig {
  return {
    web: {
      listenAddress: '127.0.0.1:0',
      telemetryPath: '/metrics',
      configFile: options.webConfigFile ?? null,
      ...(options.maxRequests !== undefined ? { maxRequests: options.maxRequests } : {}),
    },
    sample: {
      intervalSeconds: options.intervalSeconds ?? 3600,
      timeoutSeconds: options.timeoutSeconds ?? 10,
      maxOutputBytes: options.maxOutputBytes ?? 1 << 24,
      maxAgeSeconds: options.maxAgeSeconds ?? 7200,
      maxCpu: 1,
    },
    windowSeconds: 7200,
    iptables: { backend: 'nft', families: options.file ? 'auto' : ['ipv4'] },
    source: { file: options.file ?? null },
    metrics: { includeNamespaces: null, excludeNamespaces: null, includeServices: null, excludeServices: null },
    log: { level: 'debug', format: 'logfmt' },
    kube: { enabled: false, kubeconfig: null, nodeName: null },
  };
}

/** Polls `check` until it returns true; bounded by the test's timeout (no timing assertion). */
export async function eventually(check: () => boolean | Promise<boolean>, pauseMs = 25): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, pauseMs));
}
