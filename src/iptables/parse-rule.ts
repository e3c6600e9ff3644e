/** Turns the arguments of one `-A CHAIN ...` line into a Rule: the fields kube-balance uses, lenient about the rest. */
import type { AddressMatch, Counters, ProbabilityMatch, RecentMatch, Rule } from './types.js';

export class RuleSyntaxError extends Error {
  readonly code = 'RULE_SYNTAX';
}

/** Flags that never take a value (everything else that starts with `-` is assumed to take one or more). */
const VALUELESS_FLAGS = new Set([
  '--rcheck', '--update', '--set', '--remove', '--rsource', '--rdest', '--reap', '--rttl',
  '--physdev-is-in', '--physdev-is-out', '--physdev-is-bridged', '--syn', '--random', '--random-fully',
  '--persistent', '--fragment', '-f', '--limit-iface-in', '--limit-iface-out', '--ctdir',
]);

const RECENT_MODES: Readonly<Record<string, RecentMatch['mode']>> = {
  '--rcheck': 'rcheck',
  '--update': 'update',
  '--set': 'set',
  '--remove': 'remove',
};

function parseNonNegativeInteger(text: string | undefined): number | null {
  if (text === undefined || text.length === 0 || text.length > 20) return null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  return Number(text);
}

/** Parses `[packets:bytes]`; null when malformed. */
export function parseBracketCounters(text: string): Counters | null {
  if (text.length < 5 || text.charCodeAt(0) !== 91 || text.charCodeAt(text.length - 1) !== 93) return null;
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const packets = parseNonNegativeInteger(text.slice(1, colon));
  const bytes = parseNonNegativeInteger(text.slice(colon + 1, -1));
  return packets === null || bytes === null ? null : { packets, bytes };
}

/** `--to-destination` values kube-proxy writes: `a.b.c.d:port` or `[v6]:port`. Anything else is garbled. */
function isEndpointAddress(text: string): boolean {
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    return close > 1 && parseNonNegativeInteger(text.slice(close + 2)) !== null;
  }
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || parseNonNegativeInteger(text.slice(colon + 1)) === null) return false;
  const host = text.slice(0, colon);
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/** Lets the dump parser share equal strings between rules (chain names, repeated comments) to save memory. */
export interface RuleInterner {
  target(name: string): string;
  comment(text: string): string;
}

const NO_INTERNING: RuleInterner = { target: (s) => s, comment: (s) => s };

/**
 * Parses `tokens[start..]` (the part after `-A CHAIN`). `counters` comes from a `[p:b]` line prefix,
 * if any; an inline `-c P B` (restore input, `iptables -S -v`) overrides it.
 */
export function parseRule(
  tokens: readonly string[],
  start: number,
  chain: string,
  line: number,
  prefixCounters: Counters | null,
  intern: RuleInterner = NO_INTERNING,
): Rule {
  let counters = prefixCounters;
  let source: AddressMatch | null = null;
  let destination: AddressMatch | null = null;
  let protocol: string | null = null;
  let dport: number | null = null;
  let comment: string | null = null;
  let probability: ProbabilityMatch | null = null;
  let recentMode: RecentMatch['mode'] | null = null;
  let recentName: string | null = null;
  let recentSeconds: number | null = null;
  let conditional = false;
  let target: string | null = null;
  let isGoto = false;
  let dnatDestination: string | null = null;
  let lossy = false;
  let negate = false;

  const n = tokens.length;
  let i = start;
  const value = (flag: string): string => {
    const v = tokens[i + 1];
    if (v === undefined) throw new RuleSyntaxError(`${flag} needs a value`);
    i += 2;
    return v;
  };

  while (i < n) {
    const t = tokens[i] as string;
    if (t === '!') {
      negate = true;
      i++;
      continue;
    }
    switch (t) {
      case '-c':
      case '--set-counters': {
        const p = parseNonNegativeInteger(tokens[i + 1]);
        const b = parseNonNegativeInteger(tokens[i + 2]);
        if (p === null || b === null) throw new RuleSyntaxError(`${t} needs two non-negative integers`);
        counters = { packets: p, bytes: b };
        i += 3;
        break;
      }
      case '-s':
      case '--source':
      case '--src': {
        let address = value(t);
        // Pre-1.4.3 syntax put the `!` after the flag: `-s ! 10.0.0.0/8`.
        if (address === '!') {
          negate = true;
          address = tokens[i] ?? '';
          i++;
        }
        source = { address, negated: negate };
        conditional = true;
        break;
      }
      case '-d':
      case '--destination':
      case '--dst': {
        let address = value(t);
        if (address === '!') {
          negate = true;
          address = tokens[i] ?? '';
          i++;
        }
        destination = { address, negated: negate };
        conditional = true;
        break;
      }
      case '-p':
      case '--protocol':
        protocol = value(t).toLowerCase();
        conditional = true;
        break;
      case '-m':
      case '--match': {
        const module = value(t);
        // A comment is not a condition; every other match module is.
        if (module !== 'comment') conditional = true;
        break;
      }
      case '--comment': {
        const text = intern.comment(value(t));
        comment = comment === null ? text : `${comment} ${text}`;
        break;
      }
      case '--dport':
      case '--destination-port':
      case '--dports':
      case '--destination-ports': {
        const raw = value(t);
        if (!negate) dport = parseNonNegativeInteger(raw);
        conditional = true;
        break;
      }
      case '--probability': {
        const text = value(t);
        const v = Number(text);
        if (!Number.isFinite(v) || v < 0 || v > 1) throw new RuleSyntaxError(`bad --probability ${JSON.stringify(text)}`);
        probability = { value: v, text };
        conditional = true;
        break;
      }
      case '--name':
        recentName = value(t);
        break;
      case '--seconds':
        recentSeconds = parseNonNegativeInteger(value(t));
        break;
      case '-j':
      case '--jump':
      case '-g':
      case '--goto':
        target = intern.target(value(t));
        isGoto = t === '-g' || t === '--goto';
        // `DNAT [unsupported revision]`: an iptables-save older than the rule's writer.
        if (tokens[i] === '[unsupported' || (tokens[i]?.startsWith('[') ?? false)) {
          lossy = true;
          while (i < n && !(tokens[i] as string).endsWith(']')) i++;
          i++;
        }
        break;
      case '--to-destination':
      case '--to': {
        const d = value(t);
        if (isEndpointAddress(d)) dnatDestination = d;
        else lossy = true;
        break;
      }
      default: {
        const mode = RECENT_MODES[t];
        if (mode !== undefined) {
          recentMode = mode;
          conditional = true;
          i++;
          break;
        }
        if (t.startsWith('-')) {
          // Target options (`-j MARK --set-xmark ...`) come after the target and are not conditions.
          if (t !== '--mode' && target === null) conditional = true;
          i++;
          if (!VALUELESS_FLAGS.has(t)) {
            // Unknown flag: skip its values, leniently (anything up to the next flag or `!`).
            while (i < n) {
              const v = tokens[i] as string;
              if (v === '!' || (v.startsWith('-') && v.length > 1 && !/^-\d/.test(v))) break;
              i++;
            }
          }
          break;
        }
        throw new RuleSyntaxError(`unexpected argument ${JSON.stringify(t.slice(0, 40))}`);
      }
    }
    negate = false;
  }

  if (target === 'DNAT' && dnatDestination === null) lossy = true;
  const recent: RecentMatch | null =
    recentMode === null && recentName === null
      ? null
      : { mode: recentMode ?? 'other', name: recentName, seconds: recentSeconds };

  return {
    line,
    chain,
    counters,
    source,
    destination,
    protocol,
    dport,
    comment,
    probability,
    recent,
    conditional,
    target,
    isGoto,
    dnatDestination,
    lossy,
  };
}
