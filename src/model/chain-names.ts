/** kube-proxy's iptables chain names: the hash suffixes of KUBE-SVC/SVL/EXT/FW/XLB and KUBE-SEP chains. */
import { createHash } from 'node:crypto';

/** Go's base32.StdEncoding alphabet (RFC 4648, upper case). */
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Length of the hash part of every kube-proxy per-service chain name. */
export const CHAIN_SUFFIX_LENGTH = 16;

/** Chain-name prefixes kube-proxy gives a service port's chains (all share one suffix). */
export const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-XLB-'] as const;
/** The KUBE-SEP chains': one per endpoint of a service port. */
export const ENDPOINT_CHAIN_PREFIX = 'KUBE-SEP-';
export type ServiceChainPrefix = (typeof SERVICE_CHAIN_PREFIXES)[number];

/**
 * First 16 characters of base32(sha256(text)). 16 base32 characters are exactly the first 80 bits
 * (10 bytes) of the digest, so only those are encoded; Go's padding never reaches them.
 */
function hash16(text: string): string {
  const digest = createHash('sha256').update(text, 'utf8').digest();
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < 10; i++) {
    buffer = (buffer << 8) | (digest[i] as number);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/**
 * Every sample verifies each service port's name against its chain suffix (resolveName), and the kube
 * join hashes every Service port: the same few thousand inputs, sample after sample. A sha256 through
 * node:crypto costs microseconds; a lookup does not. Pure, so a cache is safe; bounded (cleared when
 * full, ~100 bytes an entry) because the inputs come from rule comments.
 */
const SUFFIX_CACHE_LIMIT = 1 << 17;
const suffixCache = new Map<string, string>();

/**
 * The suffix shared by a service port's KUBE-SVC/SVL/EXT/FW/XLB chains. kube-proxy's
 * `portProtoHash(servicePortName, protocol)` in pkg/proxy/iptables/proxier.go hashes the
 * ServicePortName exactly as it prints it in comments (`ns/svc:port`, `ns/svc` for an unnamed port
 * since v1.19, `ns/svc:` before) followed by the lower-case protocol, with no separator.
 */
export function servicePortChainSuffix(servicePortName: string, protocol: string): string {
  const input = servicePortName + protocol.toLowerCase();
  let suffix = suffixCache.get(input);
  if (suffix === undefined) {
    if (suffixCache.size >= SUFFIX_CACHE_LIMIT) suffixCache.clear();
    suffix = hash16(input);
    suffixCache.set(input, suffix);
  }
  return suffix;
}

/** `KUBE-SVC-…` (or another prefix) for a service port, as `servicePortChainName` and friends in proxier.go. */
export function serviceChainName(prefix: ServiceChainPrefix, servicePortName: string, protocol: string): string {
  return prefix + servicePortChainSuffix(servicePortName, protocol);
}

/**
 * `KUBE-SEP-…` for one endpoint of a service port: proxier.go `servicePortEndpointChainName` hashes
 * servicePortName + protocol + endpoint, where endpoint is `ip:port` or `[v6]:port`.
 */
export function endpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return ENDPOINT_CHAIN_PREFIX + hash16(servicePortName + protocol.toLowerCase() + endpoint);
}

/**
 * The service-port prefix of a chain name (with a non-empty suffix after it); null for any other
 * chain. Allocates nothing: the model asks this of every chain and jump target.
 */
export function serviceChainPrefix(chain: string): ServiceChainPrefix | null {
  // Dispatch on the 6th character to avoid five startsWith calls per rule in hot loops.
  if (!chain.startsWith('KUBE-')) return null;
  let prefix: ServiceChainPrefix;
  switch (chain.charCodeAt(5)) {
    case 83: // S: SVC / SVL
      if (chain.startsWith('KUBE-SVC-')) prefix = 'KUBE-SVC-';
      else if (chain.startsWith('KUBE-SVL-')) prefix = 'KUBE-SVL-';
      else return null;
      break;
    case 69: // E
      if (!chain.startsWith('KUBE-EXT-')) return null;
      prefix = 'KUBE-EXT-';
      break;
    case 70: // F
      if (!chain.startsWith('KUBE-FW-')) return null;
      prefix = 'KUBE-FW-';
      break;
    case 88: // X
      if (!chain.startsWith('KUBE-XLB-')) return null;
      prefix = 'KUBE-XLB-';
      break;
    default:
      return null;
  }
  return chain.length > prefix.length ? prefix : null;
}

/** Splits a service-port chain name into prefix and suffix; null for any other chain. */
export function splitServiceChain(chain: string): { prefix: ServiceChainPrefix; suffix: string } | null {
  const prefix = serviceChainPrefix(chain);
  return prefix === null ? null : { prefix, suffix: chain.slice(prefix.length) };
}

export function isEndpointChain(chain: string): boolean {
  return chain.startsWith(ENDPOINT_CHAIN_PREFIX);
}
