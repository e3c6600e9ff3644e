/**
 * Reloads --web.config.file on SIGHUP and when the file or a certificate it names changes (checked by
 * stat every few seconds: Secret volumes and cert-manager swap files, they do not signal us). A new
 * config is validated whole before anything changes; an invalid one is logged and the old one stays.
 */
import { statSync } from 'node:fs';
import { silentLogger, type Logger } from '../logger-types.js';
import { loadWebConfig, WebConfigError, type WebConfig } from './web-config.js';

export interface WebConfigReloaderOptions {
  readonly path: string;
  readonly initial: WebConfig;
  /** Puts a validated config in force; throws when it cannot (TLS switched on or off needs a restart). */
  readonly apply: (config: WebConfig) => void;
  readonly logger?: Logger;
  /** How often to stat the watched files (default 5 s; 0 = only on SIGHUP / reload()). */
  readonly checkIntervalMs?: number;
  /** Injected for tests. */
  readonly load?: (path: string) => WebConfig;
  readonly fingerprint?: (files: readonly string[]) => string;
}

export type ReloadResult = { readonly ok: true; readonly changed: boolean } | { readonly ok: false; readonly error: string };

/** mtime, size and inode of each file (or its stat error): any change means "read it again". */
export function fingerprintFiles(files: readonly string[]): string {
  return files
    .map((file) => {
      try {
        const st = statSync(file);
        return `${file}:${st.mtimeMs}:${st.size}:${st.ino}`;
      } catch (error) {
        return `${file}:${(error as NodeJS.ErrnoException).code ?? 'error'}`;
      }
    })
    .join('\n');
}

export class WebConfigReloader {
  private current: WebConfig;
  private seen: string;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly logger: Logger;
  private readonly load: (path: string) => WebConfig;
  private readonly fingerprint: (files: readonly string[]) => string;
  private reloads = 0;
  private failures = 0;

  constructor(private readonly options: WebConfigReloaderOptions) {
    this.current = options.initial;
    this.logger = options.logger ?? silentLogger;
    this.load = options.load ?? ((path) => loadWebConfig(path));
    this.fingerprint = options.fingerprint ?? fingerprintFiles;
    this.seen = this.fingerprint(this.current.watchedFiles);
  }

  get config(): WebConfig {
    return this.current;
  }

  /** Successful reloads and rejected ones since start. */
  get counts(): { reloads: number; failures: number } {
    return { reloads: this.reloads, failures: this.failures };
  }

  start(): void {
    const interval = this.options.checkIntervalMs ?? 5_000;
    if (interval <= 0 || this.timer !== null) return;
    this.timer = setInterval(() => this.checkForChanges(), interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The periodic check: reloads only when a watched file changed since the last attempt. */
  checkForChanges(): ReloadResult | null {
    const now = this.fingerprint(this.current.watchedFiles);
    if (now === this.seen) return null;
    return this.reload('file changed');
  }

  /** Reads, validates and applies the file now (SIGHUP). */
  reload(reason: string): ReloadResult {
    // Recorded before reading: a broken file is reported once, not on every check, until it changes again.
    this.seen = this.fingerprint(this.current.watchedFiles);
    let next: WebConfig;
    try {
      next = this.load(this.options.path);
      this.options.apply(next);
    } catch (error) {
      this.failures++;
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error('web config reload failed: keeping the previous configuration', {
        reason,
        file: error instanceof WebConfigError ? error.file : this.options.path,
        ...(error instanceof WebConfigError && error.line !== null ? { line: error.line } : {}),
        error: message,
      });
      return { ok: false, error: message };
    }
    this.current = next;
    // The new config may watch other files (a new cert_file): fingerprint what it names.
    this.seen = this.fingerprint(next.watchedFiles);
    this.reloads++;
    this.logger.info('web config reloaded', { reason, file: this.options.path, tls: next.tls !== null, basic_auth_users: next.users.size });
    return { ok: true, changed: true };
  }
}
