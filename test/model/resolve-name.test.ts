// resolveName against the plain reading of its contract: parse every candidate, drop repeats, the first
// whose hash gives the suffix wins, else the first one unverified.
import { describe, expect, it } from 'vitest';
import { servicePortChainSuffix } from '../../src/model/chain-names.js';
import { resolveName } from '../../src/model/resolve-name.js';
import { servicePortNameInComment } from '../../src/model/service-port-name.js';

function reference(suffix: string, comments: readonly (string | null)[], protocol: string | null): ReturnType<typeof resolveName> {
  const candidates = comments.flatMap((c) => (c === null ? [] : [servicePortNameInComment(c)])).filter((c) => c !== null);
  const unique = candidates.filter((c, i) => candidates.findIndex((d) => d.text === c.text) === i);
  const first = unique[0];
  if (first === undefined) return { name: null, text: null, protocol, verified: false };
  if (suffix.length === 16) {
    for (const c of unique) {
      for (const p of protocol === null ? ['tcp', 'udp', 'sctp'] : [protocol]) {
        if (servicePortChainSuffix(c.text, p) === suffix) return { name: c.name, text: c.text, protocol: p, verified: true };
      }
    }
  }
  return { name: first.name, text: first.text, protocol, verified: false };
}

const A = 'ns/a:http';
const B = 'ns/b:dns';
const tcpA = servicePortChainSuffix(A, 'tcp');
const udpB = servicePortChainSuffix(B, 'udp');

describe('resolveName', () => {
  it.each<[string, string, (string | null)[], string | null]>([
    ['the first candidate verifies', tcpA, [`${A} cluster IP`, null, `${B} -> 10.0.0.1:53`], 'tcp'],
    ['a later candidate verifies', udpB, [`${A} cluster IP`, `${A}`, null, `${B}`], 'udp'],
    ['the protocol comes from the hash', udpB, [null, `${B} has no local endpoints`], null],
    ['repeats are hashed once', udpB, [`${A}`, `${A} cluster IP`, `${A} -> 1.2.3.4:80`, `${B}`], null],
    ['none verifies: the first, unverified', 'AAAAAAAAAAAAAAAA', [`masquerade traffic for ${B} external destinations`, `${A}`], 'tcp'],
    ['a hand-made suffix is not hashed', 'X', [`${A}`, `${B}`], null],
    ['no candidate at all', tcpA, [null, 'no name here', '10.0.0.0/8'], 'tcp'],
    ['the wrong protocol does not verify', tcpA, [`${A}`], 'udp'],
  ])('%s', (_name, suffix, comments, protocol) => {
    expect(resolveName(suffix, comments, protocol)).toStrictEqual(reference(suffix, comments, protocol));
  });
});
