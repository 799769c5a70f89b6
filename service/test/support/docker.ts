import { createServer } from 'node:net';
import { getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';

/** Stops, starts, pauses and resumes a dependency in place: the faults the cache must survive. */
export async function dockerControl(container: StartedTestContainer) {
  const client = await getContainerRuntimeClient();
  const handle = client.container.getById(container.getId());
  return {
    // A clean `docker stop`: the test databases run with fsync off, so a kill would lose recent commits.
    stop: () => handle.stop({ t: 10 }),
    start: () => handle.start(),
    pause: () => handle.pause(),
    unpause: () => handle.unpause(),
  };
}

/** A free host port, so a restarted container comes back where the client expects it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
