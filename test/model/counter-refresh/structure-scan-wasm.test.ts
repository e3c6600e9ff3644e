// structure-scan-wasm.ts must be the build of structure-scan.wat: an edit of the .wat without
// `npm run build:wasm` fails here (the script compiles the .wat with wabt and compares).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../../scripts/build-wasm.mjs', import.meta.url));

describe('structure-scan-wasm.ts', () => {
  it('is the build of structure-scan.wat', () => {
    let failure = '';
    try {
      execFileSync(process.execPath, [SCRIPT, '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      failure = (error as { stderr?: string }).stderr ?? String(error);
    }
    expect(failure).toBe('');
  });
});
