import path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface LoadResult {
  offered: number;
  results: { status: number; ms: number; retryAfter: string | null; error?: string }[];
}

/** Runs the open-model load generator on a worker thread, leaving the main thread to the in-process service. */
export function openLoad(url: string, requestsPerSecond: number, durationMs: number, connections = 64): Promise<LoadResult> {
  return runWorker({ url, requestsPerSecond, durationMs, connections, mode: 'open' });
}

/** Capacity: requests per second answered with `connections` clients always waiting on an answer. */
export async function measureCapacity(url: string, durationMs = 3_000, connections = 32): Promise<number> {
  const { results } = await runWorker({ url, requestsPerSecond: 0, durationMs, connections, mode: 'closed' });
  return results.filter((r) => r.status === 200).length / (durationMs / 1000);
}

function runWorker(workerData: object): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'load-worker.mjs'), { workerData });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

export const percentile = (values: number[], p: number) =>
  values.length === 0 ? NaN : [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
