/** Reads a saved dump (`--source.file`, `report --input`; `-` is stdin), streamed into one DumpParser per family. */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { DumpParser } from '../iptables/parse-dump.js';
import type { IpFamily, ParsedDump } from '../iptables/types.js';
import { type ChainCaches, type ChainFolding, createChainFolding, type FoldedChains } from '../model/chain-folding.js';
import { type StructureScan, StructureScanner } from '../model/counter-refresh/structure-scanner.js';
import { yieldToEventLoop } from '../slices.js';
import { emptyDump } from './empty-dump.js';
import { FamilyRouter } from './family-router.js';
import type { DumpSink } from './iptables-save.js';
import { SaveError } from './save-error.js';

/** Released text given to a parser at once, at most (about a pipe's chunk: up to the next line end). */
const FEED_PIECE = 1 << 16;

export interface ReadDumpFileOptions {
  /** A path, or '-' for stdin. */
  readonly path: string;
  /** What '-' reads (default process.stdin). */
  readonly stdin?: Readable;
  /** Refuse files larger than this (default 512 MiB, like --sample.max-output-bytes). */
  readonly maxBytes?: number;
  readonly signal?: AbortSignal;
  readonly createParser?: () => DumpSink;
  /**
   * Fold the KUBE-SEP chains and the ladder chains' jumps to them while parsing instead of keeping
   * them in the dumps (chain-folding.ts): each dump's `folded` then goes to buildServiceModel. Ignored
   * with `createParser`.
   */
  readonly foldChains?: boolean;
  /** With `foldChains`: each family's last parse's caches of KUBE-SEP and ladder chain folds (FoldedChains.caches). */
  readonly chainCaches?: ReadonlyMap<IpFamily, ChainCaches>;
  /** Monotonic milliseconds. */
  readonly now?: () => number;
  /** Also scan each family's text for the counter refresh: each FileDump then has `scan`. */
  readonly scan?: boolean;
  /** false: only scan (a scan-only read; needs `scan`); the dumps are then empty. Default true. */
  readonly parse?: boolean;
}

export interface FileDump {
  /** From the content: IPv6 when the rules' addresses are IPv6 (one entry per family in a combined dump). */
  readonly ipFamily: IpFamily;
  readonly dump: ParsedDump;
  /** With `foldChains`: what the dump does not hold, for buildServiceModel. */
  readonly folded?: FoldedChains;
  /** With `scan`: the family's StructureScan. */
  readonly scan?: StructureScan;
}

export interface FileReadResult {
  /** Never empty: an input with no addresses at all is read as IPv4. */
  readonly dumps: readonly FileDump[];
  readonly outputBytes: number;
  readonly durationSeconds: number;
}

/** @throws SaveError code FILE (cannot open/read, too large) or ABORTED; the message names the file. */
export async function readDumpFile(options: ReadDumpFileOptions): Promise<FileReadResult> {
  const now = options.now ?? (() => performance.now());
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  const name = options.path === '-' ? 'stdin' : options.path;
  const started = now();
  const fold = options.createParser === undefined && options.foldChains === true;
  const foldings = new Map<IpFamily, ChainFolding>();
  const parse = options.parse ?? true;
  const scanners = new Map<IpFamily, StructureScanner>();
  const createDumpParser = (family: IpFamily): DumpSink => {
    if (!parse) return { push: () => undefined, end: emptyDump };
    if (options.createParser !== undefined) return options.createParser();
    if (!fold) return new DumpParser();
    const folding = createChainFolding(options.chainCaches?.get(family));
    foldings.set(family, folding);
    return new DumpParser(folding.parserOptions);
  };
  const createParser = (family: IpFamily): DumpSink => {
    const parser = createDumpParser(family);
    if (options.scan !== true) return parser;
    const scanner = new StructureScanner();
    scanners.set(family, scanner);
    return {
      push(text) {
        parser.push(text);
        scanner.push(text);
      },
      end: () => parser.end(),
    };
  };
  const parsers = new Map<IpFamily, DumpSink>();
  // The router holds a block's lines until one shows its family, and kube-proxy declares every chain
  // before the first rule with an address: 8 MB at once at 20,000 services × 10 endpoints. What it
  // releases goes to the parsers a pipe's chunk at a time, with a turn of the event loop before each.
  const released: Array<readonly [IpFamily, string]> = [];
  const router = new FamilyRouter((family, text) => released.push([family, text]));
  const feedReleased = async (): Promise<void> => {
    for (const [family, text] of released.splice(0)) {
      let parser = parsers.get(family);
      if (parser === undefined) {
        parser = createParser(family);
        parsers.set(family, parser);
      }
      if (text.length <= FEED_PIECE) {
        parser.push(text);
        continue;
      }
      for (let start = 0; start < text.length; ) {
        await yieldToEventLoop();
        const nl = text.indexOf('\n', start + FEED_PIECE);
        const end = nl < 0 ? text.length : nl + 1;
        parser.push(text.slice(start, end));
        start = end;
      }
    }
  };

  const stream = options.path === '-' ? (options.stdin ?? process.stdin) : createReadStream(options.path);
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      if (options.signal?.aborted) throw new SaveError('ABORTED', 'aborted', { command: name });
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buffer.length;
      if (bytes > maxBytes) throw new SaveError('FILE', `larger than ${maxBytes} bytes`, { command: name, outputBytes: bytes });
      router.push(decoder.write(buffer));
      await feedReleased();
    }
    router.push(decoder.end());
    router.end();
    await feedReleased();
  } catch (error) {
    if (error instanceof SaveError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : `cannot read: ${String(error)}`;
    throw new SaveError('FILE', detail, { command: name, outputBytes: bytes }, { cause: error });
  } finally {
    if (options.path !== '-' && 'destroy' in stream) stream.destroy();
  }

  const families = router.families.length > 0 ? router.families : (['ipv4'] as IpFamily[]);
  const dumps = families.map((ipFamily): FileDump => {
    const dump = (parsers.get(ipFamily) ?? createParser(ipFamily)).end();
    const folding = foldings.get(ipFamily);
    const scan = scanners.get(ipFamily)?.end();
    return {
      ipFamily,
      dump,
      ...(folding === undefined ? {} : { folded: folding.finish() }),
      ...(scan === undefined ? {} : { scan }),
    };
  });
  return { dumps, outputBytes: bytes, durationSeconds: (now() - started) / 1000 };
}
