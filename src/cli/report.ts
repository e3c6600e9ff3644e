/** The `report` command: read a dump (file, stdin or this node), build the model per family, print a table or JSON. */
import type { Readable } from 'node:stream';
import type { ParsedDump, SkippedLine } from '../iptables/types.js';
import { buildServiceModel } from '../model/build-service-model.js';
import type { ServiceModel } from '../model/types.js';
import type { LogSink } from './logger.js';
import { assertIsDump, readLiveDump, readReportFile, type LiveDumpOptions, type ReportInput } from './report-input.js';
import type { ReportOptions } from './report-flags.js';
import { renderReportJson } from './report-json.js';
import { renderReportTable } from './report-table.js';

/** Skipped lines listed on stderr before summarising the rest. */
const MAX_SKIPPED_SHOWN = 50;

export interface ReportIo {
  readonly stdout: LogSink;
  readonly stderr: LogSink;
  readonly stdin: Readable;
  /** Reads this node's rules; injected in tests (default: iptables-save with backend detection). */
  readonly readLive?: (options: LiveDumpOptions) => Promise<{ dump: ParsedDump; command: string }>;
}

function notes(models: readonly ServiceModel[]): string[] {
  const skipped: SkippedLine[] = models.flatMap((m) => m.skipped).sort((a, b) => a.line - b.line);
  const lines = [
    ...models.flatMap((m) => m.warnings.map((w) => `warning: ${w}`)),
    ...skipped.slice(0, MAX_SKIPPED_SHOWN).map((s) => `line ${s.line}: skipped (${s.reason}): ${s.excerpt}`),
  ];
  if (skipped.length > MAX_SKIPPED_SHOWN) {
    lines.push(`... and ${skipped.length - MAX_SKIPPED_SHOWN} more skipped lines (see --format json)`);
  }
  return lines;
}

/**
 * Runs the report. Throws NotADumpError when the input is not iptables output, and the source's
 * errors (SaveError: unreadable file, failed iptables-save); skipped lines are not errors.
 */
export async function runReport(options: ReportOptions, io: ReportIo): Promise<void> {
  let input: ReportInput;
  if (options.input === null) {
    const family = options.family ?? 'ipv4';
    const live = await (io.readLive ?? readLiveDump)({ family, backend: options.backend });
    input = { name: live.command, dumps: [{ ipFamily: family, dump: live.dump }] };
  } else {
    input = await readReportFile(options.input, io.stdin, options.family);
  }
  assertIsDump(input);
  const models = input.dumps.map((d) => buildServiceModel(d.dump, d.ipFamily));
  if (options.format === 'json') {
    io.stdout.write(renderReportJson(models));
    return;
  }
  const lines = notes(models);
  if (lines.length > 0) io.stderr.write(`${lines.join('\n')}\n`);
  io.stdout.write(renderReportTable(models));
}
