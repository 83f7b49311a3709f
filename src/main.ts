#!/usr/bin/env node
import { nodeTooOld } from './cli/nodeVersion.ts';

// Static imports are linked before any code runs: an older Node would die on the first one it lacks (node:module's
// registerHooks on Node 20) with a stack trace. So only the version check is imported statically; the rest follows.
const tooOld = nodeTooOld(process.versions.node, process.execPath);
if (tooOld !== undefined) {
  process.stderr.write(tooOld);
  process.exitCode = 78; // EX_CONFIG: the installation is wrong, a restart would not help (RestartPreventExitStatus=78)
} else {
  await import('./cli/entry.ts');
}
