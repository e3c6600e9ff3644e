/** Picks a service port's name from its candidate comments, checked against kube-proxy's chain-name hash. */
import { CHAIN_SUFFIX_LENGTH, servicePortChainSuffix } from './chain-names.js';
import { type PrintedServicePortName, servicePortNameInComment } from './service-port-name.js';
import type { ServicePortName } from './types.js';

const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;

export interface ResolvedName {
  readonly name: ServicePortName | null;
  /** The name exactly as kube-proxy printed it (`ns/svc:` keeps its colon); null with name. */
  readonly text: string | null;
  /** The protocol, derived from the hash when no rule had `-p`. */
  readonly protocol: string | null;
  /** The chain suffix matched `hash(name + protocol)`. */
  readonly verified: boolean;
}

/**
 * Candidates come in trust order (see NameSource). The first whose hash gives the chain suffix wins;
 * when none does (hand-made chain names, an unknown protocol that no candidate resolves), the first
 * candidate is used unverified. Hashing stops at the first match: usually the first candidate.
 */
export function resolveName(suffix: string, comments: readonly (string | null)[], protocol: string | null): ResolvedName {
  // Candidates are parsed one at a time: the first (the KUBE-SERVICES comment) nearly always verifies,
  // and the others' parses would be wasted on a large cluster.
  const verify = suffix.length === CHAIN_SUFFIX_LENGTH;
  let first: PrintedServicePortName | null = null;
  let seen: string[] | null = null;
  for (const comment of comments) {
    if (comment === null) continue;
    const candidate = servicePortNameInComment(comment);
    if (candidate === null) continue;
    if (first === null) {
      first = candidate;
      if (!verify) break;
    } else if (candidate.text === first.text || (seen?.includes(candidate.text) ?? false)) {
      continue;
    } else {
      (seen ??= []).push(candidate.text);
    }
    if (protocol !== null) {
      if (servicePortChainSuffix(candidate.text, protocol) === suffix) return { name: candidate.name, text: candidate.text, protocol, verified: true };
      continue;
    }
    for (const p of PROTOCOLS) {
      if (servicePortChainSuffix(candidate.text, p) === suffix) return { name: candidate.name, text: candidate.text, protocol: p, verified: true };
    }
  }
  if (first === null) return { name: null, text: null, protocol, verified: false };
  return { name: first.name, text: first.text, protocol, verified: false };
}
