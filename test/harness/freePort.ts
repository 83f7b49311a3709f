import net from 'node:net';

/** Ports already handed out by this process: never hand one out twice. */
const handedOut = new Set<number>();

function probePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/**
 * A TCP port that is free on 127.0.0.1 right now (the OS picks it: listen on 0, read, close).
 * Within one process the same port is never returned twice, so servers started by one test file
 * cannot collide with each other (a restart keeps its port: it does not call this again).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await probePort(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: the OS kept offering ports this process already handed out');
}
