/** A small Prometheus text-format reader for the lab's end-to-end tests: samples by name and labels. */
import { expect } from 'vitest';
import type { ExporterHandle } from '../../src/lab/exporter-process.js';

export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = LINE.exec(line);
    if (m === null) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const raw = m[3] as string;
    out.push({ name: m[1] as string, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return out;
}

/** Samples of one family whose labels include `match`. */
export function select(samples: readonly MetricSample[], name: string, match: Readonly<Record<string, string>> = {}): MetricSample[] {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** One sample's value, or null when absent. */
export function value(samples: readonly MetricSample[], name: string, match: Readonly<Record<string, string>> = {}): number | null {
  return select(samples, name, match)[0]?.value ?? null;
}

/** Sum by one label (e.g. per `endpoint`, summed over `policy`). */
export function sumBy(samples: readonly MetricSample[], name: string, by: string, match: Readonly<Record<string, string>> = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of select(samples, name, match)) {
    const key = s.labels[by] ?? '';
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** A 200 scrape of the lab exporter, parsed. */
export async function scrapeSamples(exporter: ExporterHandle): Promise<MetricSample[]> {
  const { status, body } = await exporter.get('/metrics');
  expect(status).toBe(200);
  return parseExposition(body);
}

/** Waits for `n` more completed samples: the last one certainly started after what happened before the call. */
export async function nextSamples(exporter: ExporterHandle, n = 2): Promise<MetricSample[]> {
  const start = value(await scrapeSamples(exporter), 'kube_balance_samples_total') ?? 0;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const samples = await scrapeSamples(exporter);
    if ((value(samples, 'kube_balance_samples_total') ?? 0) >= start + n) return samples;
    if (Date.now() > deadline) throw new Error(`no new samples in 30 s; exporter logs:\n${exporter.logs().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
