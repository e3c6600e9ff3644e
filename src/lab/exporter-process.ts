/** Runs the built exporter as a whole process inside the lab's node namespace and scrapes it from there. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LabError, type Lab } from './lab.js';

export interface ExporterOptions {
  /** Path of the built CLI (default: dist/cli.js next to this module, or the project's dist when run from src). */
  readonly cliPath?: string;
  /** host:port inside the node namespace (default 127.0.0.1:10090: namespace-local, no clash with the host). */
  readonly listenAddress?: string;
  /** Extra flags, e.g. `--sample.interval=1s`. */
  readonly args?: readonly string[];
  readonly readyTimeoutMs?: number;
}

export interface ExporterHandle {
  /** The URL as seen from inside the node namespace. */
  readonly url: string;
  readonly pid: number;
  /** GET a path of the exporter from inside the node namespace: `{ status, body }`. */
  get(path?: string): Promise<{ status: number; body: string }>;
  /** Everything the exporter wrote to stdout and stderr so far (its logs). */
  logs(): string;
  stop(): Promise<void>;
}

/** The built CLI: dist/cli.js beside dist/lab/, or <project>/dist/cli.js when this module runs from src/lab/. */
export function defaultCliPath(): string {
  const besides = fileURLToPath(new URL('../cli.js', import.meta.url));
  if (existsSync(besides)) return besides;
  return fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
}

/**
 * `ip netns exec NODE node dist/cli.js --web.listen-address=...`: the exporter sees the node's
 * iptables exactly as on a real node. Resolves once `/metrics` answers 200.
 */
export async function startExporter(lab: Lab, options: ExporterOptions = {}): Promise<ExporterHandle> {
  const cli = options.cliPath ?? defaultCliPath();
  if (!existsSync(cli)) throw new LabError(`exporter CLI ${cli} not found: run \`npm run build\` first`);
  const listen = options.listenAddress ?? '127.0.0.1:10090';
  const child = lab.spawn(lab.nodeNamespace, process.execPath, [cli, `--web.listen-address=${listen}`, ...(options.args ?? [])], 'exporter');
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const url = `http://${listen}`;
  const get = async (path = '/metrics'): Promise<{ status: number; body: string }> => {
    const result = await lab.exec(lab.nodeNamespace, process.execPath, [lab.scriptPath('http-get'), `${url}${path}`], { allowFailure: true, timeoutMs: 15_000 });
    if (result.exitCode !== 0) throw new LabError(`GET ${url}${path} in ${lab.nodeNamespace}: ${result.stderr.trim()}`);
    const newline = result.stdout.indexOf('\n');
    return { status: Number(result.stdout.slice(0, newline)), body: result.stdout.slice(newline + 1) };
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null) throw new LabError(`exporter exited with ${child.exitCode}: ${output.slice(-2000)}`);
    try {
      if ((await get()).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new LabError(`exporter not ready after ${options.readyTimeoutMs ?? 20_000} ms: ${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, pid: child.pid ?? -1, get, logs: () => output, stop };
}
