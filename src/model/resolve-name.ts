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
  const candidates: PrintedServicePortName[] = [];
  for (const comment of comments) {
    if (comment === null) continue;
    const parsed = servicePortNameInComment(comment);
    if (parsed !== null && !candidates.some((c) => c.text === parsed.text)) candidates.push(parsed);
  }
  const first = candidates[0];
  if (first === undefined) return { name: null, text: null, protocol, verified: false };
  if (suffix.length === CHAIN_SUFFIX_LENGTH) {
    for (const candidate of candidates) {
      if (protocol !== null) {
        if (servicePortChainSuffix(candidate.text, protocol) === suffix) return { name: candidate.name, text: candidate.text, protocol, verified: true };
        continue;
      }
      for (const p of PROTOCOLS) {
        if (servicePortChainSuffix(candidate.text, p) === suffix) return { name: candidate.name, text: candidate.text, protocol: p, verified: true };
      }
    }
  }
  return { name: first.name, text: first.text, protocol, verified: false };
}
