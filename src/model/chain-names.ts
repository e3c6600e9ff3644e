/** kube-proxy's iptables chain names: the hash suffixes of KUBE-SVC/SVL/EXT/FW/XLB and KUBE-SEP chains. */
import { createHash } from 'node:crypto';

/** Go's base32.StdEncoding alphabet (RFC 4648, upper case). */
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Length of the hash part of every kube-proxy per-service chain name. */
export const CHAIN_SUFFIX_LENGTH = 16;

/** Chain-name prefixes kube-proxy gives a service port's chains (all share one suffix). */
export const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-XLB-'] as const;
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
 * The suffix shared by a service port's KUBE-SVC/SVL/EXT/FW/XLB chains. kube-proxy's
 * `portProtoHash(servicePortName, protocol)` in pkg/proxy/iptables/proxier.go hashes the
 * ServicePortName exactly as it prints it in comments (`ns/svc:port`, `ns/svc` for an unnamed port
 * since v1.19, `ns/svc:` before) followed by the lower-case protocol, with no separator.
 */
export function servicePortChainSuffix(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol.toLowerCase());
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
  return 'KUBE-SEP-' + hash16(servicePortName + protocol.toLowerCase() + endpoint);
}

/** Splits a service-port chain name into prefix and suffix; null for any other chain. */
export function splitServiceChain(chain: string): { prefix: ServiceChainPrefix; suffix: string } | null {
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
  const suffix = chain.slice(prefix.length);
  return suffix.length === 0 ? null : { prefix, suffix };
}

export function isEndpointChain(chain: string): boolean {
  return chain.startsWith('KUBE-SEP-');
}
