/**
 * Parser for one line of `conntrack -L -o extended,id`:
 *
 *   ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.5 dst=10.96.0.10 sport=41234 dport=80 \
 *     packets=3 bytes=5164 src=10.244.1.2 dst=10.0.0.5 sport=8080 dport=41234 packets=2 bytes=112 \
 *     [ASSURED] mark=0 use=1 id=1740135090
 *
 * The first tuple is the original direction (what the client sent: a Service IP:port), the second the
 * reply direction (who answers: the endpoint, after DNAT). `packets=`/`bytes=` appear only with
 * `net.netfilter.nf_conntrack_acct=1`. UDP has no state word. Built on indexOf rather than a split,
 * and the original destination is checked before anything else is read, because a node's table can
 * hold hundreds of thousands of flows and only the few to Service frontends matter.
 */
import type { IpFamily } from '../iptables/types.js';
import type { ConntrackFlow, DirectionCounters } from './types.js';

/** Decides from the original destination alone whether a line is worth parsing further. */
export type DestinationFilter = (protocol: string, dst: string, dport: number) => boolean;

/** Value of a `key=value` token starting at `start` (just after the `=`), up to the next space. */
function valueAt(line: string, start: number): string {
  const end = line.indexOf(' ', start);
  return end < 0 ? line.slice(start) : line.slice(start, end);
}

/** Non-negative integer at `start`; NaN when no digit is there. */
function uintAt(line: string, start: number): number {
  let value = 0;
  let i = start;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    value = value * 10 + c;
  }
  return i === start ? Number.NaN : value;
}

/** `packets=` and `bytes=` of one direction, searched in [from, to); null when the kernel printed none. */
function countersIn(line: string, from: number, to: number): DirectionCounters | null {
  const p = line.indexOf(' packets=', from);
  if (p < 0 || p >= to) return null;
  const b = line.indexOf(' bytes=', p);
  if (b < 0 || b >= to) return null;
  const packets = uintAt(line, p + 9);
  const bytes = uintAt(line, b + 7);
  return Number.isNaN(packets) || Number.isNaN(bytes) ? null : { packets, bytes };
}

/**
 * Parses one line. Returns null for lines that are not a flow with ports (ICMP, GRE, the summary
 * line, garbage), and for flows `accept` rejects, after reading only the protocol and the original
 * destination.
 */
export function parseConntrackLine(line: string, accept?: DestinationFilter): ConntrackFlow | null {
  const familyEnd = line.indexOf(' ');
  if (familyEnd < 0) return null;
  const family = line.slice(0, familyEnd);
  if (family !== 'ipv4' && family !== 'ipv6') return null;
  const ipFamily: IpFamily = family;

  // Head: family, l3 number, protocol name, protocol number, timeout, [state].
  let p = familyEnd;
  while (line.charCodeAt(p) === 32) p++;
  p = line.indexOf(' ', p); // skip the l3 protocol number
  if (p < 0) return null;
  while (line.charCodeAt(p) === 32) p++;
  const protocolEnd = line.indexOf(' ', p);
  if (protocolEnd < 0) return null;
  const protocol = line.slice(p, protocolEnd);

  const srcAt = line.indexOf(' src=', protocolEnd);
  if (srcAt < 0) return null;
  const dstAt = line.indexOf(' dst=', srcAt + 5);
  if (dstAt < 0) return null;
  const replyAt = line.indexOf(' src=', dstAt + 5);
  if (replyAt < 0) return null;
  const dportAt = line.indexOf(' dport=', dstAt);
  if (dportAt < 0 || dportAt > replyAt) return null; // no ports: ICMP and friends
  const origDst = valueAt(line, dstAt + 5);
  const origDport = uintAt(line, dportAt + 7);
  if (Number.isNaN(origDport)) return null;
  if (accept !== undefined && !accept(protocol, origDst, origDport)) return null;

  const sportAt = line.indexOf(' sport=', dstAt);
  const replySportAt = line.indexOf(' sport=', replyAt);
  const replyDportAt = line.indexOf(' dport=', replyAt);
  if (sportAt < 0 || sportAt > replyAt || replySportAt < 0 || replyDportAt < 0) return null;
  const replySport = uintAt(line, replySportAt + 7);
  const origSport = uintAt(line, sportAt + 7);
  if (Number.isNaN(replySport) || Number.isNaN(origSport)) return null;

  // Head tokens between the protocol name and the first tuple: number, timeout, then the state if any.
  const head = line.slice(protocolEnd, srcAt).trim().split(/ +/);
  const stateToken = head[2];
  const state = stateToken !== undefined && /^[A-Z_]+$/.test(stateToken) ? stateToken : null;

  const idAt = line.lastIndexOf(' id=');
  const id = idAt > replyDportAt ? valueAt(line, idAt + 4) : null;

  return {
    ipFamily,
    protocol,
    state,
    origSrc: valueAt(line, srcAt + 5),
    origDst,
    origSport,
    origDport,
    replySrc: valueAt(line, replyAt + 5),
    replySport,
    assured: line.includes('[ASSURED]', replyAt),
    unreplied: line.includes('[UNREPLIED]', dportAt),
    id,
    original: countersIn(line, dportAt, replyAt),
    reply: countersIn(line, replyDportAt, line.length),
  };
}

/** `ip:port` or `[v6]:port`: how kube-proxy (and the model) writes an endpoint. */
export function endpointOf(ipFamily: IpFamily, address: string, port: number): string {
  return ipFamily === 'ipv6' ? `[${address.toLowerCase()}]:${port}` : `${address}:${port}`;
}
