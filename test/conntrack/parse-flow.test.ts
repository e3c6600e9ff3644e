import { describe, expect, it } from 'vitest';
import { endpointOf, parseConntrackLine } from '../../src/conntrack/parse-flow.js';

const TCP_ACCT =
  'ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.5 dst=10.96.0.10 sport=41001 dport=80 packets=12 bytes=900000 ' +
  'src=10.244.1.5 dst=10.0.0.5 sport=8080 dport=41001 packets=8 bytes=5000 [ASSURED] mark=0 use=1 id=1001';

describe('parseConntrackLine', () => {
  it('reads both tuples, state, flags, id and counters', () => {
    expect(parseConntrackLine(TCP_ACCT)).toEqual({
      ipFamily: 'ipv4',
      protocol: 'tcp',
      state: 'ESTABLISHED',
      origSrc: '10.0.0.5',
      origDst: '10.96.0.10',
      origSport: 41001,
      origDport: 80,
      replySrc: '10.244.1.5',
      replySport: 8080,
      assured: true,
      unreplied: false,
      id: '1001',
      original: { packets: 12, bytes: 900000 },
      reply: { packets: 8, bytes: 5000 },
    });
  });

  it.each([
    [
      'accounting off: no counters',
      'ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.5 dst=10.96.0.10 sport=1 dport=80 src=10.244.1.5 dst=10.0.0.5 sport=8080 dport=1 [ASSURED] mark=0 use=1 id=7',
      { original: null, reply: null, assured: true, id: '7' },
    ],
    [
      'udp has no state word; [UNREPLIED] sits between the tuples',
      'ipv4     2 udp      17 29 src=10.0.0.5 dst=10.96.0.53 sport=53001 dport=53 packets=1 bytes=60 [UNREPLIED] src=10.244.0.2 dst=10.0.0.5 sport=53 dport=53001 packets=0 bytes=0 mark=0 use=1 id=1005',
      { protocol: 'udp', state: null, unreplied: true, assured: false, reply: { packets: 0, bytes: 0 } },
    ],
    [
      'no id printed (-o extended without id)',
      'ipv4     2 tcp      6 119 TIME_WAIT src=10.0.0.5 dst=10.96.0.10 sport=2 dport=80 src=10.244.2.9 dst=10.0.0.5 sport=8080 dport=2 [ASSURED] mark=0 use=1',
      { state: 'TIME_WAIT', id: null },
    ],
    [
      'ipv6 with a zone',
      'ipv6     10 tcp      6 431999 ESTABLISHED src=fd00:100::2 dst=fd00:10:96::1a sport=40000 dport=9000 packets=4 bytes=400 src=fd00:10:244::5 dst=fd00:100::2 sport=9000 dport=40000 packets=3 bytes=300 [ASSURED] mark=0 zone=0 use=1 id=3001',
      { ipFamily: 'ipv6', origDst: 'fd00:10:96::1a', replySrc: 'fd00:10:244::5', replySport: 9000, id: '3001' },
    ],
  ])('%s', (_name, line, expected) => {
    expect(parseConntrackLine(line)).toMatchObject(expected);
  });

  it.each([
    ['icmp (no ports)', 'ipv4     2 icmp     1 29 src=10.0.0.5 dst=10.96.0.10 type=8 code=0 id=77 src=10.96.0.10 dst=10.0.0.5 type=0 code=0 id=77 mark=0 use=1 id=1008'],
    ['the summary line', 'conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.'],
    ['empty', ''],
    ['garbage', 'ipv4 2 tcp'],
    ['truncated after the first tuple', 'ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.5 dst=10.96.0.10 sport=41001 dport=80'],
  ])('returns null for %s', (_name, line) => {
    expect(parseConntrackLine(line)).toBeNull();
  });

  it('asks the filter with the original destination only, and stops when it says no', () => {
    const seen: unknown[] = [];
    expect(
      parseConntrackLine(TCP_ACCT, (protocol, dst, dport) => {
        seen.push([protocol, dst, dport]);
        return false;
      }),
    ).toBeNull();
    expect(seen).toEqual([['tcp', '10.96.0.10', 80]]);
  });
});

describe('endpointOf', () => {
  it('writes endpoints the way kube-proxy does', () => {
    expect(endpointOf('ipv4', '10.244.1.5', 8080)).toBe('10.244.1.5:8080');
    expect(endpointOf('ipv6', 'FD00::5', 9000)).toBe('[fd00::5]:9000');
  });
});
