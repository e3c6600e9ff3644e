/** Every model/CLI fixture dump and every real dump in ../shared: the inputs equivalence tests run over. */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { REAL_DUMPS_DIR } from './real-dumps-dir.js';

const DIRS = [
  fileURLToPath(new URL('../fixtures/model/', import.meta.url)),
  fileURLToPath(new URL('../fixtures/cli/', import.meta.url)),
  REAL_DUMPS_DIR,
];

/** Absolute paths, sorted per directory; throws when a directory is missing (a test must not pass on nothing). */
export const DUMP_FILES: readonly string[] = DIRS.flatMap((dir) => {
  if (!existsSync(dir)) throw new Error(`fixture directory ${dir} is missing`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => `${dir}${f}`);
});
