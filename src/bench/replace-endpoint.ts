/**
 * The rules change the memory and serve benchmarks make: one endpoint replaced, as when a pod is
 * rescheduled. kube-proxy then writes a new KUBE-SEP chain (its name hashes the endpoint) and the
 * ladder jumps to it instead of the old one, so the output's structure changes and the exporter's
 * next read parses the whole table while the last sample's state is still held.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ENDPOINT_CHAIN = /KUBE-SEP-[A-Z2-7]{16}/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * `text` with its first KUBE-SEP chain renamed everywhere (declaration, rules, the ladder's jump) to a
 * name the text does not hold, and that chain's DNAT address moved to another port. Throws when the
 * text has no KUBE-SEP chain.
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
  return { text: renamed.replace(dnat, (_m, head: string, port: string) => `${head}${Number(port) + 1}`), from, to };
}

/**
 * Runs `run` with, in a temporary folder removed afterwards, `work`: a copy of `dumpPath` for an
 * exporter to read, and `changed`: the same rules with one endpoint replaced. A benchmark's child
 * renames `changed` over `work` when the rules are to change (its stand-in save, or its file source,
 * reads `work` anew every sample).
 */
export async function withRulesChange<T>(prefix: string, dumpPath: string, run: (work: string, changed: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    const work = join(dir, 'rules.txt');
    const changed = join(dir, 'changed.txt');
    copyFileSync(dumpPath, work);
    writeFileSync(changed, replaceOneEndpoint(readFileSync(dumpPath, 'utf8')).text);
    return await run(work, changed);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
