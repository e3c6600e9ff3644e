/** Streams conntrack lines into per service port × endpoint tallies, keeping nothing of flows that are not Service traffic. */
import { candidatesFor, type FrontendIndex, type TrackedServicePort } from './frontends.js';
import { endpointOf, parseConntrackLine, type DestinationFilter } from './parse-flow.js';
import type { ConntrackFlow } from './types.js';

/** Mutable sums for one endpoint of one service port during a scan. */
export interface EndpointTally {
  established: number;
  all: number;
  /** Flows that carried counters (accounting on when they were created). */
  counted: number;
  originalPackets: number;
  originalBytes: number;
  replyPackets: number;
  replyBytes: number;
}

export interface ScanOptions {
  /** Stop after this many lines (all families together): bounded work on huge tables. */
  readonly maxEntries: number;
  /** Keep each matched flow's identity, for counting new flows between scans (nftables mode). */
  readonly keepFlowKeys?: boolean;
}

/** Thrown from `push` when `maxEntries` lines have been read; the caller stops the listing. */
export class ScanLimitReached extends Error {
  readonly code = 'CONNTRACK_SCAN_LIMIT';
  constructor(readonly limit: number) {
    super(`stopped after ${limit} conntrack entries (--conntrack.max-entries)`);
  }
}

/** `${servicePortId}\u0000${endpoint}`: the key of a tally. */
export function tallyKey(servicePort: TrackedServicePort, endpoint: string): string {
  return `${servicePort.id}\u0000${endpoint}`;
}

function emptyTally(): EndpointTally {
  return { established: 0, all: 0, counted: 0, originalPackets: 0, originalBytes: 0, replyPackets: 0, replyBytes: 0 };
}

/** Whether a flow counts as an established connection: ESTABLISHED for TCP/SCTP, ASSURED for stateless protocols. */
export function isEstablished(flow: ConntrackFlow): boolean {
  return flow.state === null ? flow.assured : flow.state === 'ESTABLISHED';
}

/**
 * Feed it lines (`push`), possibly across several listings (one per IP family), then read the
 * tallies. A line is attributed when its original destination is a frontend of a service port and
 * its reply source is one of that service port's endpoints; anything else is only counted.
 */
export class ConntrackScanner {
  entriesScanned = 0;
  entriesMatched = 0;
  /** Flows to a frontend whose reply source is not an endpoint in the rules (not DNATed yet, or an endpoint that left). */
  entriesUnknownEndpoint = 0;
  /** Lines that are not flows with ports (ICMP, warnings): counted in entriesScanned, otherwise ignored. */
  readonly tallies = new Map<string, EndpointTally>();
  /** Matched flows' identities → tally key; filled only with `keepFlowKeys`. */
  readonly flowKeys = new Map<string, string>();
  private readonly accept: DestinationFilter;

  constructor(
    private readonly index: FrontendIndex,
    private readonly options: ScanOptions,
  ) {
    this.accept = (protocol, dst, dport) => candidatesFor(this.index, protocol, dst, dport).length > 0;
  }

  push(line: string): void {
    if (line.length === 0) return;
    if (this.entriesScanned >= this.options.maxEntries) throw new ScanLimitReached(this.options.maxEntries);
    this.entriesScanned++;
    const flow = parseConntrackLine(line, this.accept);
    if (flow === null) return;
    const endpoint = endpointOf(flow.ipFamily, flow.replySrc, flow.replySport);
    const servicePort = candidatesFor(this.index, flow.protocol, flow.origDst, flow.origDport).find((c) => c.endpointSet.has(endpoint));
    if (servicePort === undefined) {
      this.entriesUnknownEndpoint++;
      return;
    }
    this.entriesMatched++;
    const key = tallyKey(servicePort, endpoint);
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      tally = emptyTally();
      this.tallies.set(key, tally);
    }
    tally.all++;
    if (isEstablished(flow)) tally.established++;
    if (flow.original !== null && flow.reply !== null) {
      tally.counted++;
      tally.originalPackets += flow.original.packets;
      tally.originalBytes += flow.original.bytes;
      tally.replyPackets += flow.reply.packets;
      tally.replyBytes += flow.reply.bytes;
    }
    if (this.options.keepFlowKeys === true) this.flowKeys.set(flowKey(flow), key);
  }
}

/** A flow's identity across scans: the kernel id plus the original tuple (ids are recycled with the memory). */
export function flowKey(flow: ConntrackFlow): string {
  return `${flow.id ?? ''}|${flow.protocol}|${flow.origSrc}|${flow.origSport}|${flow.origDst}|${flow.origDport}`;
}
