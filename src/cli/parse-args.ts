/** Table-driven flag parsing: `--name=value`, `--name value`, `--[no-]bool`, env fallbacks, every problem collected. */
import { didYouMean } from './did-you-mean.js';
import { parseBytes, parseDuration } from './units.js';

export type FlagType = 'duration' | 'bytes' | 'number' | 'enum' | 'regex' | 'path' | 'bool' | 'string';

/** A parsed value: seconds for durations, bytes for sizes, an anchored RegExp (null when empty) for regexes. */
export type FlagValue = string | number | boolean | RegExp | null;

export interface FlagDef {
  /** Without dashes: `sample.interval`. */
  readonly name: string;
  /** One-letter alias without the dash (`h`). */
  readonly short?: string;
  readonly type: FlagType;
  /** The default as a user would type it ('' = unset); parsed like any other value. */
  readonly default: string;
  /** Shown after `=` in help: `--web.listen-address=ADDRESS`. */
  readonly placeholder?: string;
  readonly help: string;
  /** Allowed values of an enum. */
  readonly values?: readonly string[];
  /** Bounds of a number; `minExclusive` for "greater than". */
  readonly min?: number;
  readonly minExclusive?: boolean;
  readonly max?: number;
  /** Env fallback; defaults to KUBE_BALANCE_<UPPER_SNAKE>; null for flags that have none (--help). */
  readonly env?: string | null;
  /** More env fallbacks, consulted after `env` (e.g. NODE_NAME from the downward API). */
  readonly envAliases?: readonly string[];
  /** Further validation of the parsed value: a problem description, or null when fine. */
  readonly validate?: (value: FlagValue) => string | null;
}

export type ValueSource = 'flag' | 'env' | 'default';

export interface ParsedArgs {
  readonly values: ReadonlyMap<string, FlagValue>;
  /** The text each value came from, for logging the effective configuration. */
  readonly texts: ReadonlyMap<string, string>;
  readonly sources: ReadonlyMap<string, ValueSource>;
  readonly positionals: readonly string[];
  readonly problems: readonly string[];
}

export const ENV_PREFIX = 'KUBE_BALANCE_';

/** `sample.max-output-bytes` → `KUBE_BALANCE_SAMPLE_MAX_OUTPUT_BYTES`. */
export function envNameFor(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** The env vars a flag reads, in precedence order. */
export function envNamesOf(def: FlagDef): string[] {
  if (def.env === null) return [];
  return [def.env ?? envNameFor(def.name), ...(def.envAliases ?? [])];
}

const BOOL_TEXT: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

/** Converts text to a flag's value, or returns a problem description (without the flag's name). */
export function convertValue(def: FlagDef, text: string): { value: FlagValue } | { problem: string } {
  switch (def.type) {
    case 'bool': {
      const value = BOOL_TEXT[text.toLowerCase()];
      return value === undefined ? { problem: 'not a boolean (use true or false)' } : { value };
    }
    case 'duration': {
      const value = parseDuration(text);
      return value === null ? { problem: 'not a duration (use a number with a unit: 500ms, 10s, 5m, 1h30m)' } : { value };
    }
    case 'bytes': {
      const value = parseBytes(text);
      return value === null ? { problem: 'not a size (use bytes or a unit: 64KiB, 512MiB, 1GB)' } : { value };
    }
    case 'number': {
      const value = text.trim() === '' ? Number.NaN : Number(text);
      if (!Number.isFinite(value)) return { problem: 'not a number' };
      if (def.min !== undefined && (def.minExclusive === true ? value <= def.min : value < def.min)) {
        return { problem: `must be ${def.minExclusive === true ? 'greater than' : 'at least'} ${def.min}` };
      }
      if (def.max !== undefined && value > def.max) return { problem: `must be at most ${def.max}` };
      return { value };
    }
    case 'enum': {
      const values = def.values ?? [];
      if (values.includes(text)) return { value: text };
      const suggestion = didYouMean(text, values);
      return {
        problem: `must be one of ${values.join(', ')}${suggestion === null ? '' : ` (did you mean ${suggestion}?)`}`,
      };
    }
    case 'regex': {
      if (text === '') return { value: null };
      try {
        // Compiled alone first: `a)|(b` is invalid by itself but would compile, unanchored, inside the wrapper.
        new RegExp(text);
        // Anchored like Prometheus relabelling: the whole name must match, not a substring.
        return { value: new RegExp(`^(?:${text})$`) };
      } catch (error) {
        return { problem: `not a valid regular expression (${error instanceof Error ? error.message : String(error)})` };
      }
    }
    case 'path':
      if (text.includes('\0')) return { problem: 'not a valid path' };
      return { value: text === '' ? null : text };
    case 'string':
      return { value: text === '' ? null : text };
  }
}

/** Quotes a value for a problem message only when it would otherwise be hard to read. */
function show(text: string): string {
  return /^[\w.,:/@+-]+$/.test(text) ? text : JSON.stringify(text);
}

/**
 * Parses argv against `defs`, falling back to env then to defaults. Never throws: every problem
 * (unknown flag, missing value, bad value, repeated flag) is collected in `problems`.
 */
export function parseArgs(
  defs: readonly FlagDef[],
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedArgs {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const byShort = new Map(defs.filter((d) => d.short !== undefined).map((d) => [d.short, d]));
  const flagNames = defs.map((d) => d.name);
  const problems: string[] = [];
  const positionals: string[] = [];
  const given = new Map<string, string>();

  const give = (def: FlagDef, text: string): void => {
    if (given.has(def.name)) problems.push(`flag --${def.name} given more than once`);
    else given.set(def.name, text);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const body = arg.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    let def = long ? byName.get(name) : byShort.get(name);
    let negated = false;
    if (def === undefined && long && name.startsWith('no-')) {
      const positive = byName.get(name.slice(3));
      if (positive?.type === 'bool') {
        def = positive;
        negated = true;
      }
    }
    if (def === undefined) {
      // A single-dash long flag (`-web.listen-address`) is a common slip: suggest the double dash.
      const suggestion = !long && byName.has(name) ? name : didYouMean(name.replace(/^no-/, ''), flagNames);
      problems.push(`unknown flag ${long ? '--' : '-'}${name}${suggestion === null ? '' : ` (did you mean --${suggestion}?)`}`);
      continue;
    }
    if (def.type === 'bool') {
      if (negated && inline !== undefined) {
        problems.push(`flag --no-${def.name} takes no value`);
        continue;
      }
      give(def, negated ? 'false' : (inline ?? 'true'));
      continue;
    }
    if (inline !== undefined) {
      give(def, inline);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith('--') && next.length > 2)) {
      problems.push(`flag --${def.name} needs a value${def.placeholder === undefined ? '' : ` (--${def.name}=${def.placeholder})`}`);
      continue;
    }
    give(def, next);
    i++;
  }

  const values = new Map<string, FlagValue>();
  const texts = new Map<string, string>();
  const sources = new Map<string, ValueSource>();
  for (const def of defs) {
    let text = given.get(def.name);
    let source: ValueSource = 'flag';
    let origin = `--${def.name}`;
    if (text === undefined) {
      for (const envName of envNamesOf(def)) {
        const envText = env[envName];
        // An empty variable counts as unset: manifests often template `VALUE: ""`.
        if (envText !== undefined && envText !== '') {
          text = envText;
          source = 'env';
          origin = envName;
          break;
        }
      }
    }
    if (text === undefined) {
      text = def.default;
      source = 'default';
      origin = `default of --${def.name}`;
    }
    const converted = convertValue(def, text);
    if ('problem' in converted) {
      problems.push(`${origin}=${show(text)}: ${converted.problem}`);
      continue;
    }
    const extra = def.validate?.(converted.value) ?? null;
    if (extra !== null) {
      problems.push(`${origin}=${show(text)}: ${extra}`);
      continue;
    }
    values.set(def.name, converted.value);
    texts.set(def.name, text);
    sources.set(def.name, source);
  }
  return { values, texts, sources, positionals, problems };
}

/** Typed access to parsed values; a wrong type is a programming error in the flag table. */
export class FlagValues {
  constructor(private readonly parsed: ParsedArgs) {}

  private get(name: string): FlagValue | undefined {
    return this.parsed.values.get(name);
  }

  has(name: string): boolean {
    return this.parsed.values.has(name);
  }

  number(name: string): number {
    const value = this.get(name);
    if (typeof value !== 'number') throw new TypeError(`flag --${name} has no numeric value`);
    return value;
  }

  bool(name: string): boolean {
    const value = this.get(name);
    if (typeof value !== 'boolean') throw new TypeError(`flag --${name} has no boolean value`);
    return value;
  }

  string(name: string): string | null {
    const value = this.get(name);
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') throw new TypeError(`flag --${name} has no string value`);
    return value;
  }

  regex(name: string): RegExp | null {
    const value = this.get(name);
    if (value === undefined || value === null) return null;
    if (!(value instanceof RegExp)) throw new TypeError(`flag --${name} has no regex value`);
    return value;
  }
}
