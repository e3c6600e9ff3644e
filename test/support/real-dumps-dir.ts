/**
 * Where the real kube-proxy dumps are (the shared test data with hand-checked readings): $KBE_REAL_DUMPS
 * when set, else shared/real-dumps beside the repository clone (as on the CI machine). Every test that
 * reads them takes the directory from here, so a clone elsewhere needs one variable, and a missing
 * directory fails loudly instead of leaving a test to pass on nothing.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function realDumpsDir(): string {
  const fromEnv = process.env.KBE_REAL_DUMPS;
  const dir = fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : fileURLToPath(new URL('../../../shared/real-dumps', import.meta.url));
  if (!existsSync(dir)) {
    throw new Error(`real dumps directory ${dir} is missing: clone shared/ beside the repository, or set KBE_REAL_DUMPS to its real-dumps directory`);
  }
  return `${dir}/`;
}

/** Absolute, ending in `/`. */
export const REAL_DUMPS_DIR = realDumpsDir();
