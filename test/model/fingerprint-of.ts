/** The fingerprint of a ladder whose rules are these (SEP chain, printed probability) pairs. */
import { LadderFingerprint } from '../../src/model/ladder-fingerprint.js';

export function fingerprintOf(rules: readonly (readonly [string, string | null])[]): string {
  const fingerprint = new LadderFingerprint();
  for (const [chain, probability] of rules) fingerprint.addRule(chain, probability);
  return fingerprint.digest();
}
