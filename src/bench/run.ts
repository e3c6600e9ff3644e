/**
 * `npm run bench`: generates kube-proxy rulesets (S, M, L, XL), times every stage of a sample, the
 * running exporter and — as root — iptables-save on the same rulesets in lab namespaces, and writes
 * the results into docs/benchmarks.md. Flags: --sizes S,M,L,XL  --runs N  --quick  --samples N
 * (memory child, default 100 at XL)  --gets N  --nft-timeout SECONDS  --no-iptables  --no-write.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isRoot, timeBackend, type BackendTimings } from './iptables-netns.js';
import { measureMemory, type MemoryResult } from './memory.js';
import { timePipeline } from './pipeline.js';
import { renderReport, spliceReport, type SizeResult } from './report.js';
import { measureServe } from './serve.js';
import { SIZES, writeRuleset, type BenchSize } from './sizes.js';
import { applyV8Flags } from '../v8-flags.js';

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function iptablesTimings(size: BenchSize, dumpPath: string, runs: number, nftTimeoutMs: number): Promise<{ legacy: BackendTimings | null; nft: BackendTimings | null; note: string | null }> {
  let legacy: BackendTimings | null = null;
  let nft: BackendTimings | null = null;
  const notes: string[] = [];
  try {
    legacy = await timeBackend('legacy', { dumpPath, runs, timeoutMs: 600_000 });
  } catch (error) {
    notes.push(`legacy: ${String(error).slice(0, 200)}`);
  }
  try {
    // iptables-nft-save gets slow fast with the chain count here: fewer runs, bounded time.
    nft = await timeBackend('nft', { dumpPath, runs: size.name === 'L' || size.name === 'XL' ? 1 : runs, timeoutMs: nftTimeoutMs });
  } catch (error) {
    notes.push(`nft: ${String(error).slice(0, 200)}`);
  }
  return { legacy, nft, note: notes.length === 0 ? null : notes.join('; ') };
}

async function main(): Promise<void> {
  // The stages are timed in this process: with the exporter's V8 settings, as its children run.
  applyV8Flags();
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: 'S,M,L,XL' },
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      samples: { type: 'string' },
      gets: { type: 'string' },
      'nft-timeout': { type: 'string', default: '300' },
      'no-iptables': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const runs = Number(values.runs ?? (quick ? 2 : 5));
  const samples = Number(values.samples ?? (quick ? 10 : 100));
  const gets = Number(values.gets ?? (quick ? 5 : 20));
  const nftTimeoutMs = Number(values['nft-timeout']) * 1000;
  const wanted = new Set(values.sizes.split(',').map((s) => s.trim().toUpperCase()));
  const sizes = SIZES.filter((s) => wanted.has(s.name));
  if (sizes.length === 0) throw new Error(`--sizes: none of ${values.sizes} is one of ${SIZES.map((s) => s.name).join(',')}`);
  const withIptables = !values['no-iptables'] && isRoot();
  if (!withIptables) log('iptables-save timings skipped (needs root; or --no-iptables)');
  const memorySize = sizes.at(-1) as BenchSize;

  const loadAverage = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'kbe-bench-'));
  const results: SizeResult[] = [];
  try {
    for (const size of sizes) {
      const dumpPath = join(dir, `${size.name}.txt`);
      log(`${size.name}: generating ${size.services} × ${size.endpointsPerService}`);
      await writeRuleset(size, dumpPath);
      const dumpBytes = statSync(dumpPath).size;
      let iptables: Awaited<ReturnType<typeof iptablesTimings>> = { legacy: null, nft: null, note: null };
      if (withIptables) {
        log(`${size.name}: iptables-save in lab namespaces`);
        iptables = await iptablesTimings(size, dumpPath, runs, nftTimeoutMs);
      }
      log(`${size.name}: parse / model / analysis, ${runs} runs`);
      const pipeline = timePipeline(readFileSync(dumpPath), runs);
      log(`${size.name}: running exporter, /metrics`);
      const serve = await measureServe(dumpPath, gets);
      let memory: MemoryResult | null = null;
      if (size === memorySize) {
        log(`${size.name}: exporter-like child, ${samples} samples, the rules changed before sample ${Math.floor(samples / 2) + 1}`);
        // The rules change once, halfway: the parsed read that follows is where the heap peaks.
        memory = await measureMemory(dumpPath, samples, Math.floor(samples / 2));
      }
      results.push({ size, dumpBytes, pipeline, serve, memory, legacy: iptables.legacy, nft: iptables.nft, iptablesNote: iptables.note });
      rmSync(dumpPath, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const section = renderReport({ date: new Date(), runs, quick, loadAverage, sizes: results });
  process.stdout.write(`${section}\n`);
  if (!values['no-write']) {
    const docPath = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
    let doc = '# Benchmarks\n';
    try {
      doc = readFileSync(docPath, 'utf8');
    } catch {
      // first run: start the file
    }
    writeFileSync(docPath, spliceReport(doc, section));
    log(`wrote ${docPath}`);
  }
}

main().catch((error: unknown) => {
  log(String(error instanceof Error ? error.stack : error));
  process.exitCode = 1;
});
