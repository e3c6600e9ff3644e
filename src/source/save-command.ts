/** The only commands the exporter ever runs: read-only `ip[6]tables-{nft,legacy}-save` with fixed argument arrays. */
import type { IpFamily } from '../iptables/types.js';

export type Backend = 'nft' | 'legacy';

export interface SaveCommand {
  /** Binary name, looked up on PATH (no shell). */
  readonly file: string;
  readonly args: readonly string[];
}

function binary(family: IpFamily, backend: Backend): string {
  return `${family === 'ipv6' ? 'ip6tables' : 'iptables'}-${backend}-save`;
}

/** `<iptables|ip6tables>-<backend>-save -c -t nat`: the sample itself (counters, nat table only). */
export function natSaveCommand(family: IpFamily, backend: Backend): SaveCommand {
  return { file: binary(family, backend), args: ['-c', '-t', 'nat'] };
}

/**
 * The backend probe of kubernetes-sigs/iptables-wrappers: `-t mangle` on nft, but all tables on legacy,
 * because `-t mangle` would make the legacy kernel module create the table if it did not exist.
 */
export function hintProbeCommand(family: IpFamily, backend: Backend): SaveCommand {
  return { file: binary(family, backend), args: backend === 'nft' ? ['-t', 'mangle'] : [] };
}

/**
 * Does this family have kube-proxy nat rules? nft: `-t nat`. legacy: all tables, for the same reason as
 * above: on a single-stack node `ip6tables-legacy-save -t nat` would load ip6table_nat, create the table
 * and start IPv6 connection tracking.
 */
export function familyProbeCommand(family: IpFamily, backend: Backend): SaveCommand {
  return { file: binary(family, backend), args: backend === 'nft' ? ['-t', 'nat'] : [] };
}

const ALLOWED_FILE = /^ip6?tables-(?:nft|legacy)-save$/;
const ALLOWED_ARGS = new Set(['-c -t nat', '-t nat', '-t mangle', '']);

/**
 * Defence in depth for a process that runs as root: refuse anything but the read-only save commands
 * above, whatever a caller builds. Throws a plain Error (a programming bug, not a node fault).
 */
export function assertReadOnlySaveCommand(command: SaveCommand): void {
  if (isAllowedListing(command)) return;
  if (!ALLOWED_FILE.test(command.file) || !ALLOWED_ARGS.has(command.args.join(' '))) {
    throw new Error(`refusing to run ${formatCommand(command)}: only read-only ip[6]tables-{nft,legacy}-save, conntrack -L and nft list commands are allowed`);
  }
}

/**
 * The other read-only listings, as exact argument arrays: the conntrack table per family
 * (src/conntrack/commands.ts) and kube-proxy's nftables tables (src/nftables/commands.ts).
 */
const ALLOWED_LISTINGS: readonly (readonly string[])[] = [
  ['conntrack', '-L', '-o', 'extended,id'],
  ['conntrack', '-L', '-f', 'ipv6', '-o', 'extended,id'],
  ['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'],
  ['nft', '-j', 'list', 'table', 'ip6', 'kube-proxy'],
];

function isAllowedListing(command: SaveCommand): boolean {
  const argv = [command.file, ...command.args];
  return ALLOWED_LISTINGS.some((allowed) => allowed.length === argv.length && allowed.every((a, i) => a === argv[i]));
}

export function formatCommand(command: SaveCommand): string {
  return [command.file, ...command.args].join(' ');
}
