import { MemorySpool } from '../../../src/spool/MemorySpool.ts';
import { spoolContract } from './spoolContract.ts';

spoolContract('MemorySpool', async (options) => {
  const spool = new MemorySpool(options);
  await spool.open();
  return { spool, cleanup: async () => {} };
});
