/** Hand-written Prometheus text exposition (format 0.0.4) renderer for MetricFamily descriptors. */
import type { CollectContext, Emit, MetricFamily } from './family.js';
import type { Snapshot } from '../snapshot.js';

const LABEL_VALUE_SPECIAL = /[\\"\n]/;
const HELP_SPECIAL = /[\\\n]/;

/** Escapes a label value: backslash, double quote and line feed are the only escapes the format defines. */
export function escapeLabelValue(value: string): string {
  if (!LABEL_VALUE_SPECIAL.test(value)) return value;
  return value.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

/** Escapes HELP text: backslash and line feed (quotes are literal in HELP). */
export function escapeHelp(help: string): string {
  if (!HELP_SPECIAL.test(help)) return help;
  return help.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));
}

/** Go's ParseFloat spellings for the non-finite values; finite numbers as JS prints them (Go accepts `1e-7`). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Label text kept across renders, for the label arrays `owns` accepts (the page's ladder layout). */
export interface KeptLabelTexts {
  readonly texts: LabelTextCache;
  readonly owns: (values: readonly string[]) => boolean;
}

/**
 * Renders the opening of a label set, `{a="x",b="y"` (without its closing brace, which goes with the
 * value, so that an endpoint's series can append its last label to its ladder's text), caching it by
 * label-values array identity: the page hands every per-ladder family the same array per ladder, so
 * ~300k series cost one escape+join per ladder instead of one per series. A cache lives for one update.
 * With `kept` (the page's ladder layout), the texts of the layout's own arrays are read from and stored
 * in `kept.texts`, which lives as long as the layout; the texts of arrays a family builds per series stay
 * in this cache, so the kept one holds at most one text per layout array. A series' last label given
 * apart (an endpoint's `endpoint`) is not cached: familyEmitter writes it in pieces.
 */
export class LabelTextCache {
  // Keyed by the label names joined: an endpoint family's ladder part (ENDPOINT_LABELS but the last)
  // shares the texts of LADDER_LABELS. Plain Maps, not WeakMaps: the cache is dropped after one update,
  // and tens of thousands of WeakMap entries make every GC cycle pay for ephemeron tracing.
  private readonly byNames = new Map<string, Map<readonly string[], string>>();
  private readonly kept: KeptLabelTexts | undefined;

  constructor(kept?: KeptLabelTexts) {
    this.kept = kept;
  }

  /**
   * The renderer of `{a="x",b="y"` for one label-names array (at least one name); look it up once per
   * family, call it once per series.
   */
  forNames(names: readonly string[]): (values: readonly string[]) => string {
    const key = names.join('\u0000');
    // `{a="`, `",b="`, ...: the text between the values, made once per family.
    const prefixes = names.map((name, i) => `${i === 0 ? '{' : '",'}${name}="`);
    const texts = mapIn(this.byNames, key);
    if (this.kept === undefined) {
      return (values) => {
        let text = texts.get(values);
        if (text === undefined) {
          text = renderLabels(prefixes, values);
          texts.set(values, text);
        }
        return text;
      };
    }
    // With `kept`, its texts are read first, and a text made for a values array of the layout (`owns`)
    // is stored there, any other in this cache.
    const keptTexts = mapIn(this.kept.texts.byNames, key);
    const owns = this.kept.owns;
    return (values) => {
      let text = keptTexts.get(values) ?? texts.get(values);
      if (text === undefined) {
        text = renderLabels(prefixes, values);
        (owns(values) ? keptTexts : texts).set(values, text);
      }
      return text;
    };
  }

  /** Label texts held (tests: the kept cache must not grow with arrays families build per series). */
  get size(): number {
    let size = 0;
    for (const texts of this.byNames.values()) size += texts.size;
    return size;
  }
}

function mapIn<K, V>(maps: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let map = maps.get(key);
  if (map === undefined) {
    map = new Map();
    maps.set(key, map);
  }
  return map;
}

// One join instead of `+=`: the result is a flat string, not a rope, so copying it into each of the
// family lines that share it does not re-walk a tree of fragments (measured ~2x on a 300k-series page).
// The parts array has its final size from the start: no regrowth garbage for 200k+ label sets.
function renderLabels(prefixes: readonly string[], values: readonly string[]): string {
  const n = prefixes.length;
  const parts = new Array<string>(2 * n + 1);
  for (let i = 0; i < n; i++) {
    parts[2 * i] = prefixes[i] ?? '';
    parts[2 * i + 1] = escapeLabelValue(values[i] ?? '');
  }
  parts[2 * n] = '"';
  return parts.join('');
}

/**
 * The Emit of one family, handing its exposition text to `write`: the HELP and TYPE lines just before
 * the first sample, so a family that emits nothing (no traffic, small samples) leaves no empty headers
 * behind; then one line per sample. Throws when the label values do not match the family's labels.
 */
export function familyEmitter(family: MetricFamily, labels: LabelTextCache, write: (text: string) => void): Emit {
  const { name } = family;
  const names = family.labels;
  const labelText = names.length === 0 ? null : labels.forNames(names);
  // With a last value apart: the text of the other labels (cached as a ladder's), then the last one.
  let headText: ((values: readonly string[]) => string) | null = null;
  const lastOpening = names.length === 0 ? '' : `${names.length > 1 ? ',' : '{'}${names.at(-1) ?? ''}="`;
  let header: string | null = `# HELP ${name} ${escapeHelp(family.help)}\n# TYPE ${name} ${family.type}\n`;
  return (values, value, lastValue) => {
    const count = lastValue === undefined ? values.length : values.length + 1;
    if (count !== names.length) {
      throw new Error(`${name}: ${count} label values for ${names.length} labels (${names.join(',')})`);
    }
    if (header !== null) {
      write(header);
      header = null;
    }
    // Piece by piece, not one concatenated line: at 740k series the line strings alone were ~80 MiB
    // of garbage per render; the writer joins the pieces into ~1 MiB parts anyway. The value's piece
    // is short (usually made flat, not a rope), and carries the closing text before it.
    write(name);
    if (lastValue !== undefined) {
      if (names.length > 1) {
        headText ??= labels.forNames(names.slice(0, -1));
        write(headText(values));
      }
      // An endpoint's series: its ladder's text, then `,endpoint="`, the value, and the closing quote
      // with the sample's value. Not one text per endpoint value, kept with the layout: 200k such
      // strings and the Map holding them were ~8 MiB of the steady heap at 20,000 services × 10
      // endpoints, with a Map lookup per series; the two extra pieces cost no measurable render time.
      write(lastOpening);
      write(escapeLabelValue(lastValue));
      write(`"} ${formatValue(value)}\n`);
    } else if (labelText !== null) {
      write(labelText(values));
      write(`} ${formatValue(value)}\n`);
    } else {
      write(` ${formatValue(value)}\n`);
    }
  };
}

/**
 * Renders one family (HELP, TYPE, samples) to text in one go; '' when it emits nothing. Throws if the
 * family does: the caller decides what a broken family costs. The page renders through page-render.ts;
 * this is the plain reference its tests compare with.
 */
export function renderFamily(
  family: MetricFamily,
  snapshot: Snapshot,
  context: CollectContext,
  labels: LabelTextCache,
): string {
  const lines: string[] = [];
  family.collect(snapshot, familyEmitter(family, labels, (text) => lines.push(text)), context);
  return lines.join('');
}
