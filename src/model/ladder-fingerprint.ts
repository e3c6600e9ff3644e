/**
 * A ladder's fingerprint (Ladder.fingerprint): a 64-bit hash of its SEP chains and their printed
 * probabilities, in rule order, as 16 hex digits.
 *
 * A hash, not the text itself: the text is ~40 bytes per endpoint, 8 MiB per model at 20,000
 * services × 10 endpoints, and a parsed read holds two models (the last one and the new one). The
 * analysis only ever compares a ladder's fingerprint with the same ladder's previous one, so a
 * collision matters only between two versions of one chain, with odds of 2^-64 per rewrite.
 *
 * Two 32-bit lanes over the same characters: FNV-1a, and a multiply-xorshift lane (MurmurHash2's
 * constant) so that the lanes do not collide together. Each rule adds `chain:probability,` (an
 * empty probability for the last, unconditional rule), the text the fingerprint used to be.
 */
import { FNV_OFFSET, FNV_PRIME } from '../iptables/byte-strings.js';

const MURMUR_M = 0x5bd1e995;
const SECOND_SEED = 0x9747b28c | 0;
const COLON = 58;
const COMMA = 44;

export class LadderFingerprint {
  private fnv = FNV_OFFSET;
  private murmur = SECOND_SEED;

  /** Adds one ladder rule: its SEP chain and its probability as printed (null: unconditional). */
  addRule(chain: string, probabilityText: string | null): void {
    this.addText(chain);
    this.addChar(COLON);
    if (probabilityText !== null) this.addText(probabilityText);
    this.addChar(COMMA);
  }

  /** The hash so far, as 16 hex digits. */
  digest(): string {
    // A final mix, so that the last characters reach every bit of the murmur lane.
    let m = this.murmur;
    m ^= m >>> 13;
    m = Math.imul(m, MURMUR_M);
    m ^= m >>> 15;
    return hex8(this.fnv) + hex8(m);
  }

  private addText(text: string): void {
    for (let i = 0; i < text.length; i++) this.addChar(text.charCodeAt(i));
  }

  private addChar(code: number): void {
    this.fnv = Math.imul(this.fnv ^ code, FNV_PRIME);
    let m = Math.imul(code, MURMUR_M);
    m ^= m >>> 24;
    this.murmur = Math.imul(this.murmur, MURMUR_M) ^ Math.imul(m, MURMUR_M);
  }
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
