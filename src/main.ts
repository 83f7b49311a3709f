#!/usr/bin/env node
import { silenceDisabledDebug } from './cli/silenceDisabledDebug.ts';

// Before anything that loads mqtt.js or ioredis: hence the dynamic imports below.
silenceDisabledDebug(process.env);
const { runCli } = await import('./cli/runCli.ts');
const { runGateway } = await import('./cli/runGateway.ts');

const outcome = runCli({ argv: process.argv.slice(2), env: process.env, stdout: process.stdout, stderr: process.stderr });
if (outcome.kind === 'exit') process.exitCode = outcome.code;
else await runGateway(outcome.config);
