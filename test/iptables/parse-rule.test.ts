import { describe, expect, it } from 'vitest';
import { parseRule, RuleSyntaxError } from '../../src/iptables/parse-rule.js';
import { tokenize } from '../../src/iptables/tokenize.js';

const rule = (text: string) => parseRule(tokenize(text), 0, 'C', 7, null);

describe('parseRule', () => {
  it('reads a current-layout random jump', () => {
    const r = rule(
      '-m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-ABC',
    );
    expect(r).toMatchObject({
      line: 7,
      comment: 'default/web:http -> 10.244.1.5:8080',
      probability: { value: 0.33333333349, text: '0.33333333349' },
      conditional: true,
      target: 'KUBE-SEP-ABC',
      isGoto: false,
      lossy: false,
    });
  });

  it('treats a comment-only jump as unconditional', () => {
    expect(rule('-m comment --comment "default/web:http -> 10.244.1.6:8080" -j KUBE-SEP-DEF').conditional).toBe(false);
  });

  it('reads the cluster-IP masquerade rule', () => {
    const r = rule(
      '! -s 10.244.0.0/16 -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-MARK-MASQ',
    );
    expect(r.source).toEqual({ address: '10.244.0.0/16', negated: true });
    expect(r.destination).toEqual({ address: '10.96.0.10/32', negated: false });
    expect(r.protocol).toBe('udp');
    expect(r.dport).toBe(53);
    expect(r.target).toBe('KUBE-MARK-MASQ');
  });

  it('reads pre-1.4.3 negation after the flag', () => {
    expect(rule('-s ! 10.0.0.0/8 -j X').source).toEqual({ address: '10.0.0.0/8', negated: true });
  });

  it('reads a ClientIP affinity rule', () => {
    const r = rule(
      '-m comment --comment "default/kubernetes:https" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-UPD7 --mask 255.255.255.255 --rsource -j KUBE-SEP-UPD7',
    );
    expect(r.recent).toEqual({ mode: 'rcheck', name: 'KUBE-SEP-UPD7', seconds: 10800 });
    expect(r.conditional).toBe(true);
    expect(r.target).toBe('KUBE-SEP-UPD7');
  });

  it('reads DNAT destinations, IPv4 and IPv6', () => {
    expect(rule('-p tcp -m tcp -j DNAT --to-destination 10.1.2.3:80').dnatDestination).toBe('10.1.2.3:80');
    expect(rule('-p tcp -m tcp -j DNAT --to-destination [fd00::1]:80').dnatDestination).toBe('[fd00::1]:80');
  });

  it.each([
    ['unsupported revision', '-p tcp -m tcp -j DNAT [unsupported revision]'],
    ['garbled destination', '-p tcp -m tcp -j DNAT --to-destination 0.0.0.0-255.255.255.255'],
    ['no destination', '-p tcp -j DNAT'],
  ])('marks a lossy DNAT: %s', (_name, text) => {
    const r = rule(text);
    expect(r.lossy).toBe(true);
    expect(r.dnatDestination).toBeNull();
  });

  it('reads inline counters from iptables -S -v and restore input', () => {
    expect(rule('-m comment --comment x -c 12 720 -j KUBE-SEP-A').counters).toEqual({ packets: 12, bytes: 720 });
  });

  it('keeps target options out of the condition', () => {
    expect(rule('-j MARK --set-xmark 0x4000/0x4000').conditional).toBe(false);
  });

  it('ignores unknown flags and their values', () => {
    const r = rule('-m foo --bar 1 2 --baz -m comment --comment ok -j KUBE-SEP-Q');
    expect(r.comment).toBe('ok');
    expect(r.target).toBe('KUBE-SEP-Q');
  });

  it.each([
    ['a bad probability', '-m statistic --mode random --probability 1.5 -j X'],
    ['bad inline counters', '-c 1 x -j X'],
    ['a stray word', 'hello -j X'],
    ['a flag without value at the end', '-j'],
  ])('rejects %s', (_name, text) => {
    expect(() => rule(text)).toThrow(RuleSyntaxError);
  });
});
