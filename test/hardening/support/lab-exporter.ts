/** Shared by the whole-process lab tests: the built exporter on a lab node, and its counter series. */
import { startExporter, type ExporterHandle } from '../../../src/lab/exporter-process.js';
import { startLab, type Lab } from '../../../src/lab/lab.js';
import type { ParsedFamily } from '../../metrics/parse-exposition.js';
import { buildCli } from './built-cli.js';

/** An nft lab with the built exporter sampling every second inside its node namespace. */
export async function startLabExporter(): Promise<{ lab: Lab; exporter: ExporterHandle }> {
  const cli = await buildCli();
  const lab = await startLab({ backend: 'nft' });
  try {
    const exporter = await startExporter(lab, { cliPath: cli, args: ['--sample.interval=1s', '--window=30s', '--kube.enabled=false', '--log.level=warn'] });
    return { lab, exporter };
  } catch (error) {
    await lab.teardown();
    throw error;
  }
}

/** `family{labels}` → value for the given counter families (which must never go down between scrapes). */
export function counterSeries(page: Map<string, ParsedFamily>, families: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of families) {
    for (const s of page.get(name)?.samples ?? []) out.set(`${name}${JSON.stringify(s.labels)}`, s.value);
  }
  return out;
}
