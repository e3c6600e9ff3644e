/** What one KUBE-SEP chain says about its endpoint: DNAT target, hairpin source, comment, protocol. */
import type { Chain, Rule } from '../iptables/types.js';
import { endpointInComment } from './service-port-name.js';

export interface EndpointChainInfo {
  /** `--to-destination` of the first DNAT rule that iptables-save printed faithfully. */
  readonly dnat: string | null;
  /**
   * Host of the hairpin rule `-s IP/32 -j KUBE-MARK-MASQ` (kube-proxy writes it before the DNAT). Null
   * when the chain has a `dnat`: the model reads it only when there is none (resolveEndpoint), and
   * otherwise it would be 200k strings a parsed read of a large cluster need not hold.
   */
  readonly hairpinIP: string | null;
  /** First comment in the chain: `<svc>` (absent in large-cluster mode). */
  readonly comment: string | null;
  readonly protocol: string | null;
}

const EMPTY: EndpointChainInfo = { dnat: null, hairpinIP: null, comment: null, protocol: null };

/** `10.1.2.3/32` → `10.1.2.3`, `fd00::1/128` → `fd00::1`; restore input prints no prefix at all. */
export function hostAddress(address: string): string | null {
  const slash = address.indexOf('/');
  if (slash < 0) return address;
  const bits = address.slice(slash + 1);
  return bits === '32' || bits === '128' ? address.slice(0, slash) : null;
}

/** Reads a SEP chain once. A chain that is declared but empty (real dump 01) or absent gives all nulls. */
export function readEndpointChain(chain: Chain | undefined): EndpointChainInfo {
  if (chain === undefined || chain.rules.length === 0) return EMPTY;
  const info: MutableEndpointChainInfo = { dnat: null, hairpinIP: null, comment: null, protocol: null };
  for (const rule of chain.rules) foldEndpointRule(info, rule, sameText, sameText);
  return info;
}

/** An EndpointChainInfo while its chain's rules are folded into it. */
export type MutableEndpointChainInfo = { -readonly [K in keyof EndpointChainInfo]: EndpointChainInfo[K] };

const sameText = (text: string): string => text;

/**
 * One rule of a SEP chain, in rule order, into `info`: readEndpointChain's walk, and the collector's
 * (endpoint-chain-collector.ts) as rules stream. The first comment, DNAT target and protocol win; the
 * hairpin address is dropped as soon as a DNAT target is known. `intern` and `internProtocol` give the
 * strings kept (the collector keeps one of each repeated comment and protocol).
 */
export function foldEndpointRule(
  info: MutableEndpointChainInfo,
  rule: Rule,
  intern: (text: string) => string,
  internProtocol: (text: string) => string,
): void {
  if (info.comment === null && rule.comment !== null) info.comment = intern(rule.comment);
  if (rule.target === 'DNAT') {
    if (info.protocol === null && rule.protocol !== null) info.protocol = internProtocol(rule.protocol);
    // A lossy DNAT (`DNAT [unsupported revision]`, garbled address) is not trusted: fall back below.
    if (info.dnat === null && !rule.lossy && rule.dnatDestination !== null) {
      info.dnat = rule.dnatDestination;
      info.hairpinIP = null;
    }
  } else if (rule.target === 'KUBE-MARK-MASQ' && info.hairpinIP === null && info.dnat === null && rule.source !== null && !rule.source.negated) {
    info.hairpinIP = hostAddress(rule.source.address);
  }
}

function portOf(endpoint: string): string | null {
  const colon = endpoint.lastIndexOf(':');
  if (colon < 0 || (endpoint.startsWith('[') && endpoint.charCodeAt(colon - 1) !== 93)) return null;
  const port = endpoint.slice(colon + 1);
  return port.length > 0 ? port : null;
}

/**
 * The endpoint address, best source first: the DNAT target; else the hairpin IP with the port from
 * the ladder rule's comment (`<svc> -> ip:port`) (bare IP when there is no such comment, as in
 * large-cluster mode); else that comment alone; else null.
 */
export function resolveEndpoint(info: EndpointChainInfo, ladderComment: string | null): string | null {
  if (info.dnat !== null) return info.dnat;
  // Parsed only here: most endpoints have a DNAT target, and 200k comment slices cost GC time.
  const commentEndpoint = ladderComment === null ? null : endpointInComment(ladderComment);
  if (info.hairpinIP !== null) {
    const port = commentEndpoint === null ? null : portOf(commentEndpoint);
    if (port === null) return info.hairpinIP;
    return info.hairpinIP.includes(':') ? `[${info.hairpinIP}]:${port}` : `${info.hairpinIP}:${port}`;
  }
  return commentEndpoint;
}
