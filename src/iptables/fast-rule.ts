/**
 * Byte-level fast path for `-A CHAIN ...` lines: reads the stream's bytes in place, with no per-line or
 * per-token strings. Only the values a Rule keeps become strings, each a flat copy (a `slice` of a line
 * would be a SlicedString that keeps the whole line alive), and repeated ones are shared.
 *
 * It accepts only the plain shape iptables-save prints (ASCII, words or whole `"..."` tokens without
 * escapes, known syntax). Anything else returns null and the caller falls back to tokenize + parseRule,
 * the reference implementation this must agree with field for field (test/bench/fast-rule.test.ts).
 */
import type { AddressMatch, Counters, ProbabilityMatch, RecentMatch, Rule } from './types.js';

const MAX_TOKENS = 256;
const CACHE_BITS = 14;
const CACHE_MASK = (1 << CACHE_BITS) - 1;

const enum Flag {
  NotFlag,
  Negate,
  OtherFlag,
  Valueless,
  Append,
  Counters,
  Source,
  Destination,
  Protocol,
  Match,
  Comment,
  Dport,
  Probability,
  Name,
  Seconds,
  Jump,
  Goto,
  ToDestination,
  Rcheck,
  Update,
  Set,
  Remove,
  Mode,
}

/** Same list as parse-rule.ts VALUELESS_FLAGS, minus the `-m recent` modes (handled first there too). */
const VALUELESS = [
  '--rsource', '--rdest', '--reap', '--rttl', '--physdev-is-in', '--physdev-is-out', '--physdev-is-bridged', '--syn',
  '--random', '--random-fully', '--persistent', '--fragment', '-f', '--limit-iface-in', '--limit-iface-out', '--ctdir',
];

const FLAG_TEXTS: ReadonlyArray<readonly [Flag, readonly string[]]> = [
  [Flag.Append, ['-A', '--append']],
  [Flag.Counters, ['-c', '--set-counters']],
  [Flag.Source, ['-s', '--source', '--src']],
  [Flag.Destination, ['-d', '--destination', '--dst']],
  [Flag.Protocol, ['-p', '--protocol']],
  [Flag.Match, ['-m', '--match']],
  [Flag.Comment, ['--comment']],
  [Flag.Dport, ['--dport', '--destination-port', '--dports', '--destination-ports']],
  [Flag.Probability, ['--probability']],
  [Flag.Name, ['--name']],
  [Flag.Seconds, ['--seconds']],
  [Flag.Jump, ['-j', '--jump']],
  [Flag.Goto, ['-g', '--goto']],
  [Flag.ToDestination, ['--to-destination', '--to']],
  [Flag.Rcheck, ['--rcheck']],
  [Flag.Update, ['--update']],
  [Flag.Set, ['--set']],
  [Flag.Remove, ['--remove']],
  [Flag.Mode, ['--mode']],
  [Flag.Valueless, VALUELESS],
];

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/** Flag hash → candidates (verified byte by byte; collisions are allowed, just slower). */
const FLAGS = new Map<number, { text: string; flag: Flag }[]>();
for (const [flag, texts] of FLAG_TEXTS) {
  for (const text of texts) {
    const h = hashText(text);
    const list = FLAGS.get(h) ?? [];
    list.push({ text, flag });
    FLAGS.set(h, list);
  }
}

function sameText(text: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

/** parse-rule.ts parseNonNegativeInteger on bytes: 1–20 ASCII digits, else null. */
function readInteger(bytes: Buffer, start: number, end: number): number | null {
  const length = end - start;
  if (length === 0 || length > 20) return null;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    if (c < 48 || c > 57) return null;
    value = value * 10 + (c - 48);
  }
  // Up to 15 digits the running value is exact; longer ones are rounded the way Number() rounds.
  return length <= 15 ? value : Number(bytes.toString('latin1', start, end));
}

/** parseBracketCounters on bytes: `[packets:bytes]` between `start` and the `]` at `close`. */
export function readBracketCounters(bytes: Buffer, start: number, close: number, zero: Counters): Counters | null {
  if (close - start + 1 < 5 || bytes[start] !== 91 || bytes[close] !== 93) return null;
  let colon = start + 1;
  while (colon < close && bytes[colon] !== 58) colon++;
  if (colon === close) return null;
  const packets = readInteger(bytes, start + 1, colon);
  const byteCount = readInteger(bytes, colon + 1, close);
  if (packets === null || byteCount === null) return null;
  return packets === 0 && byteCount === 0 ? zero : { packets, bytes: byteCount };
}

const HOST_V4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** parse-rule.ts isEndpointAddress. */
function isEndpointAddress(text: string): boolean {
  if (text.charCodeAt(0) === 91) {
    const close = text.indexOf(']:');
    return close > 1 && isDigits(text, close + 2);
  }
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || !isDigits(text, colon + 1)) return false;
  return HOST_V4.test(text.slice(0, colon));
}

function isDigits(text: string, from: number): boolean {
  const length = text.length - from;
  if (length === 0 || length > 20) return false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Resolves a jump target to the declared chain's own string (shared instead of one copy per rule). */
export type TargetResolver = (name: string) => string;

export class FastRuleReader {
  private readonly starts = new Int32Array(MAX_TOKENS);
  private readonly ends = new Int32Array(MAX_TOKENS);
  /** Direct-mapped cache of recent value strings by content hash: repeated values share one string, memory stays fixed. */
  private readonly cacheHashes = new Int32Array(CACHE_MASK + 1);
  private readonly cacheStrings: (string | undefined)[] = new Array<string | undefined>(CACHE_MASK + 1).fill(undefined);
  private readonly targets = new Map<string, string>();
  private readonly probabilities = new Map<string, ProbabilityMatch>();
  private readonly addresses = new Map<string, AddressMatch>();
  /** `[0:0]`, the commonest counters, shared (Counters is read-only). */
  readonly zero: Counters = { packets: 0, bytes: 0 };
  private lastChain = '';

  constructor(private readonly resolveTarget: TargetResolver) {}

  /** Forget resolved targets (a new table starts: its chains are different objects). */
  resetTargets(): void {
    this.targets.clear();
  }

  /** A string for bytes[start, end), shared with an equal recent one. ASCII only (the caller checked). */
  private text(bytes: Buffer, start: number, end: number): string {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
    const slot = h & CACHE_MASK;
    const cached = this.cacheStrings[slot];
    if (cached !== undefined && this.cacheHashes[slot] === h && sameText(cached, bytes, start, end)) return cached;
    const text = bytes.toString('latin1', start, end);
    this.cacheHashes[slot] = h;
    this.cacheStrings[slot] = text;
    return text;
  }

  private flag(bytes: Buffer, start: number, end: number): Flag {
    const length = end - start;
    if (length === 1 && bytes[start] === 33) return Flag.Negate;
    if (length === 0 || bytes[start] !== 45) return Flag.NotFlag;
    if (length > 20) return Flag.OtherFlag;
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
    const candidates = FLAGS.get(h);
    if (candidates !== undefined) for (const c of candidates) if (sameText(c.text, bytes, start, end)) return c.flag;
    return Flag.OtherFlag;
  }

  /** Splits into tokens; -1 when the line needs the reference tokenizer (quotes inside words, escapes, non-ASCII). */
  private tokenize(bytes: Buffer, start: number, end: number): number {
    const starts = this.starts;
    const ends = this.ends;
    let n = 0;
    let i = start;
    while (i < end) {
      let c = bytes[i] as number;
      if (isSpace(c)) {
        i++;
        continue;
      }
      if (n === MAX_TOKENS) return -1;
      if (c === 34) {
        const s = ++i;
        for (;;) {
          if (i === end) return -1;
          c = bytes[i] as number;
          if (c === 34) break;
          if (c === 92 || c > 127) return -1;
          i++;
        }
        starts[n] = s;
        ends[n++] = i++;
        if (i < end && !isSpace(bytes[i] as number)) return -1;
        continue;
      }
      const s = i;
      while (i < end) {
        c = bytes[i] as number;
        if (isSpace(c)) break;
        if (c === 34 || c === 92 || c > 127) return -1;
        i++;
      }
      starts[n] = s;
      ends[n++] = i;
    }
    return n;
  }

  private chainName(bytes: Buffer, start: number, end: number): string {
    if (sameText(this.lastChain, bytes, start, end)) return this.lastChain;
    this.lastChain = this.resolveTarget(bytes.toString('latin1', start, end));
    return this.lastChain;
  }

  private target(bytes: Buffer, start: number, end: number): string {
    const text = this.text(bytes, start, end);
    let resolved = this.targets.get(text);
    if (resolved === undefined) {
      resolved = this.resolveTarget(text);
      // Only the few well-known targets are remembered; chain targets resolve through the chain map.
      if (this.targets.size < 64 && !text.startsWith('KUBE-S')) this.targets.set(text, resolved);
    }
    return resolved;
  }

  private address(address: string, negated: boolean): AddressMatch {
    // Addresses that repeat (`! -s <pod CIDR>` in every KUBE-SVC chain) share one read-only object.
    if (negated) {
      let match = this.addresses.get(address);
      if (match === undefined) {
        if (this.addresses.size > 1024) this.addresses.clear();
        match = { address, negated };
        this.addresses.set(address, match);
      }
      return match;
    }
    return { address, negated };
  }

  /**
   * Parses `-A CHAIN args` in bytes[start, end). Returns null when the line is anything else or anything
   * the reference parser must decide (errors included): the caller then runs tokenize + parseRule.
   */
  read(bytes: Buffer, start: number, end: number, prefixCounters: Counters | null, line: number): Rule | null {
    const n = this.tokenize(bytes, start, end);
    if (n < 2) return null;
    const starts = this.starts;
    const ends = this.ends;
    if (this.flag(bytes, starts[0] as number, ends[0] as number) !== Flag.Append) return null;
    const chainStart = starts[1] as number;
    const chainEnd = ends[1] as number;
    if (chainEnd === chainStart || bytes[chainStart] === 45) return null;
    const chain = this.chainName(bytes, chainStart, chainEnd);

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

    let i = 2;
    while (i < n) {
      const flag = this.flag(bytes, starts[i] as number, ends[i] as number);
      if (flag === Flag.Negate) {
        negate = true;
        i++;
        continue;
      }
      // Flags that take a value: the value is token i + 1 (missing → the reference parser reports it).
      const vs = starts[i + 1] as number;
      const ve = ends[i + 1] as number;
      switch (flag) {
        case Flag.Counters: {
          if (i + 2 >= n) return null;
          const p = readInteger(bytes, vs, ve);
          const b = readInteger(bytes, starts[i + 2] as number, ends[i + 2] as number);
          if (p === null || b === null) return null;
          counters = p === 0 && b === 0 ? this.zero : { packets: p, bytes: b };
          i += 3;
          break;
        }
        case Flag.Source:
        case Flag.Destination: {
          if (i + 1 >= n) return null;
          let address: string;
          i += 2;
          if (ve - vs === 1 && bytes[vs] === 33) {
            // Pre-1.4.3 syntax put the `!` after the flag: `-s ! 10.0.0.0/8`.
            negate = true;
            address = i < n ? this.text(bytes, starts[i] as number, ends[i] as number) : '';
            i++;
          } else {
            address = this.text(bytes, vs, ve);
          }
          if (flag === Flag.Source) source = this.address(address, negate);
          else destination = this.address(address, negate);
          conditional = true;
          break;
        }
        case Flag.Protocol:
          if (i + 1 >= n) return null;
          protocol = this.text(bytes, vs, ve).toLowerCase();
          conditional = true;
          i += 2;
          break;
        case Flag.Match:
          if (i + 1 >= n) return null;
          if (!sameText('comment', bytes, vs, ve)) conditional = true;
          i += 2;
          break;
        case Flag.Comment: {
          if (i + 1 >= n) return null;
          const text = this.text(bytes, vs, ve);
          comment = comment === null ? text : `${comment} ${text}`;
          i += 2;
          break;
        }
        case Flag.Dport:
          if (i + 1 >= n) return null;
          if (!negate) dport = readInteger(bytes, vs, ve);
          conditional = true;
          i += 2;
          break;
        case Flag.Probability: {
          if (i + 1 >= n) return null;
          const text = this.text(bytes, vs, ve);
          let match = this.probabilities.get(text);
          if (match === undefined) {
            const v = Number(text);
            if (!Number.isFinite(v) || v < 0 || v > 1) return null;
            match = { value: v, text };
            if (this.probabilities.size < 4096) this.probabilities.set(text, match);
          }
          probability = match;
          conditional = true;
          i += 2;
          break;
        }
        case Flag.Name:
          if (i + 1 >= n) return null;
          recentName = this.text(bytes, vs, ve);
          i += 2;
          break;
        case Flag.Seconds:
          if (i + 1 >= n) return null;
          recentSeconds = readInteger(bytes, vs, ve);
          i += 2;
          break;
        case Flag.Jump:
        case Flag.Goto:
          if (i + 1 >= n) return null;
          target = this.target(bytes, vs, ve);
          isGoto = flag === Flag.Goto;
          i += 2;
          // `DNAT [unsupported revision]`: an iptables-save older than the rule's writer.
          if (i < n && bytes[starts[i] as number] === 91 && ends[i] !== starts[i]) {
            lossy = true;
            while (i < n && !(ends[i] !== starts[i] && bytes[(ends[i] as number) - 1] === 93)) i++;
            i++;
          }
          break;
        case Flag.ToDestination: {
          if (i + 1 >= n) return null;
          const d = bytes.toString('latin1', vs, ve);
          if (isEndpointAddress(d)) dnatDestination = d;
          else lossy = true;
          i += 2;
          break;
        }
        case Flag.Rcheck:
        case Flag.Update:
        case Flag.Set:
        case Flag.Remove:
          recentMode = flag === Flag.Rcheck ? 'rcheck' : flag === Flag.Update ? 'update' : flag === Flag.Set ? 'set' : 'remove';
          conditional = true;
          i++;
          break;
        case Flag.NotFlag:
          return null;
        default: {
          // Flag.Append, Flag.Mode, Flag.Valueless, Flag.OtherFlag: as parse-rule.ts's default branch.
          if (flag !== Flag.Mode && target === null) conditional = true;
          i++;
          if (flag !== Flag.Valueless) {
            // Unknown flag: skip its values, leniently (anything up to the next flag or `!`).
            while (i < n) {
              const s = starts[i] as number;
              const length = (ends[i] as number) - s;
              if (length === 1 && bytes[s] === 33) break;
              if (length > 1 && bytes[s] === 45) {
                const c = bytes[s + 1] as number;
                if (c < 48 || c > 57) break;
              }
              i++;
            }
          }
        }
      }
      negate = false;
    }

    if (target === 'DNAT' && dnatDestination === null) lossy = true;
    const recent: RecentMatch | null =
      recentMode === null && recentName === null ? null : { mode: recentMode ?? 'other', name: recentName, seconds: recentSeconds };
    // Same property order as parseRule: one hidden class for every Rule, whichever path built it.
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
}
