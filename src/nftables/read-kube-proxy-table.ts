/** IO edge of nftables mode: detects and reads `table ip|ip6 kube-proxy` with `nft -j`, bounded in time and size. */
import type { IpFamily } from '../iptables/types.js';
import type { ServiceModel } from '../model/types.js';
import type { CommandRunner } from '../source/run-command.js';
import { isSaveError } from '../source/save-error.js';
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
  const chunks: string[] = [];
  try {
    await options.run({
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
  return parseKubeProxyTable(JSON.parse(chunks.join('')) as unknown, options.family);
}
