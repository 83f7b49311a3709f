import { silenceDisabledDebug } from './silenceDisabledDebug.ts';

// Before anything that loads mqtt.js or ioredis: hence the dynamic imports below.
silenceDisabledDebug(process.env);
// A diagnostic (src/stats/MemoryTrace.ts): not loaded at all unless asked for.
if (process.env.EDGEBRIDGE_MEMORY_TRACE)
  (await import('../stats/MemoryTrace.ts')).MemoryTrace.fromEnv(process.env.EDGEBRIDGE_MEMORY_TRACE).start();
const { runCli } = await import('./runCli.ts');
const { runGateway } = await import('./runGateway.ts');

const outcome = runCli({ argv: process.argv.slice(2), env: process.env, stdout: process.stdout, stderr: process.stderr });
if (outcome.kind === 'exit') process.exitCode = outcome.code;
else await runGateway(outcome.config, { source: outcome.source, load: outcome.load });
