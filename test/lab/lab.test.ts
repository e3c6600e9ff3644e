import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labRegistry } from '../../src/lab/cleanup-registry.js';
import { rewriteService, setEndpoints } from '../../src/lab/kube-proxy-sim.js';
import { startLab, type Lab, type LabBackend } from '../../src/lab/lab.js';
import { listLabNamespaces } from '../../src/lab/netns.js';
import { renderRuleset } from '../../src/lab/ruleset/render.js';
import { driveTraffic, mergeCounts, type TrafficRequest } from '../../src/lab/traffic.js';
import { endpointChainName, serviceChainName } from '../../src/model/chain-names.js';
import { dnatCounts, ladderCounts, ruleLines, toObject } from '../support/lab-counters.js';
import { labAvailable } from '../support/lab-env.js';

const SVC = (name: string, protocol = 'tcp'): string => serviceChainName('KUBE-SVC-', name, protocol);
const SVL = (name: string, protocol = 'tcp'): string => serviceChainName('KUBE-SVL-', name, protocol);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Drives traffic and insists every connection was answered. */
async function drive(lab: Lab, request: TrafficRequest): Promise<Map<string, number>> {
  const result = await driveTraffic(lab, request);
  expect(result.errors, JSON.stringify(request)).toEqual([]);
  expect(result.failures).toBe(0);
  expect(result.total).toBe(request.count);
  return new Map(result.counts);
}

describe.skipIf(!labAvailable).each<LabBackend>(['nft', 'legacy'])('lab on the %s backend', (backend) => {
  let lab: Lab;
  let pids: number[] = [];

  beforeAll(async () => {
    lab = await startLab({ backend });
    pids = lab.pids;
  });

  afterAll(async () => {
    if (lab === undefined) return;
    const stem = lab.stem;
    await lab.teardown();
    // Teardown leaves nothing behind: no namespace of this lab, no server process, nothing registered.
    expect((await listLabNamespaces()).filter((n) => n.startsWith(`${stem}-`))).toEqual([]);
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(labRegistry.list().filter((r) => (r.kind === 'netns' && r.name.startsWith(stem)) || (r.kind === 'dir' && r.path.includes(stem)))).toEqual([]);
  });

  it('loads exactly the rules the generator predicts iptables-save will print', async () => {
    for (const family of lab.families) {
      const predicted = renderRuleset(lab.scenario, { family, style: 'save', bootstrap: true });
      const nat = predicted.slice(predicted.indexOf('*nat'));
      expect(ruleLines(await lab.save(family, 'nat'))).toEqual(ruleLines(nat));
      const filter = predicted.slice(predicted.indexOf('*filter'), predicted.indexOf('*nat'));
      expect(ruleLines(await lab.save(family, 'filter'))).toEqual(ruleLines(filter));
    }
  });

  it('TCP through ClusterIP (node and client) and NodePort: SVC→SEP counters equal the answers', async () => {
    const truth = mergeCounts(
      await drive(lab, { service: 'shop/web', count: 150, from: 'node' }),
      await drive(lab, { service: 'shop/web', count: 100, from: 'client' }),
      await drive(lab, { service: 'shop/web', count: 100, from: 'client', via: 'node-port' }),
    );
    expect(truth.size).toBe(3);
    const save = await lab.save('ipv4');
    expect(toObject(ladderCounts(save, SVC('shop/web')))).toEqual(toObject(truth));
    // The DNAT rule in each SEP chain counts the same connections.
    for (const { endpoint, packets } of dnatCounts(save).values()) {
      if (endpoint.endsWith(':8080') && !endpoint.startsWith('[')) expect(packets, endpoint).toBe(truth.get(endpoint) ?? 0);
    }
    // The client closed every connection first, so no pod holds a TIME_WAIT that could refuse a later
    // SYN reusing its port and turn one answered connection into two counted flows (traffic-client.ts).
    for (const ns of lab.podNamespaces.values()) {
      expect((await lab.exec(ns, 'ss', ['-Htan', 'state', 'time-wait'])).stdout.trim(), ns).toBe('');
    }
  });

  it('externalTrafficPolicy Local: NodePort traffic uses KUBE-SVL over node-local pods, ClusterIP uses KUBE-SVC', async () => {
    const external = await drive(lab, { service: 'shop/checkout', count: 120, via: 'node-port' });
    expect([...external.keys()].sort()).toEqual(['10.244.1.11:8081', '10.244.1.12:8081']);
    const internal = await drive(lab, { service: 'shop/checkout', count: 90, from: 'node' });
    const save = await lab.save('ipv4');
    expect(toObject(ladderCounts(save, SVL('shop/checkout:http')))).toEqual(toObject(external));
    expect(toObject(ladderCounts(save, SVC('shop/checkout:http')))).toEqual(toObject(internal));
  });

  it('UDP counts distinct flows; a reused source port is one flow', async () => {
    const flows = await drive(lab, { service: 'kube-system/dns', port: 'dns', count: 120, concurrency: 24 });
    let save = await lab.save('ipv4');
    expect(toObject(ladderCounts(save, SVC('kube-system/dns:dns', 'udp')))).toEqual(toObject(flows));
    const reused = await drive(lab, { service: 'kube-system/dns', port: 'dns', count: 15, reuseSourcePort: true });
    expect(reused.size).toBe(1); // one conntrack flow: every datagram reaches the same endpoint
    save = await lab.save('ipv4');
    const after = ladderCounts(save, SVC('kube-system/dns:dns', 'udp'));
    let total = 0;
    for (const n of after.values()) total += n;
    expect(total).toBe(120 + 1);
    // The TCP port of the same Service is a separate ladder with its own chain names.
    const tcp = await drive(lab, { service: 'kube-system/dns', port: 'dns-tcp', count: 40 });
    expect(toObject(ladderCounts(await lab.save('ipv4'), SVC('kube-system/dns:dns-tcp')))).toEqual(toObject(tcp));
  });

  it('ClientIP affinity sends each client to one endpoint; counters include the affinity rules', async () => {
    const fromNode = await drive(lab, { service: 'shop/cart', count: 40, from: 'node', concurrency: 1 });
    expect(fromNode.size).toBe(1);
    const perClient: Map<string, number>[] = [];
    for (let i = 0; i < lab.clientAddresses.ipv4.length; i++) {
      perClient.push(await drive(lab, { service: 'shop/cart', count: 20, clientAddress: i, concurrency: 1 }));
    }
    for (const counts of perClient) expect(counts.size).toBe(1);
    const save = await lab.save('ipv4');
    expect(toObject(ladderCounts(save, SVC('shop/cart:http')))).toEqual(toObject(mergeCounts(fromNode, ...perClient)));
    // The source is remembered in the SEP chain's `recent` list, checked by `--rcheck` rules in KUBE-SVC.
    expect(save).toMatch(/-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-\w+ --mask 255\.255\.255\.255 --rsource -j KUBE-SEP-/);
  });

  it('a deliberately non-uniform ladder skews the traffic; a single endpoint takes everything', async () => {
    const skewed = await drive(lab, { service: 'shop/search', count: 300, from: 'node', concurrency: 24 });
    const first = skewed.get('10.244.1.11:8084') ?? 0;
    // p = 0.8: 240 expected, sd ≈ 6.9; 0.7..0.9 is more than 4 sd either way.
    expect(first / 300).toBeGreaterThan(0.7);
    expect(first / 300).toBeLessThan(0.9);
    expect(toObject(ladderCounts(await lab.save('ipv4'), SVC('shop/search:http')))).toEqual(toObject(skewed));
    const single = await drive(lab, { service: 'default/kubernetes', count: 20, from: 'node' });
    expect(toObject(single)).toEqual({ '10.244.1.10:6443': 20 });
    expect(toObject(ladderCounts(await lab.save('ipv4'), 'KUBE-SVC-NPX46M4PTMTKRN6Y'))).toEqual({ '10.244.1.10:6443': 20 });
  });

  it('a Service with no endpoints is REJECTed by the filter table', async () => {
    const result = await driveTraffic(lab, { service: 'shop/legacy', count: 10, from: 'node', timeoutMs: 2_000 });
    expect(result.total).toBe(0);
    expect(result.failures).toBe(10);
    expect(result.errors.join(' ')).toMatch(/ECONNREFUSED/);
    const filter = await lab.save('ipv4', 'filter');
    expect(filter).toMatch(/\[10:\d+\] -A KUBE-SERVICES -d 10\.96\.10\.40\/32 -p tcp -m comment --comment "shop\/legacy:http has no endpoints" -m tcp --dport 80 -j REJECT/);
  });

  it('IPv6: ip6tables ladder counters equal the answers (ClusterIP from the node, NodePort from the client)', async () => {
    const truth = mergeCounts(
      await drive(lab, { service: 'shop/web6', count: 90, from: 'node' }),
      await drive(lab, { service: 'shop/web6', count: 60, via: 'node-port' }),
    );
    expect([...truth.keys()].every((k) => k.startsWith('[fd00:10:244::'))).toBe(true);
    expect(toObject(ladderCounts(await lab.save('ipv6'), SVC('shop/web6:http')))).toEqual(toObject(truth));
  });

  it('kube-proxy rewrites: a resync restarts one Service at zero; an endpoint change swaps the ladder', async () => {
    const otherBefore = ladderCounts(await lab.save('ipv4'), SVC('shop/checkout:http'));
    await rewriteService(lab, 'shop/web');
    let save = await lab.save('ipv4');
    expect(toObject(ladderCounts(save, SVC('shop/web')))).toEqual({});
    // Untouched Services keep their counters across a partial sync.
    expect(ladderCounts(save, SVC('shop/checkout:http'))).toEqual(otherBefore);
    const afterReset = await drive(lab, { service: 'shop/web', count: 60, from: 'node' });
    expect(toObject(ladderCounts(await lab.save('ipv4'), SVC('shop/web')))).toEqual(toObject(afterReset));

    await setEndpoints(lab, 'shop/web', ['web-1', 'web-2']);
    save = await lab.save('ipv4');
    expect(save).not.toContain(endpointChainName('shop/web', 'tcp', '10.244.2.13:8080'));
    expect(save).toContain('--probability 0.50000000000 -j');
    const twoPods = await drive(lab, { service: 'shop/web', count: 80, from: 'node' });
    expect([...twoPods.keys()].sort()).toEqual(['10.244.1.11:8080', '10.244.1.12:8080']);
    // Kept endpoints keep their SEP chains, but the ladder was rewritten: counters count from zero.
    expect(toObject(ladderCounts(await lab.save('ipv4'), SVC('shop/web')))).toEqual(toObject(twoPods));
    await setEndpoints(lab, 'shop/web', ['web-1', 'web-2', 'web-3']);
    const three = await drive(lab, { service: 'shop/web', count: 60, from: 'node' });
    expect(three.size).toBe(3);
  });
});
