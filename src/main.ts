#!/usr/bin/env node
import { runCli } from './cli/runCli.ts';
import { runGateway } from './cli/runGateway.ts';

const outcome = runCli({ argv: process.argv.slice(2), env: process.env, stdout: process.stdout, stderr: process.stderr });
if (outcome.kind === 'exit') process.exitCode = outcome.code;
else await runGateway(outcome.config);
