/**
 * The rules changes the benchmarks make. The change: one endpoint replaced, as when a pod is
 * rescheduled. kube-proxy then writes a new KUBE-SEP chain (its name hashes the endpoint) and the
 * ladder jumps to it instead of the old one, so the output's structure changes and the exporter's
 * next read parses the whole table while the last sample's state is still held. The sync that
 * writes it also writes KUBE-SERVICES and KUBE-NODEPORTS in a new order, as every sync does
 * (lab/ruleset/entry-order.ts); a sync that changes no Service writes only that (`resynced`).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../lab/mulberry32.js';
import { shuffleEntryRules } from '../lab/ruleset/entry-order.js';

const ENDPOINT_CHAIN = /KUBE-SEP-[A-Z2-7]{16}/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * `text` with its first KUBE-SEP chain renamed everywhere (declaration, rules, the ladder's jump) to a
 * name the text does not hold, that chain's DNAT address moved to another port, and KUBE-SERVICES and
 * KUBE-NODEPORTS in another order (as kube-proxy's sync writes them). Throws when the text has no
 * KUBE-SEP chain.
 */
export function replaceOneEndpoint(text: string): { readonly text: string; readonly from: string; readonly to: string } {
  const from = ENDPOINT_CHAIN.exec(text)?.[0];
  if (from === undefined) throw new Error('bench: the ruleset has no KUBE-SEP chain to replace');
  // Another hash in kube-proxy's alphabet (base32): the last four characters counted up from ZZZZ's side.
  let to = '';
  for (let i = 0; to === '' || text.includes(to); i++) {
    let suffix = '';
    for (let n = i, k = 0; k < 4; k++, n = Math.floor(n / 32)) suffix = `${BASE32[31 - (n % 32)] ?? ''}${suffix}`;
    to = `${from.slice(0, -4)}${suffix}`;
  }
  const renamed = text.split(from).join(to);
  // The new pod's address: the DNAT rule of the renamed chain gets port + 1.
  const dnat = new RegExp(`(-A ${to} .*--to-destination [^\\s:]+:)(\\d+)`);
  const replaced = renamed.replace(dnat, (_m, head: string, port: string) => `${head}${Number(port) + 1}`);
  return { text: resync(replaced, 2), from, to };
}

/** `text` as a kube-proxy sync that changes no Service leaves it: KUBE-SERVICES and KUBE-NODEPORTS in another order (from `seed`). */
export function resync(text: string, seed = 1): string {
  return shuffleEntryRules(text, mulberry32(seed)).text;
}

/**
 * Runs `run` with, in a temporary folder removed afterwards, `work`: a copy of `dumpPath` for an
 * exporter to read, `changed`: the same rules with one endpoint replaced, and `resynced`: the same
 * rules after a sync that changed no Service. A benchmark's child renames one of them over `work`
 * when the rules are to change (its stand-in save, or its file source, reads `work` anew every sample).
 */
export async function withRulesChange<T>(prefix: string, dumpPath: string, run: (work: string, changed: string, resynced: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    const work = join(dir, 'rules.txt');
    const changed = join(dir, 'changed.txt');
    const resynced = join(dir, 'resynced.txt');
    copyFileSync(dumpPath, work);
    const text = readFileSync(dumpPath, 'latin1');
    writeFileSync(changed, replaceOneEndpoint(text).text, 'latin1');
    writeFileSync(resynced, resync(text), 'latin1');
    return await run(work, changed, resynced);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
