/** The only conntrack command the exporter runs: a read-only listing of one family's table (allowed in source/save-command.ts). */
import type { IpFamily } from '../iptables/types.js';
import type { SaveCommand } from '../source/save-command.js';

/** `conntrack -L [-f ipv6] -o extended,id`: without `-f`, conntrack lists IPv4 only. */
export function conntrackListCommand(family: IpFamily): SaveCommand {
  return { file: 'conntrack', args: family === 'ipv6' ? ['-L', '-f', 'ipv6', '-o', 'extended,id'] : ['-L', '-o', 'extended,id'] };
}

/** Where the kernel says whether it counts packets and bytes per flow (per network namespace). */
export const CONNTRACK_ACCT_PATH = '/proc/sys/net/netfilter/nf_conntrack_acct';
