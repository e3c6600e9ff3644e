/** The Dockerfile cannot be built here (no Docker engine): check what is checkable statically. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dockerignoreExcludes, parseCopy, parseDockerfile, parseLabels, stages, type Stage } from './dockerfile.js';
import { IMAGE_NODE_ENV } from '../../src/bench/image-env.js';
import { REPO } from './render.js';

interface PackageJson {
  version: string;
  license: string;
  type: string;
  bin: Record<string, string>;
  engines: { node: string };
}
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as PackageJson;
const buildTsconfig = JSON.parse(readFileSync(join(REPO, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { outDir: string } };
const dockerignore = readFileSync(join(REPO, '.dockerignore'), 'utf8');
const instructions = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
const all = stages(instructions);
const runtime = all[all.length - 1] as Stage;

/**
 * Node.js LTS lines, from the Node.js Release WG's schedule.json (lts = Active LTS start, end = EOL).
 * When the Dockerfile moves to a new major, add its line here.
 */
const NODE_LTS: Record<number, { lts: string; end: string }> = {
  20: { lts: '2023-10-24', end: '2026-04-30' },
  22: { lts: '2024-10-29', end: '2027-04-30' },
  24: { lts: '2025-10-28', end: '2028-04-30' },
  26: { lts: '2026-10-28', end: '2029-04-30' },
};

function nodeImage(stage: Stage): { major: number; suite: string; slim: boolean } {
  const m = /^(?:docker\.io\/library\/)?node:(\d+)(?:\.\d+){0,2}-(\w+?)(-slim)?(?:@sha256:[0-9a-f]{64})?$/.exec(stage.image);
  if (!m) throw new Error(`stage ${stage.name ?? '?'}: ${stage.image} is not an official node:<major>-<debian suite>[-slim] image`);
  return { major: Number(m[1]), suite: m[2] as string, slim: m[3] !== undefined };
}

function only(stage: Stage, keyword: string): string {
  const hits = stage.instructions.filter((i) => i.keyword === keyword);
  expect(hits, `${keyword} in stage ${stage.name}`).toHaveLength(1);
  return (hits[0] as { args: string }).args;
}

function workdir(stage: Stage): string {
  return only(stage, 'WORKDIR');
}

describe('Dockerfile', () => {
  it('runs on a slim Debian image of a supported Node LTS that satisfies package.json engines', () => {
    const images = all.map(nodeImage);
    const rt = nodeImage(runtime);
    expect(rt.slim).toBe(true);
    // Same major and Debian suite everywhere: what `npm ci` resolved and built is what runs.
    for (const img of images) expect({ major: img.major, suite: img.suite }).toEqual({ major: rt.major, suite: rt.suite });
    const min = /^>=\s*(\d+)(?:\.(\d+))?/.exec(pkg.engines.node);
    if (!min) throw new Error(`cannot read engines.node ${pkg.engines.node}`);
    expect(rt.major).toBeGreaterThanOrEqual(Number(min[1]));
    const line = NODE_LTS[rt.major];
    if (!line) throw new Error(`node ${rt.major} is not a known LTS line; add it to NODE_LTS from the Node.js release schedule`);
    const today = new Date().toISOString().slice(0, 10);
    expect(today >= line.lts, `node ${rt.major} is not LTS until ${line.lts}`).toBe(true);
    expect(today < line.end, `node ${rt.major} reached end of life on ${line.end}: move the image to a newer LTS`).toBe(true);
    expect(only(runtime, 'LABEL')).toContain(`org.opencontainers.image.base.name="docker.io/library/${runtime.image}"`);
  });

  it('COPYs only files that exist and that .dockerignore lets into the context', () => {
    const names = all.map((s) => s.name);
    for (const [i, stage] of all.entries()) {
      for (const ins of stage.instructions.filter((x) => x.keyword === 'COPY' || x.keyword === 'ADD')) {
        expect(ins.keyword, `line ${ins.line}: use COPY`).toBe('COPY');
        const copy = parseCopy(ins.args);
        if (copy.from !== undefined) {
          // A build output of an earlier stage.
          expect(names.slice(0, i), `line ${ins.line}: --from=${copy.from}`).toContain(copy.from);
          continue;
        }
        for (const src of copy.sources) {
          expect(existsSync(join(REPO, src)), `line ${ins.line}: ${src} does not exist`).toBe(true);
          expect(dockerignoreExcludes(dockerignore, src), `line ${ins.line}: .dockerignore excludes ${src}`).toBe(false);
        }
      }
    }
    // And the allow-list really keeps the heavy and irrelevant things out.
    for (const p of ['node_modules/express/package.json', 'dist/cli.js', '.git/HEAD', 'test/deploy/render.ts', 'deploy/base/daemonset.yaml']) {
      expect(dockerignoreExcludes(dockerignore, p), p).toBe(true);
    }
  });

  it('the runtime gets dist/ from the build stage and production-only node_modules', () => {
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => parseCopy(i.args));
    const build = all.find((s) => s.name === copies.find((c) => c.sources.some((s) => s.endsWith('/dist')))?.from);
    if (!build) throw new Error('no COPY --from=<stage> of dist');
    expect(copies.find((c) => c.from === build.name)?.sources).toEqual([posix.join(workdir(build), buildTsconfig.compilerOptions.outDir)]);
    expect(build.instructions.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args))).toBe(true);
    const depsCopy = copies.find((c) => c.sources.some((s) => s.endsWith('/node_modules')));
    const deps = all.find((s) => s.name === depsCopy?.from);
    if (!deps) throw new Error('no COPY --from=<stage> of node_modules');
    expect(deps.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    // "type": "module" lives in package.json: without it node would load dist/*.js as CommonJS.
    expect(pkg.type).toBe('module');
    expect(copies).toContainEqual({ from: undefined, sources: ['package.json'], dest: './' });
  });

  it('installs iptables and tini, and the entrypoint is tini running package.json bin', () => {
    const run = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
    expect(run).toMatch(/apt-get install -y --no-install-recommends [^&]*\biptables\b/);
    expect(run).toMatch(/apt-get install -y --no-install-recommends [^&]*\btini\b/);
    const entrypoint = JSON.parse(only(runtime, 'ENTRYPOINT')) as string[];
    expect(entrypoint).toEqual(['/usr/bin/tini', '--', 'node', '/app/dist/cli.js']);
    expect(Object.values(pkg.bin)).toEqual(['dist/cli.js']);
    expect(entrypoint[3]).toBe(posix.join(workdir(runtime), pkg.bin['kube-balance-exporter'] as string));
    expect(runtime.instructions.some((i) => i.keyword === 'CMD'), 'flags belong to the pod args').toBe(false);
  });

  it('gives node the environment the memory benchmark runs with (src/bench/image-env.ts IMAGE_NODE_ENV)', () => {
    const env = new Map(runtime.instructions.filter((i) => i.keyword === 'ENV').flatMap((i) => [...parseLabels(i.args)]));
    for (const [name, value] of Object.entries(IMAGE_NODE_ENV)) expect(env.get(name), name).toBe(value);
    expect(env.get('NODE_ENV')).toBe('production');
    // node refuses to start (exit 9) when NODE_OPTIONS holds an option it does not allow there; the heap
    // limit it then reports is the old space asked for plus the young generation.
    const node = spawnSync(process.execPath, ['-p', 'require("node:v8").getHeapStatistics().heap_size_limit'], {
      env: { ...process.env, ...IMAGE_NODE_ENV },
      encoding: 'utf8',
    });
    expect(node.stderr).toBe('');
    expect(node.status).toBe(0);
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(IMAGE_NODE_ENV.NODE_OPTIONS ?? '')?.[1]);
    const limitMiB = Number(node.stdout) / 2 ** 20;
    expect(limitMiB).toBeGreaterThanOrEqual(oldSpace);
    expect(limitMiB).toBeLessThan(oldSpace + 64);
  });

  it('runs as numeric USER 0 and EXPOSEs the default listen port', () => {
    expect(only(runtime, 'USER')).toBe('0');
    const arch = readFileSync(join(REPO, 'docs/architecture.md'), 'utf8');
    const port = /\|\s*`--web\.listen-address`\s*\|\s*`[^`]*:(\d+)`/.exec(arch)?.[1];
    expect(port, 'default --web.listen-address in docs/architecture.md').toBeDefined();
    expect(only(runtime, 'EXPOSE')).toBe(port);
    const ds = parse(readFileSync(join(REPO, 'deploy/base/daemonset.yaml'), 'utf8')) as {
      spec: { template: { spec: { containers: Array<{ ports: Array<{ containerPort: number }> }> } } };
    };
    expect(String(ds.spec.template.spec.containers[0]?.ports[0]?.containerPort)).toBe(port);
  });

  it('carries OCI labels consistent with package.json', () => {
    const labels = parseLabels(only(runtime, 'LABEL'));
    const args = new Map(
      runtime.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=') as [string, string]),
    );
    for (const key of ['title', 'description', 'version', 'revision', 'source', 'licenses']) {
      expect(labels.get(`org.opencontainers.image.${key}`), key).toBeTruthy();
    }
    expect(labels.get('org.opencontainers.image.title')).toBe(Object.keys(pkg.bin)[0]);
    expect(labels.get('org.opencontainers.image.licenses')).toBe(pkg.license);
    expect(labels.get('org.opencontainers.image.version')).toBe('${VERSION}');
    expect(args.get('VERSION')).toBe(pkg.version);
  });
});
