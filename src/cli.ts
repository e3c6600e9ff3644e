#!/usr/bin/env node
/** The kube-balance-exporter bin: everything lives in cli/main.ts so it can be tested without a process. */
import { main } from './cli/main.js';

await main();
