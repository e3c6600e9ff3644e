/** The only nft command the exporter runs: a read-only JSON listing of kube-proxy's table (allowed in source/save-command.ts). */
import type { IpFamily } from '../iptables/types.js';
import type { SaveCommand } from '../source/save-command.js';

/** `nft -j list table ip|ip6 kube-proxy`. */
export function kubeProxyTableCommand(family: IpFamily): SaveCommand {
  return { file: 'nft', args: ['-j', 'list', 'table', family === 'ipv6' ? 'ip6' : 'ip', 'kube-proxy'] };
}
