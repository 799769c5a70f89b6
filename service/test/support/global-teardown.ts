import type { StartedTestContainer } from 'testcontainers';

/** Ryuk is disabled where no registry is reachable, so the run removes what it started itself. */
export default async function globalTeardown() {
  const containers = (globalThis as { __containers__?: StartedTestContainer[] }).__containers__ ?? [];
  await Promise.all(containers.map((container) => container.stop({ remove: true, removeVolumes: true })));
}
