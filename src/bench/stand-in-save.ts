/**
 * A stand-in `iptables-legacy-save` for benchmarks: a shell script that prints one dump file, put first
 * on PATH. With it the exporter's live source reads a generated ruleset the way it reads a node's (a
 * child's stdout, streamed into the parser and the scanner in pipe-sized Buffers) without loading the
 * ruleset into the kernel, where saving it would take far longer than the exporter's work on it.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export interface StandInSave {
  /** PATH with the stand-in first. */
  readonly path: string;
  remove(): void;
}

/**
 * The stand-in prints whatever file is at `dumpPath` when it runs (so renaming another over it changes
 * the rules). It lives in a folder beside the dump, so that whoever removes the dump's folder removes
 * it too, even when the process that made it was killed before remove().
 */
export function createStandInSave(dumpPath: string, pathVariable = process.env.PATH ?? ''): StandInSave {
  const dir = mkdtempSync(join(dirname(dumpPath), '.stand-in-save-'));
  const script = join(dir, 'iptables-legacy-save');
  writeFileSync(script, `#!/bin/sh\nexec cat ${shellQuote(dumpPath)}\n`);
  chmodSync(script, 0o755);
  return {
    path: `${dir}${delimiter}${pathVariable}`,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * What a benchmark child that stands for the exporter does first: the stand-in for `dumpPath` first
 * on this process's PATH (the live source finds its save command there), removed when it exits.
 */
export function installStandInSave(dumpPath: string): void {
  const standIn = createStandInSave(dumpPath);
  process.env.PATH = standIn.path;
  process.on('exit', () => standIn.remove());
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
