import { describe, expect, it } from 'vitest';
import { endpointChainName } from '../../src/model/chain-names.js';
import { fingerprintOf } from './fingerprint-of.js';

const A = 'KUBE-SEP-23Y66C2VAJ3WDEMI';
const B = 'KUBE-SEP-47TYMEKETDMXSVAN';
const C = 'KUBE-SEP-CZKGMRCAIW3ENCXY';

describe('ladder fingerprint', () => {
  it('is 16 hex digits, the same for the same rules', () => {
    const rules = [[A, '0.33333333349'], [B, '0.50000000000'], [C, null]] as const;
    expect(fingerprintOf(rules)).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintOf(rules)).toBe(fingerprintOf(rules.map(([c, p]) => [`${c}`, p === null ? null : `${p}`])));
  });

  it('changes with membership, order and printed probability', () => {
    const base = fingerprintOf([[A, '0.50000000000'], [B, null]]);
    const others = [
      fingerprintOf([[B, '0.50000000000'], [A, null]]),
      fingerprintOf([[A, '0.50000000000'], [C, null]]),
      fingerprintOf([[A, '0.33333333349'], [B, '0.50000000000'], [C, null]]),
      fingerprintOf([[A, null]]),
      // kube-proxy's 11-decimal text against the same value printed otherwise: a rewrite all the same.
      fingerprintOf([[A, '0.5'], [B, null]]),
      fingerprintOf([[A, '0.50000000000'], [B, '1.00000000000']]),
      fingerprintOf([]),
    ];
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });

  it('does not read a chain name and a probability across their separator', () => {
    expect(fingerprintOf([[`${A}:0.5`, null]])).not.toBe(fingerprintOf([[A, '0.5']]));
  });

  it('has no collision over 200,000 ladders that differ in one endpoint or one probability', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const first = endpointChainName(`ns${i % 97}/svc${i}:http`, 'tcp', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`);
      seen.add(fingerprintOf([[first, '0.50000000000'], [B, null]]));
      seen.add(fingerprintOf([[first, '0.50000000001'], [B, null]]));
    }
    expect(seen.size).toBe(200_000);
  });
});
