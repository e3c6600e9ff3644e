/** Rewrites kube-proxy's restore-input rules into the normalised form `iptables-save` prints (checked against both backends). */
import type { IpFamily } from '../../iptables/types.js';
import { savedProbability } from './probability.js';

export class SaveFormatError extends Error {
  readonly code = 'LAB_SAVE_FORMAT';
}

/** Strips the literal double quotes kube-proxy puts around a comment token. */
function unquote(token: string): string {
  return token.length >= 2 && token.startsWith('"') && token.endsWith('"') ? token.slice(1, -1) : token;
}

const NO_QUOTE = /^[A-Za-z0-9_-]+$/;

/** libxtables `xtables_save_string`: bare when only `[A-Za-z0-9_-]`, else double-quoted with `"\'` escaped. */
export function saveString(value: string): string {
  return NO_QUOTE.test(value) ? value : `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

function withPrefix(address: string, family: IpFamily): string {
  if (address.includes('/')) return address;
  return `${address}/${family === 'ipv6' ? 128 : 32}`;
}

interface Match {
  readonly name: string;
  readonly options: string[];
}

/**
 * iptables-save's canonical order is `[!] -s, [!] -d, [!] -p`, then the matches in the order they were
 * given, then `-j TARGET` with its options; each extension prints its own options in its own order.
 */
export function toSaveRule(chain: string, args: readonly string[], family: IpFamily): string {
  let source: string | null = null;
  let destination: string | null = null;
  let protocol: string | null = null;
  const matches: Match[] = [];
  let target: string | null = null;
  const targetOptions: string[] = [];
  let negate = false;
  for (let i = 0; i < args.length; i++) {
    const token = args[i] as string;
    const next = (): string => {
      const value = args[++i];
      if (value === undefined) throw new SaveFormatError(`-A ${chain} ${args.join(' ')}: ${token} needs a value`);
      return value;
    };
    if (token === '!') {
      negate = true;
      continue;
    }
    const bang = negate ? '! ' : '';
    negate = false;
    if (target !== null) {
      targetOptions.push(token);
    } else if (token === '-s') {
      source = `${bang}-s ${withPrefix(next(), family)}`;
    } else if (token === '-d') {
      destination = `${bang}-d ${withPrefix(next(), family)}`;
    } else if (token === '-p') {
      protocol = `${bang}-p ${next()}`;
    } else if (token === '-m') {
      matches.push({ name: next(), options: [] });
    } else if (token === '-j') {
      target = next();
    } else {
      const match = matches[matches.length - 1];
      if (match === undefined) throw new SaveFormatError(`-A ${chain} ${args.join(' ')}: option ${token} outside a match`);
      if (bang !== '') match.options.push('!');
      match.options.push(token);
    }
  }
  const parts = [`-A ${chain}`];
  if (source !== null) parts.push(source);
  if (destination !== null) parts.push(destination);
  if (protocol !== null) parts.push(protocol);
  for (const match of matches) parts.push(`-m ${match.name}${formatMatchOptions(match, family)}`);
  if (target !== null) parts.push(`-j ${target}${formatTargetOptions(target, targetOptions, family)}`);
  return parts.join(' ');
}

function optionValue(options: readonly string[], name: string): string | null {
  const i = options.indexOf(name);
  return i >= 0 ? (options[i + 1] ?? null) : null;
}

function formatMatchOptions(match: Match, family: IpFamily): string {
  const o = match.options;
  switch (match.name) {
    case 'comment':
      return ` --comment ${saveString(unquote(optionValue(o, '--comment') ?? ''))}`;
    case 'statistic': {
      const p = optionValue(o, '--probability');
      return ` --mode ${optionValue(o, '--mode') ?? 'random'}${p === null ? '' : ` --probability ${savedProbability(p)}`}`;
    }
    case 'recent': {
      // libxt_recent prints the mode, then --seconds/--reap, then --name, --mask and the side.
      const mode = ['--set', '--rcheck', '--update', '--remove'].find((m) => o.includes(m)) ?? '';
      const seconds = optionValue(o, '--seconds');
      const mask = family === 'ipv6' ? 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' : '255.255.255.255';
      return ` ${mode}${seconds === null ? '' : ` --seconds ${seconds}`}${o.includes('--reap') ? ' --reap' : ''} --name ${optionValue(o, '--name') ?? 'DEFAULT'} --mask ${mask} --rsource`;
    }
    default:
      return o.length === 0 ? '' : ` ${o.join(' ')}`;
  }
}

function formatTargetOptions(target: string, options: readonly string[], family: IpFamily): string {
  switch (target) {
    case 'MARK': {
      const or = optionValue(options, '--or-mark');
      if (or !== null) return ` --set-xmark ${or}/${or}`;
      const xor = optionValue(options, '--xor-mark');
      if (xor !== null) return ` --set-xmark ${xor}/0x0`;
      return options.length === 0 ? '' : ` ${options.join(' ')}`;
    }
    case 'REJECT':
      return options.length > 0 ? ` ${options.join(' ')}` : ` --reject-with ${family === 'ipv6' ? 'icmp6-port-unreachable' : 'icmp-port-unreachable'}`;
    default:
      return options.length === 0 ? '' : ` ${options.join(' ')}`;
  }
}
