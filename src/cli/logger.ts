/** The structured stderr logger: logfmt or JSON lines, filtered by level; implements src/logger-types.ts. */
import type { LogFormat, LogLevel } from '../config.js';
import type { Logger } from '../logger-types.js';

export interface LogSink {
  write(chunk: string): unknown;
}

export interface LoggerOptions {
  /** Lowest level written (default info). */
  readonly level?: LogLevel;
  /** Default logfmt. */
  readonly format?: LogFormat;
  /** Default process.stderr. */
  readonly sink?: LogSink;
  /** Injected clock so tests are deterministic (default: the wall clock). */
  readonly now?: () => Date;
}

const SEVERITY: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };
/** Field names the logger writes itself; a caller's field of the same name gets a `_` suffix. */
const RESERVED = new Set(['ts', 'level', 'msg']);

/** Plain data for a field value: errors become their message chain (with `code`), never a stack. */
function plain(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    const described: Record<string, unknown> = { message: value.message };
    if (typeof code === 'string' || typeof code === 'number') described.code = code;
    if (value.cause !== undefined && depth < 4) described.cause = plain(value.cause, depth + 1);
    return described;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof RegExp) return value.source;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return plain(Object.fromEntries(value), depth);
  if (value instanceof Set) return plain([...value], depth);
  if (Array.isArray(value)) return depth > 8 ? '[…]' : value.map((v) => plain(v, depth + 1));
  if (typeof value === 'object' && value !== null) {
    if (depth > 8) return '[…]';
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v, depth + 1);
    return out;
  }
  if (typeof value === 'function' || typeof value === 'symbol') return String(value);
  return value;
}

/** An Error as one logfmt value: `message: cause message` plus its code. */
function errorText(error: Error): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${current.message} (${code})` : current.message);
    current = current.cause;
  }
  if (current !== undefined && current !== null) parts.push(String(current));
  return parts.join(': ');
}

/** go-logfmt's rule: quote when the value is empty or has a space, `=`, `"` or a control character. */
function quoteLogfmt(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (text !== '' && !/[\u0000-\u0020="\u007f\ufffd]/.test(text)) return text;
  let quoted = '"';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '"' || char === '\\') quoted += `\\${char}`;
    else if (char === '\n') quoted += '\\n';
    else if (char === '\r') quoted += '\\r';
    else if (char === '\t') quoted += '\\t';
    else if (code < 0x20 || code === 0x7f) quoted += `\\u${code.toString(16).padStart(4, '0')}`;
    else quoted += char;
  }
  return `${quoted}"`;
}

/** A field value as logfmt text (before quoting). */
function logfmtText(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Error) return errorText(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  // A list of plain values reads best comma-separated (`families=ipv4,ipv6`), like a flag value.
  if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) return value.join(',');
  const data = plain(value);
  if (typeof data === 'string') return data;
  try {
    return JSON.stringify(data) ?? String(data);
  } catch {
    return '[unserializable]';
  }
}

/** Keys are identifiers in logfmt: anything but letters, digits and `_.-/:` becomes `_`. */
function logfmtKey(key: string): string {
  const safe = key.replace(/[^\w.\-/:]/g, '_') || '_';
  return RESERVED.has(safe) ? `${safe}_` : safe;
}

/** One logfmt line: `ts=… level=info msg="…" key=value …`. */
export function formatLogfmt(ts: Date, level: LogLevel, msg: string, fields: Record<string, unknown> = {}): string {
  let line = `ts=${ts.toISOString()} level=${level} msg=${quoteLogfmt(msg)}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    line += ` ${logfmtKey(key)}=${quoteLogfmt(logfmtText(value))}`;
  }
  return `${line}\n`;
}

/** One JSON line: `{"ts":"…","level":"info","msg":"…",…fields}`. */
export function formatJsonLine(ts: Date, level: LogLevel, msg: string, fields: Record<string, unknown> = {}): string {
  const record: Record<string, unknown> = { ts: ts.toISOString(), level, msg };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    record[RESERVED.has(key) ? `${key}_` : key] = value instanceof Error ? errorText(value) : plain(value);
  }
  try {
    return `${JSON.stringify(record)}\n`;
  } catch {
    return `${JSON.stringify({ ts: record.ts, level, msg, logError: 'fields not serializable' })}\n`;
  }
}

/** Creates a Logger writing one line per message to `sink` (stderr by default). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = SEVERITY[options.level ?? 'info'];
  const format = options.format === 'json' ? formatJsonLine : formatLogfmt;
  const sink = options.sink ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const log =
    (level: LogLevel) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (SEVERITY[level] < threshold) return;
      try {
        sink.write(format(now(), level, msg, fields));
      } catch {
        // A closed stderr (EPIPE) must not take the exporter down: logging is best effort.
      }
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
