import { describe, expect, it } from 'vitest';
import { tokenize, TokenizeError } from '../../src/iptables/tokenize.js';

describe('tokenize', () => {
  it.each([
    ['plain words', '-A KUBE-SVC-X -j KUBE-SEP-Y', ['-A', 'KUBE-SVC-X', '-j', 'KUBE-SEP-Y']],
    ['runs of whitespace and tabs', '-A  X \t -j   Y  ', ['-A', 'X', '-j', 'Y']],
    ['quoted comment', '--comment "ns/svc:p cluster IP"', ['--comment', 'ns/svc:p cluster IP']],
    ['escaped quote inside quotes', String.raw`--comment "a \"b\" c"`, ['--comment', 'a "b" c']],
    ['escaped backslash', String.raw`--comment "a\\b"`, ['--comment', 'a\\b']],
    ['other backslashes are literal', String.raw`--comment "a\nb"`, ['--comment', 'a\\nb']],
    ['quote joined to a word', 'x"y z"w', ['xy zw']],
    ['empty quoted string', '--comment ""', ['--comment', '']],
    ['carriage return', '-A X\r', ['-A', 'X']],
  ])('%s', (_name, input, expected) => {
    expect(tokenize(input)).toEqual(expected);
  });

  it('rejects an unterminated quote with its column', () => {
    expect(() => tokenize('-A X --comment "open')).toThrow(TokenizeError);
    expect(() => tokenize('-A X --comment "open')).toThrow(/column 16/);
  });
});
