/** A small Dockerfile / .dockerignore reader: enough to check what can be checked without a Docker engine. */

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Instructions in order: continuation lines joined, comments and the parser directive dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\w+)\s+([\s\S]*)$/.exec(full);
    if (m) out.push({ keyword: (m[1] as string).toUpperCase(), args: m[2] as string, line: start });
  });
  return out;
}

/** Groups instructions by FROM; ARGs before the first FROM substitute into FROM lines. */
export function stages(instructions: readonly Instruction[]): Stage[] {
  const globalArgs = new Map<string, string>();
  const out: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      const image = (m[1] as string).replace(/\$\{?(\w+)\}?/g, (_, k: string) => globalArgs.get(k) ?? '');
      out.push({ image, name: m[2], instructions: [] });
    } else if (out.length === 0) {
      const a = /^ARG\s+(\w+)=(\S+)$/.exec(`${ins.keyword} ${ins.args}`);
      if (a) globalArgs.set(a[1] as string, a[2] as string);
    } else {
      out[out.length - 1]?.instructions.push(ins);
    }
  }
  return out;
}

export interface Copy {
  readonly from: string | undefined;
  readonly sources: string[];
  readonly dest: string;
}

/** COPY in shell form (`COPY [--from=x] a b dest`) or exec form (`COPY ["a", "dest"]`). */
export function parseCopy(args: string): Copy {
  let from: string | undefined;
  const words: string[] = [];
  const rest = args.trim();
  const parts = rest.startsWith('[') ? [] : rest.split(/\s+/);
  for (const p of parts) {
    const f = /^--from=(\S+)$/.exec(p);
    if (f) from = f[1];
    else if (!p.startsWith('--')) words.push(p);
  }
  if (rest.startsWith('[')) words.push(...(JSON.parse(rest) as string[]));
  const dest = words.pop();
  if (dest === undefined || words.length === 0) throw new Error(`cannot read COPY ${args}`);
  return { from, sources: words, dest };
}

/** KEY="value" pairs of a LABEL instruction. */
export function parseLabels(args: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of args.matchAll(/([\w.\-/]+)=("((?:[^"\\]|\\.)*)"|\S+)/g)) {
    out.set(m[1] as string, m[3] ?? (m[2] as string));
  }
  return out;
}

/**
 * Whether .dockerignore excludes `path` (POSIX, relative to the context). Docker semantics: the last
 * matching pattern wins, `!` re-includes, and a pattern matching a parent directory matches its files.
 */
export function dockerignoreExcludes(ignore: string, path: string): boolean {
  const patterns = ignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const segments = path.split('/');
  const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const glob = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const re = new RegExp(
      `^${glob
        .split('**')
        .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
        .join('.*')}$`,
    );
    if (prefixes.some((p) => re.test(p))) excluded = !negate;
  }
  return excluded;
}
