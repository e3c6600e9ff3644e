/** Where `report` gets its dumps (a file, stdin, or this node's iptables-save) and the "is this a dump at all" check. */
import type { Readable } from 'node:stream';
import type { BackendChoice } from '../config.js';
import type { IpFamily, ParsedDump, SkippedLine } from '../iptables/types.js';
import { detectBackend } from '../source/backend.js';
import { readDumpFile } from '../source/file-source.js';
import { runIptablesSave } from '../source/iptables-save.js';
import { createCommandRunner } from '../source/run-command.js';
import { NotADumpError } from './errors.js';

/** One family's rules, as the report models them. */
export interface FamilyDump {
  readonly ipFamily: IpFamily;
  readonly dump: ParsedDump;
}

export interface ReportInput {
  /** For messages: the file, 'stdin', or the command that ran. */
  readonly name: string;
  readonly dumps: readonly FamilyDump[];
}

/**
 * Reads a saved dump (or stdin for '-'). A file holding both iptables-save and ip6tables-save output
 * yields one dump per family. An explicit `family` selects that family's rules, or reads a
 * single-family file as that family when the content suggested the other one.
 * @throws SaveError (code FILE) when the file cannot be read; its message names the file.
 */
export async function readReportFile(path: string, stdin: Readable, family: IpFamily | null): Promise<ReportInput> {
  const { dumps } = await readDumpFile({ path, stdin });
  const name = path === '-' ? 'stdin' : path;
  if (family === null) return { name, dumps };
  const matching = dumps.filter((d) => d.ipFamily === family);
  if (matching.length > 0) return { name, dumps: matching };
  const only = dumps.length === 1 ? dumps[0] : undefined;
  return { name, dumps: only === undefined ? [] : [{ ipFamily: family, dump: only.dump }] };
}

export interface LiveDumpOptions {
  readonly family: IpFamily;
  readonly backend: BackendChoice;
  readonly timeoutMs?: number;
  readonly maxOutputBytes?: number;
}

/** One `iptables-save -c -t nat` of this node, with the backend chosen like kube-proxy's image does. */
export async function readLiveDump(options: LiveDumpOptions): Promise<{ dump: ParsedDump; command: string }> {
  const run = createCommandRunner();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxOutputBytes = options.maxOutputBytes ?? 512 * 1024 * 1024;
  const detection = await detectBackend(run, { choice: options.backend, timeoutMs, maxOutputBytes });
  const result = await runIptablesSave({ ipFamily: options.family, backend: detection.backend, timeoutMs, maxOutputBytes, run });
  return { dump: result.dump, command: result.command };
}

/**
 * Throws NotADumpError, naming the first offending line, when nothing in the input was iptables
 * syntax: no table header, chain declaration or rule. A dump with some skipped lines is still a dump.
 */
export function assertIsDump(input: ReportInput): void {
  // The parser opens a table only for a `*table` header or for a chain or rule line it could read.
  if (input.dumps.some((d) => d.dump.tables.size > 0)) return;
  let first: SkippedLine | undefined;
  for (const { dump } of input.dumps) {
    const candidate = dump.skipped[0];
    if (candidate !== undefined && (first === undefined || candidate.line < first.line)) first = candidate;
  }
  if (first === undefined) {
    const lines = Math.max(0, ...input.dumps.map((d) => d.dump.lineCount));
    const what = lines === 0 ? 'it is empty' : `it has no table, chain or rule in ${lines} lines`;
    throw new NotADumpError(`${input.name} is not an iptables dump: ${what}`, null);
  }
  throw new NotADumpError(
    `${input.name} is not an iptables dump: line ${first.line} is not iptables syntax: ${JSON.stringify(first.excerpt)} ` +
      '(expected iptables-save output: "*nat", ":CHAIN POLICY [p:b]", "-A CHAIN ...")',
    first.line,
  );
}
