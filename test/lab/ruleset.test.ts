import { describe, expect, it } from 'vitest';
import { parseDump } from '../../src/iptables/parse-dump.js';
import { endpointChainName, serviceChainName } from '../../src/model/chain-names.js';
import { bulkRulesetChunks, generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import { savedProbability } from '../../src/lab/ruleset/probability.js';
import { renderPartialSync, renderRuleset, serviceChains } from '../../src/lab/ruleset/render.js';
import { shuffleEntryRules } from '../../src/lab/ruleset/entry-order.js';
import { toSaveRule } from '../../src/lab/ruleset/save-format.js';
import { mulberry32 } from '../../src/lab/mulberry32.js';
import { defaultLabScenario, withService } from '../../src/lab/scenario.js';

const scenario = defaultLabScenario();

function natRules(text: string, chain: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
}

describe('ruleset generator (current layout)', () => {
  const text = renderRuleset(scenario, { family: 'ipv4' });
  const web = serviceChainName('KUBE-SVC-', 'shop/web', 'tcp');

  it('names chains as kube-proxy does', () => {
    expect(serviceChainName('KUBE-SVC-', 'default/kubernetes:https', 'tcp')).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y');
    // proxier_test.go: ns1/svc1:p80 → KUBE-SVC-XPGD46QRK7WJZT7O, endpoint 10.180.0.1:80 → KUBE-SEP-SXIVWICOYRO3J4NJ.
    expect(serviceChainName('KUBE-SVC-', 'ns1/svc1:p80', 'tcp')).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });

  it('writes the ladder with 1/(n-i) probabilities and "<svc> -> <ep>" comments', () => {
    const ladder = natRules(text, web).filter((l) => l.includes('KUBE-SEP-'));
    expect(ladder).toEqual([
      `-A ${web} -m comment --comment "shop/web -> 10.244.1.11:8080" -m statistic --mode random --probability 0.3333333333 -j ${endpointChainName('shop/web', 'tcp', '10.244.1.11:8080')}`,
      `-A ${web} -m comment --comment "shop/web -> 10.244.1.12:8080" -m statistic --mode random --probability 0.5000000000 -j ${endpointChainName('shop/web', 'tcp', '10.244.1.12:8080')}`,
      `-A ${web} -m comment --comment "shop/web -> 10.244.2.13:8080" -j ${endpointChainName('shop/web', 'tcp', '10.244.2.13:8080')}`,
    ]);
    expect(text).toContain(`-A KUBE-SERVICES -m comment --comment "shop/web cluster IP" -m tcp -p tcp -d 10.96.10.10 --dport 80 -j ${web}`);
    expect(text).toContain(`-A ${web} -m comment --comment "shop/web cluster IP" -m tcp -p tcp -d 10.96.10.10 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ`);
    expect(text).toContain(`-A KUBE-NODEPORTS -m comment --comment shop/web -m tcp -p tcp --dport 30080 -j ${serviceChainName('KUBE-EXT-', 'shop/web', 'tcp')}`);
  });

  it('writes the Local-policy KUBE-EXT → KUBE-SVL ladder over node-local endpoints only', () => {
    const svl = serviceChainName('KUBE-SVL-', 'shop/checkout:http', 'tcp');
    const ext = serviceChainName('KUBE-EXT-', 'shop/checkout:http', 'tcp');
    expect(natRules(text, svl)).toHaveLength(2);
    expect(natRules(text, ext).at(-1)).toBe(`-A ${ext} -j ${svl}`);
    expect(natRules(text, serviceChainName('KUBE-SVC-', 'shop/checkout:http', 'tcp')).filter((l) => l.includes('KUBE-SEP'))).toHaveLength(3);
  });

  it('writes affinity, non-uniform, no-endpoint and single-endpoint shapes', () => {
    const cart = serviceChainName('KUBE-SVC-', 'shop/cart:http', 'tcp');
    expect(natRules(text, cart).filter((l) => l.includes('--rcheck --seconds 10800 --reap'))).toHaveLength(3);
    const sep = endpointChainName('shop/cart:http', 'tcp', '10.244.1.11:8082');
    expect(text).toContain(`-A ${sep} -m comment --comment shop/cart:http -m recent --name ${sep} --set -m tcp -p tcp -j DNAT --to-destination 10.244.1.11:8082`);
    expect(text).toContain('--probability 0.8000000000 -j');
    expect(text).toContain('-A KUBE-SERVICES -m comment --comment "shop/legacy:http has no endpoints" -m tcp -p tcp -d 10.96.10.40 --dport 80 -j REJECT');
    expect(text).not.toContain(serviceChainName('KUBE-SVC-', 'shop/legacy:http', 'tcp'));
    expect(natRules(text, 'KUBE-SVC-NPX46M4PTMTKRN6Y').at(-1)).toMatch(/^-A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default\/kubernetes:https -> 10.244.1.10:6443" -j KUBE-SEP-/);
  });

  it('writes IPv6 with bracketed endpoints and no localhost NodePorts', () => {
    const v6 = renderRuleset(scenario, { family: 'ipv6' });
    expect(v6).toContain('--to-destination [fd00:10:244::11]:8080');
    expect(v6).toContain('-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS');
    expect(v6).not.toContain('10.96.');
  });

  it('drops SVC→SEP and SEP comments in large-cluster mode', () => {
    const bare = renderRuleset(scenario, { family: 'ipv4', comments: false });
    expect(natRules(bare, web).filter((l) => l.includes('KUBE-SEP-')).every((l) => !l.includes('--comment'))).toBe(true);
    expect(bare).toContain('"shop/web cluster IP"');
  });

  it('parses cleanly with the project parser in both styles and layouts', () => {
    for (const layout of ['current', 'v1.20'] as const) {
      for (const style of ['restore', 'save'] as const) {
        for (const family of ['ipv4', 'ipv6'] as const) {
          const dump = parseDump(renderRuleset(scenario, { family, layout, style, bootstrap: true }));
          expect(dump.skipped, `${layout}/${style}/${family}`).toEqual([]);
          expect(dump.tables.get('nat')?.chains.size).toBeGreaterThan(5);
        }
      }
    }
  });
});

describe('ruleset generator (v1.20 layout)', () => {
  const text = renderRuleset(scenario, { family: 'ipv4', layout: 'v1.20' });
  it('uses KUBE-XLB, "<svc>" ladder comments and masquerade rules in KUBE-SERVICES', () => {
    const xlb = serviceChainName('KUBE-XLB-', 'shop/checkout:http', 'tcp');
    expect(text).toContain(`:${xlb} - [0:0]`);
    expect(text).toContain(`-A ${xlb} -m comment --comment "Balancing rule 0 for shop/checkout:http" -m statistic --mode random --probability 0.5000000000 -j`);
    expect(text).toContain('-A KUBE-SERVICES -m comment --comment "shop/web cluster IP" -m tcp -p tcp -d 10.96.10.10/32 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ');
    const web = serviceChainName('KUBE-SVC-', 'shop/web', 'tcp');
    expect(natRules(text, web)[0]).toMatch(new RegExp(`^-A ${web} -m comment --comment shop/web -m statistic`));
    expect(text).not.toContain('KUBE-SVL-');
    expect(text).not.toContain('KUBE-EXT-');
  });
});

describe('partial sync', () => {
  it('rewrites the shared chains and only the changed Service chains, deleting stale ones', () => {
    const before = scenario;
    const after = withService(before, 'shop/web', (s) => ({ ...s, endpoints: ['web-1', 'web-2'] }));
    const stale = serviceChains(before, 'shop/web', { family: 'ipv4' }).filter((c) => !serviceChains(after, 'shop/web', { family: 'ipv4' }).includes(c));
    expect(stale).toEqual([endpointChainName('shop/web', 'tcp', '10.244.2.13:8080')]);
    const text = renderPartialSync(after, ['shop/web'], stale, { family: 'ipv4' });
    expect(text).toContain(':KUBE-SERVICES - [0:0]');
    expect(text).toContain(`:${serviceChainName('KUBE-SVC-', 'shop/web', 'tcp')} - [0:0]`);
    expect(text).not.toContain(serviceChainName('KUBE-SVC-', 'shop/cart:http', 'tcp') + ' - [0:0]');
    expect(text).toContain(`-X ${stale[0]}`);
    expect(text).not.toContain(':PREROUTING');
  });
});

describe('save format', () => {
  it('normalises like iptables-save', () => {
    expect(savedProbability('0.3333333333')).toBe('0.33333333349');
    expect(savedProbability('0.2000000000')).toBe('0.20000000019');
    expect(savedProbability('0.5000000000')).toBe('0.50000000000');
    expect(toSaveRule('KUBE-SEP-X', ['-m', 'comment', '--comment', 'ns1/svc1:p80', '-m', 'recent', '--name', 'KUBE-SEP-X', '--set', '-m', 'tcp', '-p', 'tcp', '-j', 'DNAT', '--to-destination', '10.180.0.1:80'], 'ipv4')).toBe(
      '-A KUBE-SEP-X -p tcp -m comment --comment "ns1/svc1:p80" -m recent --set --name KUBE-SEP-X --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.180.0.1:80',
    );
    expect(toSaveRule('KUBE-SVC-X', ['-m', 'comment', '--comment', '"a/b cluster IP"', '-m', 'tcp', '-p', 'tcp', '-d', '172.30.0.41', '--dport', '80', '!', '-s', '10.0.0.0/8', '-j', 'KUBE-MARK-MASQ'], 'ipv4')).toBe(
      '-A KUBE-SVC-X ! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m comment --comment "a/b cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
    );
  });
});

describe('bulk generator', () => {
  it('produces parseable save output with counters on every rule', () => {
    const text = generateBulkRuleset({ services: 100, endpointsPerService: 3 });
    const dump = parseDump(text);
    expect(dump.skipped).toEqual([]);
    expect(dump.hasCounters).toBe(true);
    const nat = dump.tables.get('nat');
    const svc = nat?.chains.get(serviceChainName('KUBE-SVC-', 'ns-1/svc-1:http', 'tcp'));
    expect(svc?.rules).toHaveLength(4);
    // DNAT counters equal the ladder's jump counters.
    for (const rule of svc?.rules.slice(1) ?? []) {
      const sep = nat?.chains.get(rule.target ?? '');
      expect(sep?.rules[1]?.counters?.packets).toBe(rule.counters?.packets);
    }
    expect(text.split('\n').filter((l) => l.startsWith('[')).every((l) => /^\[\d+:\d+\] -A /.test(l))).toBe(true);
  });

  it('has the line count of kube-proxy tables: 3 + 4·M per Service, 4 per NodePort, 20 fixed (XL 20,000 × 10 → 868,020)', () => {
    // Timing belongs to `npm run bench`, not here; 2,000 × 10 keeps the test quick.
    let lines = 0;
    for (const chunk of bulkRulesetChunks({ services: 2_000, endpointsPerService: 10 })) {
      for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) lines++;
    }
    expect(lines).toBe(2_000 * (3 + 4 * 10) + 200 * 4 + 20);
  });
});

describe('shuffleEntryRules (the order a kube-proxy sync writes KUBE-SERVICES and KUBE-NODEPORTS in)', () => {
  const text = renderRuleset(scenario, { family: 'ipv4' });
  const tableOf = (t: string): Map<string, string[]> => {
    const byTable = new Map<string, string[]>();
    let table = '';
    for (const line of t.split('\n')) {
      if (line.startsWith('*')) table = line;
      const rules = byTable.get(table) ?? [];
      rules.push(line);
      byTable.set(table, rules);
    }
    return byTable;
  };

  it('moves only those chains’ rules, each among its own chain’s places in its own table', () => {
    let reorderedOnce = false;
    for (let seed = 1; seed <= 5; seed++) {
      const shuffled = shuffleEntryRules(text, mulberry32(seed));
      reorderedOnce ||= shuffled.reordered;
      const [before, after] = [tableOf(text), tableOf(shuffled.text)];
      expect([...after.keys()]).toEqual([...before.keys()]);
      for (const [table, lines] of before) {
        const moved = after.get(table) as string[];
        expect(moved.length).toBe(lines.length);
        lines.forEach((line, i) => {
          const chain = /-A (KUBE-SERVICES|KUBE-NODEPORTS) /.exec(line)?.[1];
          if (chain === undefined) expect(moved[i]).toBe(line);
          else expect(moved[i]).toMatch(new RegExp(`-A ${chain} `));
        });
        expect([...moved].sort()).toEqual([...lines].sort());
      }
    }
    expect(reorderedOnce).toBe(true);
    expect(text).toMatch(/\*filter[\s\S]*-A KUBE-SERVICES /);
  });
});
