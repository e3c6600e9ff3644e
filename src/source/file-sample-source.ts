/** `--source.file` as a SampleSource: re-reads the file every sample (a test may rewrite it); stdin is read once. */
import { readDumpFile, type ReadDumpFileOptions } from './file-source.js';
import type { FamilyRead, SampleSource } from './sample-source.js';
import { isSaveError } from './save-error.js';

export function createFileSource(options: Omit<ReadDumpFileOptions, 'signal'>): SampleSource {
  let stdinReads: Promise<readonly FamilyRead[]> | null = null;
  const name = options.path === '-' ? 'stdin' : options.path;

  async function read(signal: AbortSignal): Promise<readonly FamilyRead[]> {
    try {
      // The sampler only builds the model from the dumps: their KUBE-SEP rules are folded, not kept.
      const result = await readDumpFile({ foldEndpointChains: true, ...options, signal });
      return result.dumps.map(({ ipFamily, dump, endpointChains }) => ({
        ok: true as const,
        ipFamily,
        backend: 'file' as const,
        command: name,
        dump,
        outputBytes: result.outputBytes,
        durationSeconds: result.durationSeconds,
        costSeconds: result.durationSeconds,
        stderrTail: '',
        ...(endpointChains === undefined ? {} : { endpointChains }),
      }));
    } catch (error) {
      if (signal.aborted || isSaveError(error, 'ABORTED')) throw error;
      return [
        {
          ok: false as const,
          ipFamily: 'ipv4' as const,
          backend: 'file' as const,
          command: name,
          error: error instanceof Error ? error : new Error(String(error)),
          stage: 'save' as const,
          outputBytes: isSaveError(error) ? (error.context.outputBytes ?? 0) : 0,
          durationSeconds: 0,
          costSeconds: 0,
        },
      ];
    }
  }

  return (signal) => {
    if (options.path !== '-') return read(signal);
    // stdin cannot be read twice: every sample sees the same dump (counters do not move).
    stdinReads ??= read(signal);
    return stdinReads;
  };
}
