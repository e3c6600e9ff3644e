import { describe, expect, it } from 'vitest';
import type { Rule } from '../../src/iptables/types.js';
import { buildServiceModel } from '../../src/model/build-service-model.js';
import type { Ladder } from '../../src/model/types.js';
import { counters, dest, natDump, probability, rule } from './dump-builder.js';
import { fingerprintOf } from './fingerprint-of.js';

// Chain names from kube-proxy's proxier_test.go goldens: ns1/svc1:p80 (tcp) and its endpoints.
const NAME = 'ns1/svc1:p80';
const SUFFIX = 'XPGD46QRK7WJZT7O';
const SVC = `KUBE-SVC-${SUFFIX}`;
const SVL = `KUBE-SVL-${SUFFIX}`;
const EXT = `KUBE-EXT-${SUFFIX}`;
const SEP1 = 'KUBE-SEP-SXIVWICOYRO3J4NJ'; // 10.180.0.1:80
const SEP2 = 'KUBE-SEP-ZX7GRIZKSNUQ3LAJ'; // 10.180.2.1:80
const SEP3 = 'KUBE-SEP-UKSFD7AGPMPPLUHC'; // (ns4/svc4's, reused here as a third chain name)
const SEPS = [SEP1, SEP2, SEP3];
const IPS = ['10.180.0.1', '10.180.2.1', '10.180.0.4'];

function clusterIPEntry(): Rule {
  return rule({ chain: 'KUBE-SERVICES', comment: `${NAME} cluster IP`, protocol: 'tcp', destination: dest('172.30.0.41/32'), dport: 80, target: SVC });
}

function sepChain(chain: string, ip: string, opts: { comment?: string | null; lossy?: boolean } = {}): Rule[] {
  const comment = opts.comment === undefined ? NAME : opts.comment;
  return [
    rule({ chain, source: { address: `${ip}/32`, negated: false }, comment, target: 'KUBE-MARK-MASQ' }),
    rule({
      chain,
      protocol: 'tcp',
      comment,
      target: 'DNAT',
      dnatDestination: opts.lossy === true ? null : `${ip}:80`,
      lossy: opts.lossy === true,
    }),
  ];
}

/** A KUBE-SVC ladder with one rule per probability text (null = the final unconditional rule). */
function ladderRules(chain: string, probabilities: readonly (string | null)[], packets?: readonly number[]): Rule[] {
  return probabilities.map((p, i) =>
    rule({
      chain,
      comment: `${NAME} -> ${IPS[i]}:80`,
      probability: p === null ? null : probability(p),
      counters: packets === undefined ? null : counters(packets[i] ?? 0),
      target: SEPS[i] as string,
    }),
  );
}

function endpointsFor(n: number): Rule[] {
  return SEPS.slice(0, n).flatMap((s, i) => sepChain(s, IPS[i] as string));
}

function only(rules: readonly Rule[], declared: readonly string[] = []): Ladder {
  const ladders = buildServiceModel(natDump(rules, declared), 'ipv4').ladders;
  expect(ladders).toHaveLength(1);
  return ladders[0] as Ladder;
}

describe('programmed and expected shares', () => {
  it.each([
    ['one endpoint', [null], [1]],
    ['uniform 3 (11-decimal kernel rounding)', ['0.33333333349', '0.50000000000', null], [1 / 3, 1 / 3, 1 / 3]],
    ['pre-1.17 5-decimal probabilities', ['0.33332999982', '0.50000000000', null], [0.33332999982, 0.33333500009, 0.33333500009]],
    ['unequal (hand-edited) probabilities', ['0.10000000009', '0.50000000000', null], [0.1, 0.45, 0.45]],
  ] as const)('%s', (_label, probs, shares) => {
    const ladder = only([clusterIPEntry(), ...ladderRules(SVC, probs), ...endpointsFor(probs.length)]);
    expect(ladder.endpoints.map((e) => e.probability)).toEqual(probs.map((p) => (p === null ? null : Number(p))));
    ladder.endpoints.forEach((e, i) => {
      expect(e.programmedRatio).toBeCloseTo(shares[i] as number, 8);
      expect(e.expectedRatio).toBeCloseTo(1 / probs.length, 12);
    });
    expect(ladder.fingerprint).toBe(fingerprintOf(probs.map((p, i) => [SEPS[i] as string, p])));
  });
});

describe('connections', () => {
  it('sums jump counters per endpoint and per ladder', () => {
    const ladder = only([clusterIPEntry(), ...ladderRules(SVC, ['0.33333333349', '0.50000000000', null], [5, 3, 2]), ...endpointsFor(3)]);
    expect(ladder.endpoints.map((e) => e.connections)).toEqual([5, 3, 2]);
    expect(ladder.endpoints.map((e) => e.affinityConnections)).toEqual([null, null, null]);
    expect(ladder.connections).toBe(10);
  });

  it('is null everywhere when the dump has no counters', () => {
    const ladder = only([clusterIPEntry(), ...ladderRules(SVC, ['0.50000000000', null]), ...endpointsFor(2)]);
    expect(ladder.endpoints.map((e) => e.connections)).toEqual([null, null]);
    expect(ladder.connections).toBeNull();
  });

  it('is 0 for an empty ladder in a dump with counters', () => {
    const ladders = buildServiceModel(
      natDump([rule({ chain: 'KUBE-SERVICES', comment: `${NAME} cluster IP`, counters: counters(4), destination: dest('172.30.0.41/32'), target: SVC })]),
      'ipv4',
    ).ladders;
    expect(ladders[0]?.connections).toBe(0);
    expect(ladders[0]?.endpoints).toEqual([]);
  });
});

describe('ClientIP session affinity', () => {
  const affinity = (sep: string, packets: number): Rule =>
    rule({ chain: SVC, comment: NAME, recent: { mode: 'rcheck', name: sep, seconds: 10800 }, counters: counters(packets), target: sep });

  it('reads the timeout and adds affinity hits to the endpoint they jump to', () => {
    const ladder = only([
      clusterIPEntry(),
      affinity(SEP1, 7),
      affinity(SEP2, 0),
      ...ladderRules(SVC, ['0.50000000000', null], [4, 6]),
      ...endpointsFor(2),
    ]);
    expect(ladder.sessionAffinity).toEqual({ timeoutSeconds: 10800 });
    expect(ladder.endpoints.map((e) => e.chain)).toEqual([SEP1, SEP2]);
    expect(ladder.endpoints.map((e) => e.affinityConnections)).toEqual([7, 0]);
    expect(ladder.endpoints.map((e) => e.connections)).toEqual([11, 6]);
    expect(ladder.connections).toBe(17);
    // Affinity rules are not load-balancing rules: shares come from the random rules only.
    expect(ladder.endpoints.map((e) => e.programmedRatio)).toEqual([0.5, 0.5]);
  });

  it('has no sessionAffinity and null affinityConnections without --rcheck rules', () => {
    const ladder = only([clusterIPEntry(), ...ladderRules(SVC, [null], [1]), ...endpointsFor(1)]);
    expect(ladder.sessionAffinity).toBeNull();
    expect(ladder.endpoints[0]?.affinityConnections).toBeNull();
  });

  it('warns about an affinity rule for an endpoint with no load-balancing rule', () => {
    const model = buildServiceModel(natDump([clusterIPEntry(), affinity(SEP3, 1), ...ladderRules(SVC, [null], [1]), ...endpointsFor(1)]), 'ipv4');
    expect(model.ladders[0]?.endpoints.map((e) => e.chain)).toEqual([SEP1]);
    expect(model.warnings.join('\n')).toContain(SEP3);
  });
});

describe('unreachable rules', () => {
  it('counts rules after the first unconditional jump and never makes them endpoints', () => {
    const ladder = only([
      clusterIPEntry(),
      ...ladderRules(SVC, ['0.50000000000', null], [1, 2]),
      // The same block pasted again (real dump 10), with counters that must not be summed.
      rule({ chain: SVC, comment: `${NAME} cluster IP`, destination: dest('172.30.0.41/32'), target: 'KUBE-MARK-MASQ' }),
      ...ladderRules(SVC, ['0.50000000000', null], [100, 200]),
      ...endpointsFor(2),
    ]);
    expect(ladder.endpoints.map((e) => e.chain)).toEqual([SEP1, SEP2]);
    expect(ladder.unreachableRules).toBe(3);
    expect(ladder.connections).toBe(3);
  });
});

describe('endpoint address', () => {
  const oneLadder = (ladderComment: string | null, sepRules: readonly Rule[], declared: readonly string[] = []): string | null => {
    const ladder = only([clusterIPEntry(), rule({ chain: SVC, comment: ladderComment, target: SEP1 }), ...sepRules], declared);
    return ladder.endpoints[0]?.endpoint ?? null;
  };

  it.each([
    ['DNAT target', `${NAME} -> 10.9.9.9:80`, sepChain(SEP1, '10.180.0.1'), '10.180.0.1:80'],
    ['lossy DNAT: hairpin IP + comment port', `${NAME} -> 10.180.0.1:8080`, sepChain(SEP1, '10.180.0.1', { lossy: true }), '10.180.0.1:8080'],
    ['lossy DNAT, no comments (large cluster): bare hairpin IP', null, sepChain(SEP1, '10.180.0.1', { lossy: true, comment: null }), '10.180.0.1'],
    ['no SEP rules: the "-> ip:port" comment', `${NAME} -> 10.180.0.1:80`, [], '10.180.0.1:80'],
    ['SEP declared with no rules and no comment (real dump 01)', NAME, [], null],
    [
      'IPv6 hairpin + comment port',
      `${NAME} -> [fd00:10:180::1]:80`,
      [
        rule({ chain: SEP1, source: { address: 'fd00:10:180::1/128', negated: false }, target: 'KUBE-MARK-MASQ' }),
        rule({ chain: SEP1, protocol: 'tcp', target: 'DNAT', lossy: true }),
      ],
      '[fd00:10:180::1]:80',
    ],
    ['IPv6 DNAT target', null, [rule({ chain: SEP1, protocol: 'tcp', target: 'DNAT', dnatDestination: '[fd00:10:180::1]:80' })], '[fd00:10:180::1]:80'],
  ] as const)('%s', (_label, comment, sepRules, expected) => {
    expect(oneLadder(comment, sepRules, [SEP1])).toBe(expected);
  });
});

describe('service port name', () => {
  const svcJump = (comment: string | null, target = SEP1): Rule => rule({ chain: SVC, comment, target });
  it.each([
    ['KUBE-SERVICES "cluster IP" comment', [clusterIPEntry(), svcJump(null)], 'ns1/svc1:p80'],
    [
      'masquerade rule in KUBE-SVC',
      [rule({ chain: SVC, comment: `${NAME} cluster IP`, destination: dest('172.30.0.41/32'), protocol: 'tcp', target: 'KUBE-MARK-MASQ' }), svcJump(null)],
      'ns1/svc1:p80',
    ],
    ['SVC→SEP "<svc> -> ip:port" comment', [svcJump(`${NAME} -> 10.180.0.1:80`)], 'ns1/svc1:p80'],
    ['pre-1.24 SVC→SEP "<svc>" comment', [svcJump(NAME)], 'ns1/svc1:p80'],
    ['SEP chain comment only', [svcJump(null), ...sepChain(SEP1, '10.180.0.1')], 'ns1/svc1:p80'],
    [
      'KUBE-EXT "... for <svc> external destinations"',
      [rule({ chain: EXT, comment: `masquerade traffic for ${NAME} external destinations`, target: 'KUBE-MARK-MASQ' }), rule({ chain: EXT, target: SVC }), svcJump(null)],
      'ns1/svc1:p80',
    ],
    ['KUBE-NODEPORTS comment', [rule({ chain: 'KUBE-NODEPORTS', comment: NAME, protocol: 'tcp', dport: 3001, target: SVC }), svcJump(null)], 'ns1/svc1:p80'],
  ] as const)('from the %s', (_label, rules, expected) => {
    const ladder = only(rules, [SEP1]);
    expect(ladder.name).not.toBeNull();
    expect(`${ladder.name?.namespace}/${ladder.name?.service}:${ladder.name?.port}`).toBe(expected);
  });

  it('prefers the candidate whose hash gives the chain suffix over a higher-priority comment', () => {
    const model = buildServiceModel(
      natDump([
        rule({ chain: 'KUBE-SERVICES', comment: 'ns1/wrong:p80 cluster IP', protocol: 'tcp', destination: dest('172.30.0.41/32'), target: SVC }),
        svcJump(`${NAME} -> 10.180.0.1:80`),
      ]),
      'ipv4',
    );
    expect(model.ladders[0]?.name).toEqual({ namespace: 'ns1', service: 'svc1', port: 'p80' });
    expect(model.warnings).toEqual([]);
  });

  it('derives the protocol from the hash when no rule has -p', () => {
    const ladder = only([svcJump(`${NAME} -> 10.180.0.1:80`)]);
    expect(ladder.protocol).toBe('tcp');
  });

  it('reads the pre-1.19 "ns/svc:" spelling as an unnamed port', () => {
    const ladder = only([rule({ chain: 'KUBE-SVC-1111111111111111', comment: 'default/kubernetes:', target: SEP1 })]);
    expect(ladder.name).toEqual({ namespace: 'default', service: 'kubernetes', port: '' });
  });

  it('uses an unverifiable name but warns when the protocol is known', () => {
    const model = buildServiceModel(natDump([rule({ chain: 'KUBE-SVC-1111111111111111', comment: 'ns9/other:p1', protocol: 'tcp', destination: dest('10.0.0.9/32'), target: 'KUBE-MARK-MASQ' })]), 'ipv4');
    expect(model.ladders[0]?.name).toEqual({ namespace: 'ns9', service: 'other', port: 'p1' });
    expect(model.warnings.join('\n')).toContain('KUBE-SVC-1111111111111111');
  });

  it('is null without any comment (and such ladders sort last)', () => {
    const model = buildServiceModel(
      natDump([rule({ chain: 'KUBE-SVC-AAAAAAAAAAAAAAAA', target: SEP1 }), clusterIPEntry(), svcJump(null)]),
      'ipv4',
    );
    expect(model.ladders.map((l) => [l.chain, l.name === null])).toEqual([
      [SVC, false],
      ['KUBE-SVC-AAAAAAAAAAAAAAAA', true],
    ]);
  });
});

describe('service port facts', () => {
  it('reads cluster IP, port, protocol, node port, external and load-balancer IPs from the entry rules', () => {
    const model = buildServiceModel(
      natDump([
        clusterIPEntry(),
        rule({ chain: 'KUBE-SERVICES', comment: `${NAME} external IP`, protocol: 'tcp', destination: dest('192.168.99.22/32'), dport: 80, target: EXT }),
        rule({ chain: 'KUBE-SERVICES', comment: `${NAME} loadbalancer IP`, protocol: 'tcp', destination: dest('1.2.3.4/32'), dport: 80, target: EXT }),
        rule({ chain: 'KUBE-NODEPORTS', comment: NAME, protocol: 'tcp', dport: 3001, target: EXT }),
        rule({ chain: EXT, comment: `pod traffic for ${NAME} external destinations`, source: { address: '10.0.0.0/8', negated: false }, target: SVC }),
        rule({ chain: EXT, target: SVL }),
        ...ladderRules(SVC, [null]),
        ...ladderRules(SVL, [null]),
        ...endpointsFor(1),
      ]),
      'ipv4',
    );
    expect(model.ladders.map((l) => [l.chain, l.policy])).toEqual([
      [SVC, 'cluster'],
      [SVL, 'local'],
    ]);
    for (const l of model.ladders) {
      expect(l).toMatchObject({
        protocol: 'tcp',
        clusterIP: '172.30.0.41',
        servicePort: 80,
        nodePort: 3001,
        externalIPs: ['192.168.99.22'],
        loadBalancerIPs: ['1.2.3.4'],
        key: `ipv4/${l.chain}`,
      });
    }
  });

  it('fills a missing cluster IP from a sibling port of the same Service', () => {
    const https = 'KUBE-EXT-RX2GVUFA32EFJN3A';
    const model = buildServiceModel(
      natDump([
        rule({ chain: 'KUBE-SERVICES', comment: 'app-routing-system/nginx:https loadbalancer IP', protocol: 'tcp', destination: dest('4.225.209.242/32'), target: https }),
        rule({ chain: 'KUBE-SVC-EEQNXCJLUUVUU2YK', comment: 'app-routing-system/nginx:http cluster IP', protocol: 'tcp', destination: dest('10.0.199.21/32'), target: 'KUBE-MARK-MASQ' }),
      ]),
      'ipv4',
    );
    // KUBE-SVC-RX2… is named by the shared suffix: only its KUBE-EXT chain is referenced.
    expect(model.ladders.map((l) => [l.chain, l.clusterIP, l.endpoints.length])).toEqual([
      ['KUBE-SVC-EEQNXCJLUUVUU2YK', '10.0.199.21', 0],
      ['KUBE-SVC-RX2GVUFA32EFJN3A', '10.0.199.21', 0],
    ]);
  });

  it('takes the cluster IP from a pre-1.23 masquerade rule in KUBE-SERVICES when the jump has no -d', () => {
    const ladder = only([
      rule({ chain: 'KUBE-SERVICES', comment: `${NAME} cluster IP`, source: { address: '10.0.0.0/8', negated: true }, destination: dest('172.30.0.41/32'), protocol: 'tcp', dport: 80, target: 'KUBE-MARK-MASQ' }),
      rule({ chain: 'KUBE-SERVICES', comment: `${NAME} cluster IP`, protocol: 'tcp', target: SVC }),
    ]);
    expect([ladder.clusterIP, ladder.servicePort]).toEqual(['172.30.0.41', 80]);
  });

  it('does not read a NodePort masquerade rule in KUBE-SVC (no -d) as the service port', () => {
    const ladder = only([
      rule({ chain: 'KUBE-NODEPORTS', comment: NAME, protocol: 'tcp', dport: 3002, target: SVC }),
      rule({ chain: SVC, comment: NAME, protocol: 'tcp', dport: 3002, target: 'KUBE-MARK-MASQ' }),
    ]);
    expect([ladder.clusterIP, ladder.servicePort, ladder.nodePort]).toEqual([null, null, 3002]);
  });
});

describe('ladder discovery', () => {
  it('models declared chains nothing references, and referenced chains nothing declares', () => {
    const model = buildServiceModel(natDump([rule({ chain: EXT, target: SVL })], [SVC]), 'ipv4');
    expect(model.ladders.map((l) => l.chain).sort()).toEqual([SVC, SVL]);
  });

  it('treats pre-1.24 KUBE-XLB as a local ladder and ignores its non-SEP jumps', () => {
    const xlb = 'KUBE-XLB-QKNQQNIN727HO3XU';
    const model = buildServiceModel(
      natDump([
        rule({ chain: xlb, comment: 'Redirect pods trying to reach external loadbalancer VIP to clusterIP', source: { address: '10.244.0.0/16', negated: false }, target: 'KUBE-SVC-QKNQQNIN727HO3XU' }),
        rule({ chain: xlb, comment: 'Balancing rule 0 for default/test-svc', probability: probability('0.50000000000'), target: 'KUBE-SEP-SQEBHSRBMT4ZUBXZ' }),
        rule({ chain: xlb, comment: 'Balancing rule 1 for default/test-svc', target: 'KUBE-SEP-SUSDB4Q4CAFDFR7F' }),
      ]),
      'ipv4',
    );
    const ladder = model.ladders.find((l) => l.chain === xlb);
    expect(ladder?.policy).toBe('local');
    expect(ladder?.name).toEqual({ namespace: 'default', service: 'test-svc', port: '' });
    expect(ladder?.endpoints.map((e) => e.chain)).toEqual(['KUBE-SEP-SQEBHSRBMT4ZUBXZ', 'KUBE-SEP-SUSDB4Q4CAFDFR7F']);
    // The KUBE-SVC chain it redirects pod traffic to is a (here empty) cluster ladder of the same service.
    expect(model.ladders.map((l) => [l.chain, l.policy])).toEqual([
      ['KUBE-SVC-QKNQQNIN727HO3XU', 'cluster'],
      [xlb, 'local'],
    ]);
  });

  it('returns no ladders when the dump has no nat table, and passes skipped lines and warnings through', () => {
    const model = buildServiceModel(
      { tables: new Map(), skipped: [{ line: 1, reason: 'not-iptables', excerpt: '$ iptables-save' }], hasCounters: false, lineCount: 1, truncated: false, warnings: ['w'] },
      'ipv6',
    );
    expect(model).toEqual({ ipFamily: 'ipv6', ladders: [], skipped: [{ line: 1, reason: 'not-iptables', excerpt: '$ iptables-save' }], hasCounters: false, warnings: ['w'] });
  });
});

describe('truncated input', () => {
  it('warns that ladders may be incomplete', () => {
    const dump = { ...natDump([clusterIPEntry(), ...ladderRules(SVC, ['0.50000000000'])]), truncated: true };
    const model = buildServiceModel(dump, 'ipv4');
    expect(model.warnings.join('\n')).toMatch(/truncated/);
    // The cut-off ladder is still reported as read, without its missing final rule.
    expect(model.ladders[0]?.endpoints.map((e) => e.chain)).toEqual([SEP1]);
  });
});

describe('ordering', () => {
  it('sorts by namespace, service, port, policy, chain', () => {
    const entry = (name: string, chain: string): Rule => rule({ chain: 'KUBE-SERVICES', comment: `${name} cluster IP`, target: chain });
    const model = buildServiceModel(
      natDump([
        entry('b/svc:p', 'KUBE-SVC-BBBBBBBBBBBBBBB1'),
        entry('a/svc:q', 'KUBE-SVL-AAAAAAAAAAAAAAA2'),
        entry('a/svc:q', 'KUBE-SVC-AAAAAAAAAAAAAAA2'),
        entry('a/svc:p', 'KUBE-SVC-AAAAAAAAAAAAAAA1'),
        entry('a/api', 'KUBE-SVC-AAAAAAAAAAAAAAA3'),
      ]),
      'ipv4',
    );
    expect(model.ladders.map((l) => l.chain)).toEqual([
      'KUBE-SVC-AAAAAAAAAAAAAAA3',
      'KUBE-SVC-AAAAAAAAAAAAAAA1',
      'KUBE-SVC-AAAAAAAAAAAAAAA2',
      'KUBE-SVL-AAAAAAAAAAAAAAA2',
      'KUBE-SVC-BBBBBBBBBBBBBBB1',
    ]);
  });
});
