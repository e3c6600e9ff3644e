/**
 * kube-proxy nftables-mode chain names (pkg/proxy/nftables/proxier.go, servicePortChainNameBase and
 * servicePortEndpointChainNameBase):
 *
 *   service-<H8>-<namespace>/<service>/<protocol>/<portName>      Cluster policy ("service-" prefix)
 *   local-<H8>-<namespace>/<service>/<protocol>/<portName>        Local policy
 *   external-<H8>-<namespace>/<service>/<protocol>/<portName>     NodePort / external / LB entry
 *   endpoint-<H8>-<namespace>/<service>/<protocol>/<portName>__<ip>/<port>   (IPv6 ':' written as '.')
 *
 * H8 = first 8 characters of base32(sha256(the rest)). Names longer than 240 characters are truncated
 * with "..." (never for service chains; theoretically for IPv6 endpoint chains).
 */
import { createHash } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** `<H8>-<name>`, truncated to 240 characters like kube-proxy's hashAndTruncate. */
export function hashAndTruncate(name: string): string {
  const full = `${base32(createHash('sha256').update(name).digest()).slice(0, 8)}-${name}`;
  return full.length > 240 ? `${full.slice(0, 237)}...` : full;
}

export function servicePortChainBase(namespace: string, service: string, protocol: string, port: string): string {
  return hashAndTruncate(`${namespace}/${service}/${protocol}/${port}`);
}

export function endpointChainBase(namespace: string, service: string, protocol: string, port: string, endpointIP: string, endpointPort: number): string {
  return hashAndTruncate(`${namespace}/${service}/${protocol}/${port}__${endpointIP.replaceAll(':', '.')}/${endpointPort}`);
}

export type NftChainKind = 'service' | 'local' | 'external' | 'firewall' | 'endpoint';

export interface ParsedChainName {
  readonly kind: NftChainKind;
  readonly namespace: string;
  readonly service: string;
  readonly protocol: string;
  readonly port: string;
}

const CHAIN = /^(service|local|external|firewall|endpoint)-[A-Z2-7]{8}-([^/]+)\/([^/]+)\/([a-z]+)\/([^/]*?)(?:__.*)?$/;

/** The service port a kube-proxy chain belongs to; null for its fixed chains (`services`, `nat-prerouting`, ...). */
export function parseChainName(chain: string): ParsedChainName | null {
  const m = CHAIN.exec(chain);
  if (m === null) return null;
  return { kind: m[1] as NftChainKind, namespace: m[2] ?? '', service: m[3] ?? '', protocol: m[4] ?? '', port: m[5] ?? '' };
}
