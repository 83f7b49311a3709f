/** The oldest Node that runs edgebridge (package.json "engines"): `registerHooks`, cockatiel 4, `Error.isError`… */
export const MIN_NODE_MAJOR = 24;

/**
 * Undefined when `version` (process.versions.node) is new enough, else the message to print. Imports nothing, so
 * that main.ts can run it before loading any module an older Node cannot link.
 */
export function nodeTooOld(version: string, execPath: string): string | undefined {
  const major = Number(version.split('.')[0]);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  // One line (issue 18): it is what journalctl or a terminal shows of a failed start.
  return `edgebridge: needs Node.js ${MIN_NODE_MAJOR} or newer; this is Node.js ${version} (${execPath}): run it with Node.js ${MIN_NODE_MAJOR} (scripts/install.sh bundles one)\n`;
}
