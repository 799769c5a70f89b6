// A load generator on its own thread (so its own core). Open model: GET requests to `url` on a fixed schedule, sent
// whether or not earlier requests answered. Closed model: `connections` clients each sending as soon as the last
// answer arrived, to measure capacity. Reports each request's status and latency.
import { parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'undici';

const { url, requestsPerSecond, durationMs, connections, mode } = workerData;
const dispatcher = new Agent({ connections, pipelining: 1 });
const start = performance.now();

async function closedModel() {
  const results = [];
  const client = async () => {
    while (performance.now() - start < durationMs) {
      const sent = performance.now();
      const response = await request(url, { dispatcher });
      await response.body.dump();
      results.push({ status: response.statusCode, ms: performance.now() - sent, retryAfter: null });
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  return { offered: results.length, results };
}

async function openModel() {
  const results = [];
  const pending = [];
  const total = Math.floor((requestsPerSecond * durationMs) / 1000);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / requestsPerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      request(url, { dispatcher })
        .then(async (response) => {
          await response.body.dump();
          // Latency from the scheduled send time, so time spent queued behind a slow server counts.
          results.push({ status: response.statusCode, ms: performance.now() - due, retryAfter: response.headers['retry-after'] ?? null });
        })
        .catch((error) => results.push({ status: 0, ms: performance.now() - due, error: String(error) })),
    );
  }
  await Promise.all(pending);
  return { offered: total, results };
}

const outcome = mode === 'closed' ? await closedModel() : await openModel();
await dispatcher.close();
parentPort.postMessage(outcome);
