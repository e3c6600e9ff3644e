/**
 * The KUBE-SEP chains' folds of the last parse, by chain name and content, so that the next parse
 * need not parse the chains kube-proxy left alone.
 *
 * A KUBE-SEP chain's fold (EndpointChainInfo) is a function of its rules' text: the same rules, byte
 * for byte from `-A` on (counters apart), fold to the same info. kube-proxy rewrites only the chains
 * of services whose endpoints changed, so in a parse after a rules change (or every parse, with the
 * counter refresh off or the rules churning) nearly every KUBE-SEP chain is one the last parse folded.
 * DumpParser holds each run of a KUBE-SEP chain's rules (rule-runs.ts) and asks the collector; when the
 * last parse's cache has an entry of that name and content hash, the run is dropped unparsed and the
 * build reads the cached info. At 20,000 services × 10 endpoints that is 400k of 868k lines, with their
 * Rule objects, strings and folds (docs/benchmarks.md); the chains' declarations are only counted
 * (DumpParserOptions.droppedPrefix: no string is made for them).
 *
 * The cache is a memo: an entry says "a chain of this name whose rules hash to this folds to this",
 * whatever dump it came from, so it needs no invalidation. A parse makes the next cache from the entries
 * it used and the runs it parsed cleanly (no skipped line or warning: those a skipped run could not
 * report). It keeps no per-chain objects: two columns of references (the DNAT targets, which the
 * model's endpoints share, and the few distinct comment/protocol pairs) and typed arrays.
 *
 * A chain the cache answers for is "present" in that parse until the parser says its rules stopped
 * counting (declared again, `-F`, `-X`, the table listed again): then it reads as a chain with no rules,
 * as the fold would. A second run of it resumes the fold from the cached info (the fold is a left fold
 * whose state is the info). Hash collisions are 64-bit events, as for the structure digest.
 */
import { hashNameLanes } from '../iptables/two-lane-hash.js';
import type { EndpointChainInfo } from './endpoint-chain.js';
import { ChainKeyIndex } from './chain-key-index.js';

/** The fields of an EndpointChainInfo but the DNAT target: few distinct ones (one per service port). */
interface EndpointRest {
  readonly hairpinIP: string | null;
  readonly comment: string | null;
  readonly protocol: string | null;
}

/** An entry's standing in the parse that makes the cache. */
const Entry = {
  /** A parsed run whose fold is not recorded: only marks the name as seen. */
  Seen: 0,
  /** A chain's only run, parsed cleanly: its info, for the next parse. */
  Recorded: 1,
  /** Answered from the last cache: the chain's info in this parse. */
  Present: 2,
  /** Was Present until its rules stopped counting: kept for the next parse only. */
  Replaced: 3,
} as const;
type Entry = (typeof Entry)[keyof typeof Entry];

export class EndpointChainCache {
  private readonly index: ChainKeyIndex;
  private states: Uint8Array;
  /** Per entry: the DNAT target (the model's endpoints hold the same strings). */
  private dnats: (string | null)[];
  /** Per entry: the rest of its info (few distinct objects, shared by the entries and the caches after). */
  private rests: (EndpointRest | null)[];
  private readonly restsByComment = new Map<string | null, EndpointRest[]>();
  private lastRest: EndpointRest | null = null;
  private present = 0;

  /** `capacity`: entries expected (it grows as needed). */
  constructor(capacity = 1024) {
    this.index = new ChainKeyIndex(capacity);
    this.states = new Uint8Array(capacity);
    // Filled, so that the array has exactly this room (a pushed-to one keeps up to half again).
    this.dnats = new Array<string | null>(capacity).fill(null);
    this.rests = new Array<EndpointRest | null>(capacity).fill(null);
  }

  /** Entries that answer for a chain in the parse that made the cache (Present). */
  get presentCount(): number {
    return this.present;
  }

  /** Entries of any kind (a parse's cache grows to about the last one's). */
  get entryCount(): number {
    return this.index.size;
  }

  /** Entries a next parse can use. */
  get size(): number {
    let n = 0;
    for (let e = 0; e < this.index.size; e++) if (this.states[e] !== Entry.Seen) n++;
    return n;
  }

  /**
   * The entry of this name and content, or -1. `hint`: the entry to try first (a parse meets the
   * chains in the order the last one recorded them, so the entry after the last one found is
   * nearly always the one: a read of the next few bytes instead of a probe at random).
   */
  find(name1: number, name2: number, content1: number, content2: number, hint = -1): number {
    const index = this.index;
    if (hint >= 0 && hint < index.size && index.hasKeys(hint, name1, name2, content1, content2) && this.states[hint] !== Entry.Seen) return hint;
    for (let slot = index.first(name1); ; slot = index.next(slot)) {
      const e = index.entryAt(slot);
      if (e < 0) return -1;
      if (index.hasKeys(e, name1, name2, content1, content2) && this.states[e] !== Entry.Seen) return e;
    }
  }

  /** Whether any entry has this name. */
  hasName(name1: number, name2: number): boolean {
    return this.entryNamed(name1, name2) >= 0;
  }

  /** The entry of this name (a cache has one entry per name), or -1. */
  entryNamed(name1: number, name2: number): number {
    const index = this.index;
    for (let slot = index.first(name1); ; slot = index.next(slot)) {
      const e = index.entryAt(slot);
      if (e < 0) return -1;
      if (index.hasName(e, name1, name2)) return e;
    }
  }

  /** The info of the Present entry of this chain, or undefined. */
  presentInfo(chain: string): EndpointChainInfo | undefined {
    const e = this.presentEntry(chain);
    if (e < 0) return undefined;
    const rest = this.rests[e] as EndpointRest;
    return { dnat: this.dnats[e] as string | null, hairpinIP: rest.hairpinIP, comment: rest.comment, protocol: rest.protocol };
  }

  /** The chain's rules stop counting (onRulesReplaced): its Present entry, if any, no longer answers; null: every chain's. */
  replace(chain: string | null): void {
    if (this.present === 0) return;
    if (chain === null) {
      for (let e = 0; e < this.index.size; e++) if (this.states[e] === Entry.Present) this.states[e] = Entry.Replaced;
      this.present = 0;
      return;
    }
    const e = this.presentEntry(chain);
    if (e >= 0) {
      this.states[e] = Entry.Replaced;
      this.present--;
    }
  }

  /** Takes `from`'s entry `e` as this parse's info for its chain. */
  copyPresent(from: EndpointChainCache, e: number): void {
    this.put(this.index.addFrom(from.index, e), Entry.Present, from.dnats[e] as string | null, from.rests[e] as EndpointRest);
    this.present++;
  }

  /**
   * After a run was parsed: unless a run of its chain came before in this dump, its fold (`info`: the
   * chain's fold after this run; null when the run cannot be recorded, see the collector) for the next
   * parse, or else its name as seen.
   */
  recordRun(name1: number, name2: number, content1: number, content2: number, info: EndpointChainInfo | null): void {
    if (this.hasName(name1, name2)) return;
    if (info === null) this.add(name1, name2, 0, 0, Entry.Seen, null, null);
    else this.add(name1, name2, content1, content2, Entry.Recorded, info.dnat, this.restOf(info));
  }

  /** The dump that made the cache is parsed: drop what only recording needed (the comment index). */
  doneRecording(): void {
    this.restsByComment.clear();
    this.lastRest = null;
  }

  private presentEntry(chain: string): number {
    if (this.present === 0) return -1;
    // No pair made: the build looks up one chain per endpoint (200k at 20,000 services × 10 endpoints).
    const name = hashNameLanes(chain);
    const name1 = name.h1;
    const name2 = name.h2;
    const index = this.index;
    for (let slot = index.first(name1); ; slot = index.next(slot)) {
      const e = index.entryAt(slot);
      if (e < 0) return -1;
      if (index.hasName(e, name1, name2) && this.states[e] === Entry.Present) return e;
    }
  }

  private restOf(info: EndpointChainInfo): EndpointRest {
    // The last pair first: cheaper than the Map where a service port's KUBE-SEP chains follow each other
    // (iptables-legacy-save sorts chains by name, that is by hash, so there they mostly do not).
    const recent = this.lastRest;
    if (recent !== null && recent.comment === info.comment && recent.protocol === info.protocol && recent.hairpinIP === info.hairpinIP) return recent;
    let list = this.restsByComment.get(info.comment);
    if (list === undefined) this.restsByComment.set(info.comment, (list = []));
    for (const rest of list) if (rest.protocol === info.protocol && rest.hairpinIP === info.hairpinIP) return (this.lastRest = rest);
    const rest = { hairpinIP: info.hairpinIP, comment: info.comment, protocol: info.protocol };
    // Hairpin addresses are per endpoint (only for chains without a DNAT target): not worth a list entry.
    if (info.hairpinIP === null) list.push(rest);
    return (this.lastRest = rest);
  }

  private add(name1: number, name2: number, content1: number, content2: number, state: Entry, dnat: string | null, rest: EndpointRest | null): void {
    this.put(this.index.add(name1, name2, content1, content2), state, dnat, rest);
  }

  /** Entry `e`'s values (just added to the index). */
  private put(e: number, state: Entry, dnat: string | null, rest: EndpointRest | null): void {
    if (e >= this.states.length) {
      const states = new Uint8Array(this.states.length * 2);
      states.set(this.states);
      this.states = states;
    }
    this.states[e] = state;
    this.dnats[e] = dnat;
    this.rests[e] = rest;
  }
}
