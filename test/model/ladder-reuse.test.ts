// A parse after a rules change keeps the last model's Ladder objects where only counters and lines
// moved (src/model/ladder-reuse.ts). The model must still be exactly what a build without reuse gives
// (counters, lines and all), and a ladder that did change must be the new one.
import { describe, expect, it } from 'vitest';
import { parseDump } from '../../src/iptables/parse-dump.js';
import { generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import { replaceOneEndpoint } from '../../src/bench/replace-endpoint.js';
import { buildServiceModel } from '../../src/model/build-service-model.js';
import { planCounters } from '../../src/model/counter-refresh/counter-plan.js';
import { CounterRefresher } from '../../src/model/counter-refresh/counter-refresher.js';
import { laddersOf } from '../../src/model/counter-refresh/refreshed-model.js';
import { StructureScanner } from '../../src/model/counter-refresh/structure-scanner.js';
import { sameStructure } from '../../src/model/ladder-reuse.js';
import type { Ladder, LadderEndpoint } from '../../src/model/types.js';

/** A generated cluster, its first ladders with ClientIP affinity (`--rcheck` rules counted with their endpoint). */
const text = generateBulkRuleset({ services: 12, endpointsPerService: 3, seed: 7, comments: true }).replace(
  /^(\[\d+:\d+\] -A (KUBE-SVC-[A-D]\w+) )(-m comment --comment "[^"]+" )?-m statistic --mode random --probability [\d.]+ -j (KUBE-SEP-\w+)$/gm,
  (line: string, prefix: string, _chain: string, comment: string | undefined, sep: string) =>
    `${prefix}${comment ?? ''}-m recent --name ${sep} --mask 255.255.255.255 --rsource --rcheck --seconds 10800 --reap -j ${sep}\n${line}`,
);

function scan(t: string) {
  const scanner = new StructureScanner();
  scanner.push(Buffer.from(t, 'utf8'));
  return scanner.end();
}

/** Every counter moved by an amount that depends on its line, so that counters tell lines apart. */
function recount(t: string, step: number): string {
  let index = 0;
  return t.replace(/^\[(\d+):(\d+)\]/gm, (_m, p: string, b: string) => `[${Number(p) + step * (1 + (index++ % 7))}:${b}]`);
}

function build(t: string, reuseLadders?: readonly Ladder[]) {
  const affinityLines = new Map<string, readonly (readonly number[])[]>();
  const model = buildServiceModel(parseDump(t), 'ipv4', { affinityLines, reuseLadders });
  return { model, affinityLines };
}

describe('a model built with the last model’s ladders (reuseLadders)', () => {
  it('the cluster has ClientIP affinity ladders', () => expect(build(text).model.ladders.filter((l) => l.sessionAffinity !== null).length).toBeGreaterThan(0));
  const last = build(text).model;
  const changed = replaceOneEndpoint(recount(text, 3));

  it('equals the model built without them, and keeps every ladder the change left alone', () => {
    const { model } = build(changed.text, last.ladders);
    expect(model).toStrictEqual(build(changed.text).model);
    const touched = laddersOf(model).filter((ladder) => !last.ladders.includes(ladder));
    // The one ladder whose endpoint was replaced is new; it holds the new chain.
    expect(touched).toHaveLength(1);
    expect(touched[0]?.endpoints.map((e) => e.chain)).toContain(changed.to);
    expect(laddersOf(model)).toHaveLength(last.ladders.length);
  });

  it('makes the ladder anew when only an endpoint address changed (a DNAT target under the same SEP chain name)', () => {
    const moved = text.replace(/--to-destination 10\.128\.0\.5:8080$/m, '--to-destination 10.128.9.9:8080');
    expect(moved).not.toBe(text);
    const { model } = build(moved, last.ladders);
    expect(model).toStrictEqual(build(moved).model);
    const touched = laddersOf(model).filter((ladder) => !last.ladders.includes(ladder));
    expect(touched.map((ladder) => ladder.endpoints.map((e) => e.endpoint))).toEqual([expect.arrayContaining(['10.128.9.9:8080'])]);
  });

  it('holds the new lines and counters when every line moved (a line more at the top)', () => {
    const shifted = `# another table's rules were here\n${recount(text, 5)}`;
    const { model, affinityLines } = build(shifted, last.ladders);
    const plain = build(shifted).model;
    expect(model).toStrictEqual(plain);
    // Every ladder kept, though every endpoint's line is one more than in the last model.
    laddersOf(model).forEach((ladder, i) => expect(ladder).toBe(last.ladders[i]));
    expect(plain.ladders[0]?.endpoints[0]?.line).toBe((last.ladders[0]?.endpoints[0]?.line ?? 0) + 1);
    // The counter plan reads the model's lines, not the kept objects' (the last output's).
    const plan = planCounters(model, affinityLines, scan(shifted).packets);
    expect(plan?.ruleLines[0]).toBe(plain.ladders[0]?.endpoints[0]?.line);
  });

  it('places the ladders of services added among the kept ones in the model’s order, and drops those removed', () => {
    const base = generateBulkRuleset({ services: 30, endpointsPerService: 4, seed: 3 });
    const baseLadders = build(base).model.ladders;
    for (const services of [20, 45]) {
      const t = recount(generateBulkRuleset({ services, endpointsPerService: 4, seed: 3 }), 2);
      const { model } = build(t, baseLadders);
      const plain = build(t).model;
      expect(model).toStrictEqual(plain);
      const kept = laddersOf(model).filter((ladder) => baseLadders.includes(ladder)).length;
      expect(kept).toBe(Math.min(services, 30) * (plain.ladders.length / services));
      // The added services' ladders sort among the kept ones, not after them.
      if (services > 30) expect(laddersOf(model).findIndex((ladder) => !baseLadders.includes(ladder))).toBeLessThan(baseLadders.length);
    }
  });

  it('is the plain model when the dump has no counters (nothing to hold as arrays)', () => {
    const bare = text.replace(/^\[\d+:\d+\] /gm, '');
    const { model } = build(bare, last.ladders);
    expect(model.counters).toBeUndefined();
    expect(model.ladders.some((ladder) => last.ladders.includes(ladder))).toBe(false);
  });

  it('through the counter refresher: a rules change keeps the untouched ladders, and refreshes from there', async () => {
    const refresher = new CounterRefresher();
    const first = await refresher.parsed(scan(text), parseDump(text), 'ipv4');
    if ('modelError' in first) throw first.modelError;
    expect(await refresher.refresh(scan(changed.text))).toBeNull();
    const second = await refresher.parsed(scan(changed.text), parseDump(changed.text), 'ipv4');
    if ('modelError' in second) throw second.modelError;
    expect(laddersOf(second.model).filter((ladder) => first.model.ladders.includes(ladder))).toHaveLength(first.model.ladders.length - 1);
    const later = recount(changed.text, 4);
    const read = await refresher.refresh(scan(later));
    expect(read?.model).toStrictEqual(buildServiceModel(parseDump(later), 'ipv4'));
  });
});

describe('sameStructure: everything a ladder shows but its counters and lines', () => {
  const ladder = build(text).model.ladders.find((l) => l.sessionAffinity !== null && l.name !== null) as Ladder;
  const endpoint = (change: Partial<LadderEndpoint>): Ladder => ({ ...ladder, endpoints: ladder.endpoints.map((e, i) => (i === 1 ? { ...e, ...change } : e)) });

  it('ignores counters and lines', () => {
    expect(sameStructure(ladder, { ...endpoint({ connections: 999, affinityConnections: 3, line: 1 }), connections: 12345 })).toBe(true);
  });

  const changes: [string, Ladder][] = [
    ['key', { ...ladder, key: 'ipv4/KUBE-SVC-OTHER' }],
    ['chain', { ...ladder, chain: 'KUBE-SVC-OTHER' }],
    ['policy', { ...ladder, policy: 'local' }],
    ['ipFamily', { ...ladder, ipFamily: 'ipv6' }],
    ['fingerprint', { ...ladder, fingerprint: '0000000000000000' }],
    ['protocol', { ...ladder, protocol: 'udp' }],
    ['clusterIP', { ...ladder, clusterIP: '10.255.255.1' }],
    ['servicePort', { ...ladder, servicePort: 1 }],
    ['nodePort', { ...ladder, nodePort: 30001 }],
    ['unreachableRules', { ...ladder, unreachableRules: 1 }],
    ['name (null)', { ...ladder, name: null }],
    ['name.namespace', { ...ladder, name: { namespace: 'x', service: ladder.name?.service ?? '', port: ladder.name?.port ?? '' } }],
    ['name.service', { ...ladder, name: { namespace: ladder.name?.namespace ?? '', service: 'x', port: ladder.name?.port ?? '' } }],
    ['name.port', { ...ladder, name: { namespace: ladder.name?.namespace ?? '', service: ladder.name?.service ?? '', port: 'x' } }],
    ['sessionAffinity (none)', { ...ladder, sessionAffinity: null }],
    ['sessionAffinity.timeoutSeconds', { ...ladder, sessionAffinity: { timeoutSeconds: 1 } }],
    ['externalIPs', { ...ladder, externalIPs: [...ladder.externalIPs, '192.0.2.1'] }],
    ['loadBalancerIPs', { ...ladder, loadBalancerIPs: [...ladder.loadBalancerIPs, '192.0.2.2'] }],
    ['an endpoint more', { ...ladder, endpoints: [...ladder.endpoints, ladder.endpoints[0] as LadderEndpoint] }],
    ['endpoint address', endpoint({ endpoint: '10.9.9.9:1' })],
    ['endpoint chain', endpoint({ chain: 'KUBE-SEP-OTHER' })],
    ['endpoint probability', endpoint({ probability: 0.125 })],
    ['endpoint programmedRatio', endpoint({ programmedRatio: 0.125 })],
    ['endpoint expectedRatio', endpoint({ expectedRatio: 0.125 })],
  ];
  for (const [field, other] of changes) {
    it(`tells a different ${field} apart`, () => {
      expect(sameStructure(ladder, other)).toBe(false);
      expect(sameStructure(other, ladder)).toBe(false);
    });
  }
});
