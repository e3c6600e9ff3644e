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

/**
 * Renders `{a="x",b="y"}` text, caching it by label-values array identity: the page hands every
 * per-ladder family the same array per ladder, so ~300k series cost one escape+join per ladder and
 * per endpoint instead of one per series. A cache lives for one update.
 */
export class LabelTextCache {
  // Keyed by the label-names array itself: families share the LADDER_LABELS / ENDPOINT_LABELS constants.
  // Plain Maps, not WeakMaps: the cache is dropped after one update, and tens of thousands of WeakMap
  // entries make every GC cycle pay for ephemeron tracing.
  private readonly byNames = new Map<readonly string[], Map<readonly string[], string>>();

  /** The renderer for one label-names array; look it up once per family, call it once per series. */
  forNames(names: readonly string[]): (values: readonly string[]) => string {
    if (names.length === 0) return () => '';
    let cache = this.byNames.get(names);
    if (cache === undefined) {
      cache = new Map();
      this.byNames.set(names, cache);
    }
    const texts = cache;
    return (values) => {
      let text = texts.get(values);
      if (text === undefined) {
        text = renderLabels(names, values);
        texts.set(values, text);
      }
      return text;
    };
  }
}

// One join instead of `+=`: the result is a flat string, not a rope, so copying it into each of the
// family lines that share it does not re-walk a tree of fragments (measured ~2x on a 300k-series page).
function renderLabels(names: readonly string[], values: readonly string[]): string {
  const parts = ['{'];
  for (let i = 0; i < names.length; i++) {
    parts.push(i === 0 ? '' : ',', names[i] ?? '', '="', escapeLabelValue(values[i] ?? ''), '"');
  }
  parts.push('}');
  return parts.join('');
}

/**
 * Renders one family (HELP, TYPE, samples) to text; '' when it emits nothing, so absent values (no
 * traffic, small samples) leave no empty headers behind. Throws if the family does: the caller
 * decides what a broken family costs.
 */
export function renderFamily(
  family: MetricFamily,
  snapshot: Snapshot,
  context: CollectContext,
  labels: LabelTextCache,
): string {
  const { name } = family;
  const names = family.labels;
  const labelText = labels.forNames(names);
  const lines: string[] = [];
  const emit: Emit = (values, value) => {
    if (values.length !== names.length) {
      throw new Error(`${name}: ${values.length} label values for ${names.length} labels (${names.join(',')})`);
    }
    lines.push(name + labelText(values) + ' ' + formatValue(value) + '\n');
  };
  family.collect(snapshot, emit, context);
  if (lines.length === 0) return '';
  return `# HELP ${name} ${escapeHelp(family.help)}\n# TYPE ${name} ${family.type}\n` + lines.join('');
}
