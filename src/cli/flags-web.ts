/** The web-hardening flags (--web.config.file, --web.max-requests), registered in flags.ts's EXPORTER_FLAGS with one spread. */
import type { ExporterConfig } from '../config.js';
import type { FlagDef, FlagValue, FlagValues } from './parse-args.js';

function nonNegativeInteger(value: FlagValue): string | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? null : 'must be a whole number (0 = no limit)';
}

export const WEB_FLAGS: readonly FlagDef[] = [
  {
    name: 'web.config.file',
    type: 'path',
    default: '',
    placeholder: 'PATH',
    help: 'exporter-toolkit web config (YAML) enabling TLS and/or basic auth; re-read on SIGHUP and when it or its certificates change.',
  },
  {
    name: 'web.max-requests',
    type: 'number',
    default: '40',
    placeholder: 'N',
    help: 'Maximum concurrent requests (health checks excluded); more get 503. 0 = no limit.',
    validate: nonNegativeInteger,
  },
];

/** The `web` config fields these flags set. */
export function webFlagsConfig(values: FlagValues): Pick<ExporterConfig['web'], 'configFile' | 'maxRequests'> {
  return {
    configFile: values.string('web.config.file'),
    maxRequests: values.has('web.max-requests') ? values.number('web.max-requests') : 40,
  };
}
