/**
 * CPU time (user + system) of the calling thread, in ms. For tests that judge how a cost grows: on a loaded
 * machine the wall clock also counts the time the process waits for a core, which has nothing to do with the code.
 */
export function threadCpuMs(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
}
