/** Picks legacy or nft exactly like kube-proxy's image does (kubernetes-sigs/iptables-wrappers), using only `*-save`. */
import type { BackendChoice } from '../config.js';
import type { IpFamily } from '../iptables/types.js';
import { probe, type ProbeOptions, type ProbeResult } from './probe.js';
import type { CommandRunner } from './run-command.js';
import { hintProbeCommand, type Backend } from './save-command.js';

export interface BackendDetection {
  readonly backend: Backend;
  /** Why: which probe matched, or that none did (the nft default), or the flag. */
  readonly reason: string;
  readonly probes: readonly ProbeResult[];
}

export interface DetectBackendOptions extends Partial<ProbeOptions> {
  /** `--iptables.backend`: anything but 'auto' skips detection. */
  readonly choice?: BackendChoice;
}

/**
 * Chains kubelet (1.17+) creates in the mangle table of the backend it uses; kube-proxy's image looks for
 * them as chain declarations. Same pattern as iptables-wrappers pkg/xtables/detect.go:
 * `(?m)^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)`.
 */
const KUBELET_CHAIN = /^:(?:KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)(?:\s|$)/;

/**
 * The probe order of kubernetes-sigs/iptables-wrappers (DetectMode in pkg/xtables/detect.go; the v2
 * shell wrapper did the same): nft first with `-t mangle`, IPv4 then IPv6; then legacy over all
 * tables (never `-t mangle` on legacy: it would create the table); nft when nothing matches.
 * Failed probes count as "not found", as upstream ignores errors.
 */
const PROBES: ReadonlyArray<{ readonly family: IpFamily; readonly backend: Backend }> = [
  { family: 'ipv4', backend: 'nft' },
  { family: 'ipv6', backend: 'nft' },
  { family: 'ipv4', backend: 'legacy' },
  { family: 'ipv6', backend: 'legacy' },
];

export async function detectBackend(run: CommandRunner, options: DetectBackendOptions = {}): Promise<BackendDetection> {
  if (options.choice === 'nft' || options.choice === 'legacy') {
    return { backend: options.choice, reason: `--iptables.backend=${options.choice}`, probes: [] };
  }
  const probeOptions: ProbeOptions = {
    timeoutMs: options.timeoutMs ?? 30_000,
    maxOutputBytes: options.maxOutputBytes ?? 512 * 1024 * 1024,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const probes: ProbeResult[] = [];
  for (const { family, backend } of PROBES) {
    const result = await probe(run, hintProbeCommand(family, backend), (line) => KUBELET_CHAIN.test(line), probeOptions);
    probes.push(result);
    if (result.matched) return { backend, reason: `${result.command} shows kubelet's KUBE-IPTABLES-HINT/KUBE-KUBELET-CANARY chain`, probes };
  }
  return { backend: 'nft', reason: 'no backend shows kubelet chains: defaulting to nft like iptables-wrappers', probes };
}
