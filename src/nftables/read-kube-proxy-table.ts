/** IO edge of nftables mode: detects and reads `table ip|ip6 kube-proxy` with `nft -j`, bounded in time and size. */
import type { IpFamily } from '../iptables/types.js';
import type { ServiceModel } from '../model/types.js';
import type { CommandRunner } from '../source/run-command.js';
import { formatCommand } from '../source/save-command.js';
import { isSaveError, SaveError } from '../source/save-error.js';
import { kubeProxyTableCommand } from './commands.js';
import { parseKubeProxyTable } from './parse-kube-proxy-table.js';

export interface ReadKubeProxyTableOptions {
  readonly run: CommandRunner;
  readonly family: IpFamily;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly signal?: AbortSignal;
}

/**
 * The family's kube-proxy nftables model, or null when the table does not exist (kube-proxy is not in
 * nftables mode for this family). Other failures throw the runner's SaveError.
 */
export async function readKubeProxyTable(options: ReadKubeProxyTableOptions): Promise<ServiceModel | null> {
  return (await readKubeProxyTableWithStats(options))?.model ?? null;
}

/** What one listing read and cost. */
export interface KubeProxyTableRead {
  readonly model: ServiceModel;
  readonly outputBytes: number;
  readonly durationSeconds: number;
  /** The child's CPU seconds; null when unknown. */
  readonly cpuSeconds: number | null;
}

/** `readKubeProxyTable` with the listing's size and cost (the sampler's adaptive interval uses them). */
export async function readKubeProxyTableWithStats(options: ReadKubeProxyTableOptions): Promise<KubeProxyTableRead | null> {
  const chunks: string[] = [];
  let result;
  try {
    result = await options.run({
      command: kubeProxyTableCommand(options.family),
      timeoutMs: options.timeoutMs,
      maxOutputBytes: options.maxOutputBytes,
      onStdout: (chunk) => chunks.push(chunk),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    // nft says "Error: No such file or directory" (exit 1) for a table that does not exist.
    if (isSaveError(error, 'EXIT') && /No such file or directory/i.test(error.context.stderrTail ?? '')) return null;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(chunks.join('')) as unknown;
  } catch (error) {
    throw new SaveError('PARSE', `output is not JSON: ${String(error)}`, {
      command: formatCommand(kubeProxyTableCommand(options.family)),
      outputBytes: result.outputBytes,
      durationSeconds: result.durationSeconds,
    });
  }
  return {
    model: parseKubeProxyTable(json, options.family),
    outputBytes: result.outputBytes,
    durationSeconds: result.durationSeconds,
    cpuSeconds: result.cpuSeconds,
  };
}
