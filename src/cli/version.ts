/** The package version, read at runtime from package.json next to dist/ (or src/ under tests). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** `version` from package.json two levels up from this module (dist/cli/ or src/cli/); 'unknown' if unreadable. */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const version = typeof pkg === 'object' && pkg !== null ? (pkg as { version?: unknown }).version : undefined;
    cached = typeof version === 'string' ? version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
