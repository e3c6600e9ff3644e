/**
 * The BUILT exporter (node dist/cli.js) runs with PATH = a directory of logging shims for every binary
 * it might plausibly call. After a few samples, nothing but the read-only listings with their exact
 * argument arrays may have run: no iptables front end, no restore, no shell, no `iptables-save`
 * wrapper (it would pick a backend by itself and take the xtables lock differently).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPV4_DUMP, IPV6_DUMP } from '../source/dump-texts.js';
import { buildCli, startExporterProcess, type ExporterProcess } from './support/built-cli.js';
import { eventually } from './support/exporter-config.js';
import { createFaultShims, WATCHED_BINARIES, type FaultShims } from './support/fault-shims.js';
import { scrape } from './support/scrape.js';

/** `ip[6]tables-{nft,legacy}-save` with one of the fixed argument arrays of src/source/save-command.ts. */
const ALLOWED_SAVE = /^ip6?tables-(?:nft|legacy)-save(?: -c -t nat| -t nat| -t mangle)?$/;
/** With --conntrack.enabled: the two read-only conntrack listings (src/conntrack/commands.ts). */
const ALLOWED_CONNTRACK = new Set(['conntrack -L -o extended,id', 'conntrack -L -f ipv6 -o extended,id']);

let cli: string;
beforeAll(async () => {
  cli = await buildCli();
}, 180_000);

let shims: FaultShims | null = null;
let exporter: ExporterProcess | null = null;
afterAll(async () => {
  exporter?.kill('SIGKILL');
  shims?.remove();
});

async function runFewSamples(args: readonly string[], samples: number): Promise<{ calls: string[]; exporter: ExporterProcess }> {
  shims?.remove();
  shims = createFaultShims(WATCHED_BINARIES);
  // Every save prints a dual-stack-looking dump so detection, both families and sampling all run.
  shims.set('default', `dump:${shims.file('dump.txt', IPV4_DUMP)}`);
  shims.set('ip6tables-nft-save', `dump:${shims.file('dump6.txt', IPV6_DUMP)}`);
  shims.set('ip6tables-legacy-save', `dump:${shims.dir}/dump6.txt`);
  exporter = startExporterProcess(cli, ['--sample.interval=1s', '--sample.max-cpu=1', '--log.level=debug', ...args], shims.env);
  const base = await exporter.base;
  await eventually(async () => ((await scrape(base)).samplesTotal ?? 0) >= samples, 100);
  exporter.kill('SIGTERM');
  expect((await exporter.exited).code).toBe(0);
  return { calls: shims.calls(), exporter };
}

describe('the exporter only ever runs read-only listings', () => {
  it('default flags (auto backend, auto families): only ip[6]tables-{nft,legacy}-save with fixed arguments', async () => {
    const { calls } = await runFewSamples([], 3);
    expect(calls.length).toBeGreaterThan(0);
    const forbidden = calls.filter((c) => !ALLOWED_SAVE.test(c));
    expect(forbidden, `commands outside the allowlist:\n${forbidden.join('\n')}`).toEqual([]);
    // And it really sampled through them (not, say, through a wrapper it found elsewhere).
    expect(calls).toContain('iptables-nft-save -c -t nat');
    expect(calls).toContain('ip6tables-nft-save -c -t nat');
  });

  it('--iptables.backend=legacy --iptables.families=ipv4,ipv6: still only the save binaries', async () => {
    const { calls } = await runFewSamples(['--iptables.backend=legacy', '--iptables.families=ipv4,ipv6'], 2);
    expect(calls.filter((c) => !ALLOWED_SAVE.test(c))).toEqual([]);
    expect(new Set(calls)).toEqual(new Set(['iptables-legacy-save -c -t nat', 'ip6tables-legacy-save -c -t nat']));
  });

  it('--conntrack.enabled adds exactly the conntrack listings, nothing else', async () => {
    const { calls } = await runFewSamples(['--conntrack.enabled', '--conntrack.interval=1s'], 3);
    expect(calls.filter((c) => !ALLOWED_SAVE.test(c) && !ALLOWED_CONNTRACK.has(c))).toEqual([]);
  });
});
