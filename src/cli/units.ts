/** Duration (`10s`, `5m`, `1h30m`) and byte size (`512MiB`) parsing and formatting for flags. */

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses a Prometheus/Go-style duration into seconds; null when the text is not one.
 * Units are required (a bare `10` is ambiguous between seconds and milliseconds), except for `0`.
 */
export function parseDuration(text: string): number | null {
  if (text === '0') return 0;
  if (text === '') return null;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let position = 0;
  while (position < text.length) {
    DURATION_PART.lastIndex = position;
    const match = DURATION_PART.exec(text);
    if (match === null) return null;
    const [whole, amount, unit] = match;
    total += Number(amount) * (DURATION_UNITS[unit ?? ''] ?? Number.NaN);
    position += whole.length;
  }
  return Number.isFinite(total) ? total : null;
}

/** Formats seconds the way a user would write them: 90 → `1m30s`, 0.5 → `500ms`. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  let ms = Math.round(seconds * 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size) {
      parts.push(`${Math.floor(ms / size)}${unit}`);
      ms %= size;
    }
  }
  if (ms > 0) parts.push(`${ms}ms`);
  return parts.join('');
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Parses `512MiB`, `1.5GB`, `1048576` into bytes (rounded down); null when the text is not a size. */
export function parseBytes(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text);
  if (match === null) return null;
  const factor = BYTE_UNITS[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return null;
  const bytes = Math.floor(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** Formats bytes with the largest binary unit that divides them exactly: 536870912 → `512MiB`. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
