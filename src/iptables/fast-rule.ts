/**
 * Byte-level fast path for `-A CHAIN ...` lines: reads the stream's bytes in place, with no per-line or
 * per-token strings. Only the values a Rule keeps become strings, each a flat copy (a `slice` of a line
 * would be a SlicedString that keeps the whole line alive), and repeated ones are shared.
 *
 * It accepts only the plain shape iptables-save prints (ASCII, words or whole `"..."` tokens without
 * escapes, known syntax). Anything else returns null and the caller falls back to tokenize + parseRule,
 * the reference implementation this must agree with field for field (test/bench/fast-rule.test.ts).
 */
import { FNV_OFFSET, FNV_PRIME, hashText, latin1, NameTable, RecentStrings, sameBytes, sameText } from './byte-strings.js';
import type { AddressMatch, Counters, ProbabilityMatch, RecentMatch, Rule } from './types.js';

const MAX_TOKENS = 256;
/** Slots of the recent-values cache: a few distinct comments per service port recur within a few hundred lines. */
const CACHE_BITS = 14;

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

/**
 * Open-addressed table of flag texts by hash, filled once: a token's flag is one probe with the hash
 * the tokenizer already computed, verified byte by byte.
 */
const FLAG_BITS = 8;
const FLAG_MASK = (1 << FLAG_BITS) - 1;
const flagHashes = new Int32Array(FLAG_MASK + 1);
const flagTexts: (string | undefined)[] = new Array<string | undefined>(FLAG_MASK + 1).fill(undefined);
const flagValues = new Uint8Array(FLAG_MASK + 1);
/** Each slot's flag text as bytes, at slot * FLAG_BYTES (no flag is longer). */
const FLAG_BYTES = 24;
const flagBytes = new Uint8Array((FLAG_MASK + 1) * FLAG_BYTES);
for (const [flag, texts] of FLAG_TEXTS) {
  for (const text of texts) {
    if (text.length > FLAG_BYTES) throw new Error(`flag ${text} is longer than FLAG_BYTES`);
    const h = hashText(text);
    let slot = (h ^ (h >>> 15)) & FLAG_MASK;
    while (flagTexts[slot] !== undefined) slot = (slot + 1) & FLAG_MASK;
    flagHashes[slot] = h;
    flagTexts[slot] = text;
    flagValues[slot] = flag;
    flagBytes.set(Buffer.from(text, 'latin1'), slot * FLAG_BYTES);
  }
}

/** Per byte: 0 part of a word, 1 separator (space, tab, CR), 2 the reference tokenizer must decide (quote, backslash, non-ASCII). */
const WORD = 0;
const SEPARATOR = 1;
const BYTE_CLASS = new Uint8Array(256);
BYTE_CLASS[32] = SEPARATOR;
BYTE_CLASS[9] = SEPARATOR;
BYTE_CLASS[13] = SEPARATOR;
BYTE_CLASS[34] = 2;
BYTE_CLASS[92] = 2;
BYTE_CLASS.fill(2, 128);

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

/** Where the `:` of a `[packets:bytes]` between `start` and the `]` at `close` is, or -1 when the brackets are not there. */
function bracketColon(bytes: Buffer, start: number, close: number): number {
  if (close - start + 1 < 5 || bytes[start] !== 91 || bytes[close] !== 93) return -1;
  let colon = start + 1;
  while (colon < close && bytes[colon] !== 58) colon++;
  return colon === close ? -1 : colon;
}

/**
 * readBracketCounters' packets, without making the Counters: -1 where it gives null. For a rule line
 * the parser may hold and drop unparsed (rule-runs.ts), which reads only the packets.
 */
export function readBracketPackets(bytes: Buffer, start: number, close: number): number {
  const colon = bracketColon(bytes, start, close);
  if (colon < 0) return -1;
  const packets = readInteger(bytes, start + 1, colon);
  return packets === null || readInteger(bytes, colon + 1, close) === null ? -1 : packets;
}

/** parseBracketCounters on bytes: `[packets:bytes]` between `start` and the `]` at `close`. */
export function readBracketCounters(bytes: Buffer, start: number, close: number, zero: Counters): Counters | null {
  const colon = bracketColon(bytes, start, close);
  if (colon < 0) return null;
  const packets = readInteger(bytes, start + 1, colon);
  const byteCount = readInteger(bytes, colon + 1, close);
  if (packets === null || byteCount === null) return null;
  return packets === 0 && byteCount === 0 ? zero : { packets, bytes: byteCount };
}

/** parse-rule.ts isEndpointAddress on bytes: `[v6]:port`, or `a.b.c.d:port` with 1–3 digits per group. */
function isEndpointAddress(bytes: Buffer, start: number, end: number): boolean {
  if (bytes[start] === 91) {
    for (let i = start + 1; i + 1 < end; i++) if (bytes[i] === 93 && bytes[i + 1] === 58) return i - start > 1 && isDigits(bytes, i + 2, end);
    return false;
  }
  let colon = end - 1;
  while (colon >= start && bytes[colon] !== 58) colon--;
  if (colon <= start || !isDigits(bytes, colon + 1, end)) return false;
  let dots = 0;
  let digits = 0;
  for (let i = start; i < colon; i++) {
    const c = bytes[i] as number;
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return false;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return false;
      digits = 0;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}

/** parseNonNegativeInteger's test: 1–20 ASCII digits. */
function isDigits(bytes: Buffer, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0 || length > 20) return false;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export class FastRuleReader {
  private readonly starts = new Int32Array(MAX_TOKENS);
  private readonly ends = new Int32Array(MAX_TOKENS);
  /** FNV-1a of each token, computed while tokenizing: flags, values and names are looked up by it. */
  private readonly hashes = new Int32Array(MAX_TOKENS);
  private readonly values = new RecentStrings(CACHE_BITS);
  /** Chain names and targets: the declared chain's own string (DumpParser declares chains through it too). */
  readonly names = new NameTable();
  private readonly probabilities = new Map<string, ProbabilityMatch>();
  private readonly addresses = new Map<string, AddressMatch>();
  /** `[0:0]`, the commonest counters, shared (Counters is read-only). */
  readonly zero: Counters = { packets: 0, bytes: 0 };

  /** Forget chain names (a new table starts: its chains are other chains). */
  resetNames(): void {
    this.names.clear();
  }

  /** A string for token `t`, shared with an equal recent one. ASCII only (the tokenizer checked). */
  private text(bytes: Buffer, t: number): string {
    return this.values.get(bytes, this.starts[t] as number, this.ends[t] as number, this.hashes[t] as number);
  }

  /** Token `t` as a chain name (the rule's chain, a jump target). */
  private name(bytes: Buffer, t: number): string {
    return this.names.get(bytes, this.starts[t] as number, this.ends[t] as number, this.hashes[t] as number);
  }

  private flag(bytes: Buffer, t: number): Flag {
    const start = this.starts[t] as number;
    const end = this.ends[t] as number;
    const length = end - start;
    if (length === 1 && bytes[start] === 33) return Flag.Negate;
    if (length === 0 || bytes[start] !== 45) return Flag.NotFlag;
    const h = this.hashes[t] as number;
    let slot = (h ^ (h >>> 15)) & FLAG_MASK;
    for (;;) {
      const text = flagTexts[slot];
      if (text === undefined) return Flag.OtherFlag;
      if (flagHashes[slot] === h && text.length === length && sameBytes(flagBytes, slot * FLAG_BYTES, bytes, start, length)) return flagValues[slot] as Flag;
      slot = (slot + 1) & FLAG_MASK;
    }
  }

  /**
   * Splits into tokens and hashes each; -1 when the line needs the reference tokenizer (quotes inside
   * words, escapes, non-ASCII).
   */
  private tokenize(bytes: Buffer, start: number, end: number): number {
    const starts = this.starts;
    const ends = this.ends;
    const hashes = this.hashes;
    let n = 0;
    let i = start;
    while (i < end) {
      let c = bytes[i] as number;
      if (c === 32 || c === 9 || c === 13) {
        i++;
        continue;
      }
      if (n === MAX_TOKENS) return -1;
      let h = FNV_OFFSET;
      if (c === 34) {
        const s = ++i;
        for (;;) {
          if (i === end) return -1;
          c = bytes[i] as number;
          if (c === 34) break;
          if (c === 92 || c > 127) return -1;
          h = Math.imul(h ^ c, FNV_PRIME);
          i++;
        }
        starts[n] = s;
        hashes[n] = h;
        ends[n++] = i++;
        if (i < end && !isSpace(bytes[i] as number)) return -1;
        continue;
      }
      const s = i;
      while (i < end) {
        c = bytes[i] as number;
        const k = BYTE_CLASS[c] as number;
        if (k !== WORD) {
          if (k === SEPARATOR) break;
          return -1;
        }
        h = Math.imul(h ^ c, FNV_PRIME);
        i++;
      }
      starts[n] = s;
      hashes[n] = h;
      ends[n++] = i;
    }
    return n;
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
    if (this.flag(bytes, 0) !== Flag.Append) return null;
    const chainStart = starts[1] as number;
    const chainEnd = ends[1] as number;
    if (chainEnd === chainStart || bytes[chainStart] === 45) return null;
    const chain = this.names.chain(bytes, this.starts[1] as number, this.ends[1] as number, this.hashes[1] as number);

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
      const flag = this.flag(bytes, i);
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
            address = i < n ? this.text(bytes, i) : '';
            i++;
          } else if (negate) {
            address = this.text(bytes, i - 1);
          } else {
            // A plain address is mostly one of a kind (an endpoint's hairpin `-s`, a cluster IP's `-d`):
            // through the cache it would only push out the comments that do repeat. A negated one
            // (`! -s <pod CIDR>` in every KUBE-SVC chain) is shared.
            address = latin1(bytes, vs, ve);
          }
          if (flag === Flag.Source) source = this.address(address, negate);
          else destination = this.address(address, negate);
          conditional = true;
          break;
        }
        case Flag.Protocol:
          if (i + 1 >= n) return null;
          protocol = this.text(bytes, i + 1).toLowerCase();
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
          const text = this.text(bytes, i + 1);
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
          const text = this.text(bytes, i + 1);
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
          recentName = this.text(bytes, i + 1);
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
          target = this.name(bytes, i + 1);
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
          if (isEndpointAddress(bytes, vs, ve)) dnatDestination = latin1(bytes, vs, ve);
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
