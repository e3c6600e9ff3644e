/** `--iptables.families=auto`: IPv4 always, IPv6 when ip6tables holds kube-proxy's nat rules. */
import type { IpFamily } from '../iptables/types.js';
import { probe, type ProbeOptions, type ProbeResult } from './probe.js';
import type { CommandRunner } from './run-command.js';
import { familyProbeCommand, type Backend } from './save-command.js';

const KUBE_SERVICES_CHAIN = /^:KUBE-SERVICES(?:\s|$)/;

/** True when `ip6tables-<backend>-save` shows a KUBE-SERVICES chain in the nat table. */
export async function probeFamily(run: CommandRunner, family: IpFamily, backend: Backend, options: ProbeOptions): Promise<ProbeResult> {
  return probe(run, familyProbeCommand(family, backend), (line, table) => table === 'nat' && KUBE_SERVICES_CHAIN.test(line), options);
}

/** Families to sample in auto mode: ipv4, plus ipv6 when its probe finds kube-proxy's rules. */
export async function detectFamilies(run: CommandRunner, backend: Backend, options: ProbeOptions): Promise<{ families: IpFamily[]; probe: ProbeResult }> {
  const result = await probeFamily(run, 'ipv6', backend, options);
  return { families: result.matched ? ['ipv4', 'ipv6'] : ['ipv4'], probe: result };
}
