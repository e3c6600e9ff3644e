import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labRegistry } from '../../src/lab/cleanup-registry.js';
import { runInNamespace } from '../../src/lab/command.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { createNamespace, deleteNamespace, nextLabStem } from '../../src/lab/netns.js';
import { generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import { renderRuleset } from '../../src/lab/ruleset/render.js';
import { defaultLabScenario } from '../../src/lab/scenario.js';
import { driveTraffic } from '../../src/lab/traffic.js';
import { serviceChainName } from '../../src/model/chain-names.js';
import { ladderCounts, ruleLines, toObject } from '../support/lab-counters.js';
import { labAvailable } from '../support/lab-env.js';

describe.skipIf(!labAvailable)('pre-1.24 layout in large-cluster mode (legacy backend)', () => {
  let lab: Lab;
  beforeAll(async () => {
    const full = defaultLabScenario();
    const keep = new Set(['shop/web', 'shop/checkout']);
    lab = await startLab({
      backend: 'legacy',
      layout: 'v1.20',
      comments: false,
      scenario: { ...full, services: full.services.filter((s) => keep.has(`${s.namespace}/${s.name}`)) },
    });
  });
  afterAll(async () => {
    await lab?.teardown();
  });

  it('loads the rules the generator predicts, without ladder comments', async () => {
    const predicted = renderRuleset(lab.scenario, { family: 'ipv4', layout: 'v1.20', comments: false, style: 'save', bootstrap: true });
    const saved = await lab.save('ipv4');
    expect(ruleLines(saved)).toEqual(ruleLines(predicted.slice(predicted.indexOf('*nat'))));
    expect(saved).toContain(':KUBE-XLB-');
    expect(saved).not.toContain('KUBE-SVL-');
  });

  it('counts through KUBE-SVC (NodePort, Cluster) and KUBE-XLB (NodePort, Local)', async () => {
    const web = await driveTraffic(lab, { service: 'shop/web', count: 90, via: 'node-port' });
    const checkout = await driveTraffic(lab, { service: 'shop/checkout', count: 90, via: 'node-port' });
    expect(web.failures + checkout.failures).toBe(0);
    const saved = await lab.save('ipv4');
    expect(toObject(ladderCounts(saved, serviceChainName('KUBE-SVC-', 'shop/web', 'tcp')))).toEqual(toObject(web.counts));
    expect(toObject(ladderCounts(saved, serviceChainName('KUBE-XLB-', 'shop/checkout:http', 'tcp')))).toEqual(toObject(checkout.counts));
    expect(checkout.counts.size).toBe(2);
  });
});

describe.skipIf(!labAvailable)('bulk generator against the kernel', () => {
  it.each(['legacy', 'nft'] as const)('iptables-%s-save prints the generated table back byte for byte (rules and counters)', async (backend) => {
    const ns = `${nextLabStem()}-bulk`;
    try {
      await createNamespace(ns);
      const text = generateBulkRuleset({ services: 60, endpointsPerService: 4, nodePortEvery: 7 });
      await runInNamespace(ns, `iptables-${backend}-restore`, ['--counters'], { input: text });
      const saved = (await runInNamespace(ns, `iptables-${backend}-save`, ['-c', '-t', 'nat'])).stdout;
      const body = (t: string): string[] => t.split('\n').filter((l) => !l.startsWith('#') && l.length > 0);
      expect(body(saved)).toEqual(body(text));
    } finally {
      await deleteNamespace(ns);
    }
    expect(labRegistry.list().some((r) => r.kind === 'netns' && r.name === ns)).toBe(false);
  });
});
