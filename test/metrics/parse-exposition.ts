/** Test helper: a strict little parser for the text exposition format, so tests assert on values, not substrings. */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParsedFamily {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/;

export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  let current: { name: string; type: string; help: string; samples: Sample[] } | null = null;
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const where = `line ${i + 1}: ${line.slice(0, 120)}`;
    if (line.startsWith('# HELP ')) {
      const rest = line.slice('# HELP '.length);
      const space = rest.indexOf(' ');
      const name = rest.slice(0, space);
      if (families.has(name)) throw new Error(`family ${name} appears twice (${where})`);
      current = { name, type: 'untyped', help: unescapeHelp(rest.slice(space + 1)), samples: [] };
      families.set(name, current);
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice('# TYPE '.length).split(' ');
      if (current === null || current.name !== name || type === undefined) throw new Error(`TYPE without HELP (${where})`);
      current.type = type;
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (m === null || current === null) throw new Error(`not a sample (${where})`);
    const [, name = '', labelText, valueText = ''] = m;
    if (!belongsTo(name, current.name)) throw new Error(`sample of ${name} inside family ${current.name} (${where})`);
    current.samples.push({ name, labels: labelText ? parseLabels(labelText, where) : {}, value: Number(valueText) });
  });
  return families;
}

function belongsTo(sample: string, family: string): boolean {
  return sample === family || ['_bucket', '_sum', '_count'].some((s) => sample === family + s);
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 1;
  while (i < text.length - 1) {
    const eq = text.indexOf('="', i);
    if (eq < 0) throw new Error(`bad labels (${where})`);
    const name = text.slice(i, eq);
    let value = '';
    let j = eq + 2;
    for (; text[j] !== '"'; j++) {
      if (j >= text.length) throw new Error(`unterminated label value (${where})`);
      if (text[j] === '\\') {
        j++;
        const c = text[j];
        value += c === 'n' ? '\n' : c === '\\' ? '\\' : c === '"' ? '"' : fail(`bad escape \\${c} (${where})`);
      } else {
        value += text[j];
      }
    }
    if (name in labels) throw new Error(`label ${name} twice (${where})`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
  }
  return labels;
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function fail(message: string): never {
  throw new Error(message);
}

/** The samples of one family, or [] when the family is absent. */
export function samplesOf(page: Map<string, ParsedFamily>, name: string): Sample[] {
  return page.get(name)?.samples ?? [];
}
