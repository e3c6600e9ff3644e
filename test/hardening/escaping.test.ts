/**
 * Text that rule comments, chain names and file names put in front of the server comes out escaped:
 * /metrics per the exposition format (checked by a strict parser and by promtool), / as HTML.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExporter, type ExporterHandle } from '../../src/run-exporter.js';
import { parseExposition } from '../metrics/parse-exposition.js';
import { IPV4_DUMP } from '../source/dump-texts.js';
import { captureLogger } from './support/capture-logger.js';
import { eventually, testConfig } from './support/exporter-config.js';

/** Chain names may hold anything but whitespace; a backslash survives iptables-save's quoting unescaped. */
const EVIL_CHAIN = 'KUBE-SVC-<script>\\x';
const EVIL_SEP = 'KUBE-SEP-</b>&amp;\\n';
const HOSTILE_DUMP = IPV4_DUMP.replaceAll('KUBE-SVC-ABCDEFGHIJKLMNOP', EVIL_CHAIN)
  .replaceAll('KUBE-SEP-AAAAAAAAAAAAAAAA', EVIL_SEP)
  // Comments with markup and escaped quotes; the parser unescapes \" exactly as iptables-restore would.
  .replaceAll('"default/web:http -> 10.244.1.2:8080"', '"default/web:http -> 10.244.1.2:8080 <script>alert(\\"pwned\\")</script>"')
  .replaceAll('"default/web:http cluster IP"', '"default/web:http cluster IP \\"><img src=x onerror=alert(1)>"');

let dir: string;
let handle: ExporterHandle;
let base: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kbe-escape-'));
  // The file name reaches the landing page ("source: file …").
  const dumpPath = join(dir, `dump-<script>alert("x")&'.txt`);
  writeFileSync(dumpPath, HOSTILE_DUMP);
  handle = await runExporter(testConfig({ file: dumpPath }), { logger: captureLogger(), metricsPage: { registry: new Registry() } });
  base = `http://127.0.0.1:${handle.address.port}`;
  await eventually(async () => (await fetch(`${base}/-/ready`)).status === 200);
});
afterAll(async () => {
  await handle.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hostile names', () => {
  it('/metrics escapes label values per the exposition format (strict parser and promtool agree)', async () => {
    const page = await (await fetch(`${base}/metrics`)).text();
    const families = parseExposition(page);
    const chains = [...families.values()].flatMap((f) => f.samples.map((s) => s.labels.chain)).filter((c) => c !== undefined);
    // The values round-trip: what the dump said is what a scraper reads, backslashes included.
    expect(chains).toContain(EVIL_CHAIN);
    expect(page).toContain('chain="KUBE-SVC-<script>\\\\x"');
    expect(page).not.toMatch(/chain="KUBE-SVC-<script>\\x"/);
    // Nothing from a comment leaks into a label unparsed.
    expect(page).not.toContain('onerror');
    expect(page).not.toContain('pwned');
    const promtool = execFileSync('promtool', ['check', 'metrics'], { input: page, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    expect(promtool).not.toMatch(/error parsing/i);
  });

  it('/ escapes HTML in everything it shows', async () => {
    const response = await fetch(`${base}/`);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('dump-&lt;script&gt;alert(&quot;x&quot;)&amp;&#39;.txt');
  });
});
