// The memory benchmark's halfway rules change must be one a real rewrite looks like: one endpoint of
// one ladder replaced, the rest of the model as it was, and an output the counter refresh cannot reuse.
import { describe, expect, it } from 'vitest';
import { replaceOneEndpoint, resync } from '../../src/bench/replace-endpoint.js';
import { parseDump } from '../../src/iptables/parse-dump.js';
import { generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import { buildServiceModel } from '../../src/model/build-service-model.js';
import { StructureScanner } from '../../src/model/counter-refresh/structure-scanner.js';

const digest = (text: string): string => {
  const scanner = new StructureScanner();
  scanner.push(text);
  return scanner.end().digest;
};

describe('replaceOneEndpoint', () => {
  it('renames one KUBE-SEP chain everywhere and moves its address; every other endpoint stays', () => {
    const text = generateBulkRuleset({ services: 6, endpointsPerService: 3, seed: 2, comments: true });
    const changed = replaceOneEndpoint(text);
    expect(changed.to).not.toBe(changed.from);
    expect(changed.to).toMatch(/^KUBE-SEP-[A-Z2-7]{16}$/);
    expect(changed.text).not.toContain(changed.from);
    expect(digest(changed.text)).not.toBe(digest(text));

    const endpoints = (t: string) => buildServiceModel(parseDump(t), 'ipv4').ladders.flatMap((l) => l.endpoints.map((e) => `${e.chain} ${e.endpoint ?? ''}`));
    const before = endpoints(text);
    const after = endpoints(changed.text);
    expect(after.length).toBe(before.length);
    const differ = before.map((e, i) => [e, after[i]]).filter(([a, b]) => a !== b);
    expect(differ).toHaveLength(1);
    const [old, now] = differ[0] as [string, string];
    const [oldChain, oldAddress] = old.split(' ') as [string, string];
    const [newChain, newAddress] = now.split(' ') as [string, string];
    expect([oldChain, newChain]).toEqual([changed.from, changed.to]);
    const port = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));
    expect(newAddress.slice(0, newAddress.lastIndexOf(':'))).toBe(oldAddress.slice(0, oldAddress.lastIndexOf(':')));
    expect(port(newAddress)).toBe(port(oldAddress) + 1);
  });

  it('writes KUBE-SERVICES and KUBE-NODEPORTS in another order, as every kube-proxy sync does; a resync alone keeps the structure', () => {
    const text = generateBulkRuleset({ services: 30, endpointsPerService: 2, seed: 3, nodePortEvery: 3 });
    const entryRules = (t: string) => t.split('\n').filter((l) => / -A KUBE-(SERVICES|NODEPORTS) /.test(l));
    for (const synced of [replaceOneEndpoint(text).text, resync(text)]) {
      expect(entryRules(synced)).not.toEqual(entryRules(text));
      expect([...entryRules(synced)].sort()).toEqual([...entryRules(text)].sort());
    }
    expect(digest(resync(text))).toBe(digest(text));
  });

  it('names the missing chain when there is none', () => {
    expect(() => replaceOneEndpoint('*nat\nCOMMIT\n')).toThrow('bench: the ruleset has no KUBE-SEP chain to replace');
  });
});
