/** The conntrack view: live flows whose original destination is a Service frontend, per service port and endpoint. */
import type { IpFamily } from '../iptables/types.js';

/** Packets and bytes of one direction of a flow (only with `net.netfilter.nf_conntrack_acct=1`). */
export interface DirectionCounters {
  readonly packets: number;
  readonly bytes: number;
}

/** One `conntrack -L -o extended,id` line, parsed. */
export interface ConntrackFlow {
  readonly ipFamily: IpFamily;
  /** Lower-case protocol name as conntrack prints it: tcp, udp, sctp, icmp, ... */
  readonly protocol: string;
  /** TCP/SCTP state (`ESTABLISHED`, `TIME_WAIT`, ...); null for protocols without one (udp). */
  readonly state: string | null;
  readonly origSrc: string;
  readonly origDst: string;
  readonly origSport: number;
  readonly origDport: number;
  /** The reply tuple's source: the endpoint a DNATed flow was sent to. */
  readonly replySrc: string;
  readonly replySport: number;
  /** `[ASSURED]`: conntrack saw traffic both ways (and, for TCP, the handshake completed). */
  readonly assured: boolean;
  /** `[UNREPLIED]`: no reply packet yet. */
  readonly unreplied: boolean;
  /** The kernel's flow id (`id=`); null when not printed. */
  readonly id: string | null;
  /** null when accounting is off (the kernel adds no counters), or for flows created before it was turned on. */
  readonly original: DirectionCounters | null;
  readonly reply: DirectionCounters | null;
}

/** What labels a service port's conntrack series carry (the ladder labels without `policy`). */
export interface ServicePortLabels {
  readonly namespace: string;
  readonly service: string;
  /** The service port's name; '' for an unnamed port. */
  readonly port: string;
  readonly protocol: string;
  readonly ipFamily: IpFamily;
}

export interface ConntrackEndpointStats {
  /** `ip:port` or `[v6]:port`, as in the rules. */
  readonly endpoint: string;
  /** Flows in the ESTABLISHED state (TCP, SCTP), or `[ASSURED]` flows for protocols without states (UDP). */
  readonly established: number;
  /** Every tracked flow to this endpoint, whatever its state (TIME_WAIT and UNREPLIED included). */
  readonly all: number;
  /** Summed over the current flows; null when accounting is off or no flow carried counters. */
  readonly original: DirectionCounters | null;
  readonly reply: DirectionCounters | null;
  /**
   * New flows counted from successive scans (flow ids not seen in the previous scan), cumulative
   * since the exporter started; null when new-flow counting is off.
   */
  readonly newFlowsTotal: number | null;
}

export interface ConntrackServicePortStats {
  readonly labels: ServicePortLabels;
  /** The uniform share 1/n over the endpoints the rules hold for this service port (all policies). */
  readonly expectedRatio: number;
  /** Every endpoint in the rules (with zeros when it has no flows), in rule order. */
  readonly endpoints: readonly ConntrackEndpointStats[];
  /** max over endpoints of (share of `all` flows) / expectedRatio; null without flows. */
  readonly activeSkewRatio: number | null;
  /** max over endpoints of (share of bytes, both directions) / expectedRatio; null without byte counters or bytes. */
  readonly bytesSkewRatio: number | null;
}

/** One conntrack scan, as the metrics page shows it. Immutable once built. */
export interface ConntrackSnapshot {
  /** Unix seconds the scan finished. */
  readonly timestamp: number;
  readonly ok: boolean;
  readonly error: string | null;
  /** `net.netfilter.nf_conntrack_acct`: true/false, null when it cannot be read (no nf_conntrack). */
  readonly accounting: boolean | null;
  /** Lines read from conntrack (all IP families). */
  readonly entriesScanned: number;
  /** Flows attributed to a service port and endpoint. */
  readonly entriesMatched: number;
  /** The scan stopped at `--conntrack.max-entries`: the numbers cover only part of the table. */
  readonly truncated: boolean;
  readonly durationSeconds: number;
  readonly servicePorts: readonly ConntrackServicePortStats[];
}
