/** HTTP basic auth against bcrypt hashes (bcryptjs), with successful checks cached for the life of one web config. */
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

export type AuthVerdict = 'ok' | 'denied' | 'busy';

export interface BasicAuthOptions {
  /** Default bcryptjs.compare; tests inject a counting one. */
  readonly compare?: (password: string, hash: string) => Promise<boolean>;
  /** Comparisons waiting for the bcrypt slot beyond this many are answered 'busy' (default 32). */
  readonly maxPending?: number;
  /** Cached successes kept (default 1024); the cache is cleared when full. */
  readonly cacheSize?: number;
}

/**
 * exporter-toolkit's fixed hash of "fakepassword" (web/handler.go): an unknown user still costs one
 * bcrypt comparison, so response time does not tell which user names exist.
 */
const DECOY_HASH = '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi';

/** Splits an `Authorization: Basic …` header into user and password; null when absent or malformed. */
export function parseBasicAuthorization(header: string | undefined): { user: string; password: string } | null {
  if (header === undefined) return null;
  const match = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header);
  if (match === null) return null;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * One per loaded config (a reload makes a new one, which drops the cache). bcrypt is deliberately slow
 * (~70 ms at cost 10) and bcryptjs runs on the event loop, so comparisons run one at a time and at
 * most `maxPending` may wait: wrong passwords cannot queue unbounded work. Successes are cached by a
 * SHA-256 of user and password, so a scraper pays bcrypt once, and no plaintext password is kept.
 */
export class BasicAuthenticator {
  private readonly compare: (password: string, hash: string) => Promise<boolean>;
  private readonly maxPending: number;
  private readonly cacheSize: number;
  private readonly successes = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    options: BasicAuthOptions = {},
  ) {
    this.compare = options.compare ?? ((password, hash) => bcrypt.compare(password, hash));
    this.maxPending = options.maxPending ?? 32;
    this.cacheSize = options.cacheSize ?? 1024;
  }

  /** False when the config has no basic_auth_users: every request passes. */
  get enabled(): boolean {
    return this.users.size > 0;
  }

  async check(authorization: string | undefined): Promise<AuthVerdict> {
    if (!this.enabled) return 'ok';
    const credentials = parseBasicAuthorization(authorization);
    if (credentials === null) return 'denied';
    const key = createHash('sha256').update(credentials.user).update('\0').update(credentials.password).digest('base64');
    if (this.successes.has(key)) return 'ok';
    if (this.pending >= this.maxPending) return 'busy';

    const hash = this.users.get(credentials.user);
    this.pending++;
    const run = this.queue.then(async () => {
      try {
        return await this.compare(credentials.password, hash ?? DECOY_HASH);
      } catch {
        return false;
      }
    });
    this.queue = run.catch(() => undefined);
    let matched: boolean;
    try {
      matched = await run;
    } finally {
      this.pending--;
    }
    if (!matched || hash === undefined) return 'denied';
    if (this.successes.size >= this.cacheSize) this.successes.clear();
    this.successes.add(key);
    return 'ok';
  }
}
