/** kube-proxy's ServicePortName as printed in rule comments: parse, format, and find it inside a comment. */
import type { ServicePortName } from './types.js';

/** A service port name found in a comment, with the exact text kube-proxy printed (and hashed). */
export interface PrintedServicePortName {
  readonly name: ServicePortName;
  /** As printed: `ns/svc:port`, `ns/svc` (unnamed port, v1.19+), `ns/svc:` (unnamed port, before v1.19). */
  readonly text: string;
}

function isLabelChar(c: number): boolean {
  // a-z 0-9 - . and, leniently, A-Z and _ (port names are IANA_SVC_NAME, namespaces DNS labels).
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || (c >= 65 && c <= 90) || c === 95;
}

function isLabel(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isLabelChar(text.charCodeAt(i))) return false;
  return true;
}

/**
 * Parses `ns/svc[:port]`. Service names are DNS-1035 labels and must start with a letter, which
 * keeps CIDRs such as `10.0.0.0/8` from being read as a namespace/service pair.
 */
export function parseServicePortName(text: string): PrintedServicePortName | null {
  const slash = text.indexOf('/');
  if (slash <= 0) return null;
  const colon = text.indexOf(':', slash + 1);
  const nameEnd = colon < 0 ? text.length : colon;
  if (nameEnd === slash + 1) return null;
  const first = text.charCodeAt(slash + 1);
  if (!((first >= 97 && first <= 122) || (first >= 65 && first <= 90))) return null;
  if (!isLabel(text, 0, slash) || !isLabel(text, slash + 1, nameEnd)) return null;
  if (colon >= 0 && !isLabel(text, colon + 1, text.length)) return null;
  return {
    name: {
      namespace: text.slice(0, slash),
      service: text.slice(slash + 1, nameEnd),
      port: colon < 0 ? '' : text.slice(colon + 1),
    },
    text,
  };
}

/**
 * Finds the service port name in any comment kube-proxy writes on nat rules: `<svc>`,
 * `<svc> cluster IP`, `<svc> -> 10.1.2.3:80`, `pod traffic for <svc> external destinations`,
 * `Balancing rule 0 for <svc>` (pre-1.24 KUBE-XLB), `<svc> has no local endpoints`, ... It is the
 * first space-separated word that parses as `ns/svc[:port]`.
 */
export function servicePortNameInComment(comment: string): PrintedServicePortName | null {
  let start = 0;
  const n = comment.length;
  while (start < n) {
    let end = comment.indexOf(' ', start);
    if (end < 0) end = n;
    if (end > start) {
      const slash = comment.indexOf('/', start);
      if (slash > start && slash < end) {
        const parsed = parseServicePortName(comment.slice(start, end));
        if (parsed !== null) return parsed;
      }
    }
    start = end + 1;
  }
  return null;
}

/** The `ip:port` after ` -> ` in a v1.24+ SVC→SEP comment (`ns/svc:p -> 10.1.2.3:80`), or null. */
export function endpointInComment(comment: string): string | null {
  const arrow = comment.indexOf(' -> ');
  if (arrow < 0) return null;
  const rest = comment.slice(arrow + 4);
  const space = rest.indexOf(' ');
  const endpoint = space < 0 ? rest : rest.slice(0, space);
  return endpoint.length > 0 ? endpoint : null;
}

/** `namespace/name:port` as kube-proxy prints it since v1.19 (`namespace/name` for an unnamed port). */
export function formatServicePortName(name: ServicePortName): string {
  return name.port === '' ? `${name.namespace}/${name.service}` : `${name.namespace}/${name.service}:${name.port}`;
}
