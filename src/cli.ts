#!/usr/bin/env node
/** The kube-balance-exporter bin: everything lives in cli/main.ts so it can be tested without a process. */
import { applyV8Flags } from './v8-flags.js';

// Before the rest of the program is loaded, so that nothing runs under V8's defaults first.
applyV8Flags();
const { main } = await import('./cli/main.js');
await main();
