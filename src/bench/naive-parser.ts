/**
 * The baseline: how generic iptables exporters read iptables-save — the whole output as one string,
 * split into lines, a regex per line, and a full object per rule (every argument kept as a string).
 * Used only by the benchmark (and its agreement test), never by the exporter.
 */

export interface NaiveRule {
  readonly table: string;
  readonly chain: string;
  readonly packets: number;
  readonly bytes: number;
  /** The rule text after `-A CHAIN`, as printed. */
  readonly spec: string;
  /** Every argument, quotes removed. */
  readonly args: string[];
  /** Flag → value, for the flags kube-proxy rules use. */
  readonly options: Record<string, string>;
  readonly target: string | null;
}

export interface NaiveChain {
  readonly name: string;
  readonly policy: string;
  readonly packets: number;
  readonly bytes: number;
  readonly rules: NaiveRule[];
}

export interface NaiveDump {
  readonly tables: Map<string, Map<string, NaiveChain>>;
  readonly lines: number;
}

const TABLE = /^\*(\S+)$/;
const CHAIN = /^:(\S+)\s+(\S+)\s+\[(\d+):(\d+)\]$/;
const RULE = /^\[(\d+):(\d+)\]\s+-A\s+(\S+)\s+(.*)$/;
const ARG = /"((?:[^"\\]|\\.)*)"|(\S+)/g;

export function parseNaive(text: string): NaiveDump {
  const tables = new Map<string, Map<string, NaiveChain>>();
  let table = '';
  let chains = new Map<string, NaiveChain>();
  const lines = text.split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    let m = TABLE.exec(line);
    if (m !== null) {
      table = m[1] as string;
      chains = new Map();
      tables.set(table, chains);
      continue;
    }
    m = CHAIN.exec(line);
    if (m !== null) {
      const name = m[1] as string;
      chains.set(name, { name, policy: m[2] as string, packets: Number(m[3]), bytes: Number(m[4]), rules: [] });
      continue;
    }
    m = RULE.exec(line);
    if (m === null) continue;
    const chainName = m[3] as string;
    const spec = m[4] as string;
    const args: string[] = [];
    for (const a of spec.matchAll(ARG)) args.push(a[1] !== undefined ? a[1].replace(/\\(.)/g, '$1') : (a[2] as string));
    const options: Record<string, string> = {};
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string;
      const next = args[i + 1];
      if (arg.startsWith('-') && next !== undefined && !next.startsWith('-')) options[arg] = next;
    }
    let chain = chains.get(chainName);
    if (chain === undefined) {
      chain = { name: chainName, policy: '-', packets: 0, bytes: 0, rules: [] };
      chains.set(chainName, chain);
    }
    chain.rules.push({
      table,
      chain: chainName,
      packets: Number(m[1]),
      bytes: Number(m[2]),
      spec,
      args,
      options,
      target: options['-j'] ?? options['-g'] ?? null,
    });
  }
  return { tables, lines: lines.length };
}
