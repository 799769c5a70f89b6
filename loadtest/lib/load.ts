/**
 * The one load generator of `npm run loadtest` and `npm run bench`. Two shapes of load, one recorder:
 * - **closed loop** (`connections`, no `ratePerSecond`): autocannon, each connection sending its next request when the
 *   last one is answered — the throughput comparisons. With `requests`, it stops after that many answers instead of
 *   after `seconds` (every request is answered, which matters when answers take seconds).
 * - **open model** (`ratePerSecond`): requests issued evenly spaced at a fixed arrival rate whether or not earlier
 *   ones were answered, on a keep-alive agent of at most `connections` sockets (waiting for one counts in the latency).
 *   autocannon cannot do this: its `overallRate` sends each connection's per-second quota back to back and waits for
 *   answers, so a slow service slows the load down (coordinated omission).
 * Latencies go into an HdrHistogram (hdr-histogram-js, microsecond resolution, 3 significant digits).
 */
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

/** One request: method (GET), path with query, optional JSON body and headers. */
export interface RequestShape {
  method?: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadSpec {
  /** Origin, e.g. http://127.0.0.1:4711 */
  origin: string;
  /** A fixed path, or a function giving each request its path (or whole request; open model only). */
  path: string | (() => string | RequestShape);
  /** Closed loop: concurrent connections. Open model: the most sockets kept (default: enough never to wait). */
  connections: number;
  seconds: number;
  /** Requests per second, evenly spaced (the open model); closed loop when absent. */
  ratePerSecond?: number;
  /** Closed loop only: stop after this many answers rather than after `seconds`. */
  requests?: number;
  timeoutSeconds: number;
  headers?: Record<string, string>;
  /** The server's process id, to account its CPU time (Linux). */
  serverPid?: number;
  /** Called with every answer (latency in ms, status, `error.code` of a 4xx/5xx JSON body when there is one). */
  onAnswer?: (latencyMs: number, status: number, code: string | undefined) => void;
  /** Called for every request that got no answer (connection error, reset or timeout). */
  onNoAnswer?: (timeout: boolean) => void;
  /** Stops the load early (the run then reports what was answered). */
  signal?: AbortSignal;
}

export interface LoadRun {
  /** Every answer's latency (any status), µs. */
  histogram: hdr.JsHistogram;
  /** Requests sent (open model: issued on schedule; closed loop: answered + no answer). */
  sent: number;
  requests: number;
  requestsPerSecond: number;
  /** Latency percentiles and maximum, ms; NaN when nothing was answered. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers by status, e.g. `200`, and by `error.code` when a 4xx/5xx JSON body had one, e.g. `409 OUT_OF_STOCK`. */
  statuses: Record<string, number>;
  /** Socket errors and timeouts (no answer at all). */
  errors: number;
  timeouts: number;
  /** Wall time of the run, s. */
  seconds: number;
  /** CPU this process (the load generator) used, as a fraction of one core: near 1 means it may be the limit. */
  loadGeneratorCpu: number;
  /** CPU the server process used, as a fraction of one core, and per answered request (ms). */
  serverCpu: number;
  serverCpuMsPerRequest: number;
  /** Cores busy machine-wide during the run (the load generator, the server, PostgreSQL, Redis and anything else). */
  machineBusyCores: number;
}

/** An empty latency histogram: values in µs from 1 µs to 1 h, 3 significant digits. */
export const latencyHistogram = (): hdr.JsHistogram => new hdr.Int32Histogram(1, 3_600_000_000, 3);

/**
 * The latency at percentile `p` (0 < p ≤ 100) of a histogram, in ms: the smallest recorded value with at least p % of
 * the values at or below it, as the lower end of its histogram bucket (3 significant digits: at most 0.1 % below the
 * value, so an answer exactly at a threshold is not over it). `null` when nothing was recorded; RangeError for a bad `p`.
 */
export function percentile(histogram: hdr.JsHistogram, p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  return histogram.totalCount === 0 ? null : histogram.lowestEquivalentValue(histogram.getValueAtPercentile(p)) / 1000;
}

/** Milliseconds for people: two decimals under 10, one under 100, none above; `n/a` for null or NaN. */
export const formatMs = (ms: number | null): string =>
  ms === null || !Number.isFinite(ms) ? 'n/a' : ms >= 100 ? String(Math.round(ms)) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);

/** The median of per-run figures (not of latencies), ignoring NaN; NaN when there is none. */
export function median(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

const errorCodeOf = (body: string): string | undefined => {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
};

const shapeOf = (spec: LoadSpec): (() => RequestShape) => {
  const p = spec.path;
  if (typeof p === 'string') return () => ({ path: p });
  return () => {
    const next = p();
    return typeof next === 'string' ? { path: next } : next;
  };
};

/** One load run of either shape (see the module comment). */
export async function runLoad(spec: LoadSpec): Promise<LoadRun> {
  const histogram = latencyHistogram();
  const statuses: Record<string, number> = {};
  const failed = { errors: 0, timeouts: 0 };
  const answer = (ms: number, status: number, code?: string) => {
    histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
    const key = code ? `${status} ${code}` : String(status);
    statuses[key] = (statuses[key] ?? 0) + 1;
    spec.onAnswer?.(ms, status, code);
  };
  const noAnswer = (timeout: boolean, count = 1) => {
    failed[timeout ? 'timeouts' : 'errors'] += count;
    for (let i = 0; i < count; i++) spec.onNoAnswer?.(timeout);
  };
  const cpuBefore = process.cpuUsage();
  const serverBefore = spec.serverPid ? processCpuMs(spec.serverPid) : undefined;
  const machineBefore = machineCpu();
  const started = performance.now();
  const sent = spec.ratePerSecond ? await openModel(spec, spec.ratePerSecond, answer, noAnswer) : await closedLoop(spec, answer, noAnswer);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const serverAfter = spec.serverPid ? processCpuMs(spec.serverPid) : undefined;
  const serverMs = serverBefore !== undefined && serverAfter !== undefined ? serverAfter - serverBefore : Number.NaN;
  const requests = histogram.totalCount;
  const ms = (p: number) => percentile(histogram, p) ?? Number.NaN;
  return {
    histogram,
    sent: sent ?? requests + failed.errors + failed.timeouts,
    requests,
    requestsPerSecond: requests / (wallMs / 1000),
    p50Ms: ms(50),
    p90Ms: ms(90),
    p99Ms: ms(99),
    maxMs: requests ? histogram.maxValue / 1000 : Number.NaN,
    statuses,
    ...failed,
    seconds: wallMs / 1000,
    loadGeneratorCpu: (cpu.user + cpu.system) / 1000 / wallMs,
    serverCpu: serverMs / wallMs,
    serverCpuMsPerRequest: serverMs / requests,
    machineBusyCores: busyCores(machineBefore, machineCpu()),
  };
}

async function closedLoop(
  spec: LoadSpec,
  answer: (ms: number, status: number) => void,
  noAnswer: (timeout: boolean, count: number) => void,
): Promise<undefined> {
  const next = shapeOf(spec);
  const first = next();
  const instance = autocannon({
    url: spec.origin,
    connections: spec.connections,
    ...(spec.requests ? { amount: spec.requests } : { duration: spec.seconds }),
    timeout: spec.timeoutSeconds,
    ...(spec.headers ? { headers: spec.headers } : {}),
    requests: [{ method: first.method ?? 'GET', path: first.path, ...(typeof spec.path === 'function' ? { setupRequest: (req) => ({ ...req, ...next() }) } : {}) }],
  });
  const stop = () => instance.stop();
  spec.signal?.addEventListener('abort', stop, { once: true });
  instance.on('response', (_client, status, _bytes, ms) => answer(ms, status));
  const result = await instance;
  spec.signal?.removeEventListener('abort', stop);
  noAnswer(false, result.errors - result.timeouts);
  noAnswer(true, result.timeouts);
  return undefined;
}

/** Issues requests on schedule (a 1 ms timer catching up on every due request); resolves with the number sent. */
async function openModel(
  spec: LoadSpec,
  rate: number,
  answer: (ms: number, status: number, code?: string) => void,
  noAnswer: (timeout: boolean) => void,
): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const next = shapeOf(spec);
  const inflight = new Set<Promise<void>>();
  const send = () =>
    new Promise<void>((resolve) => {
      const shape = next();
      const issued = performance.now();
      let timedOut = false;
      const headers = { ...spec.headers, ...shape.headers, ...(shape.body === undefined ? {} : { 'content-type': 'application/json' }) };
      const req = http.request(`${spec.origin}${shape.path}`, { method: shape.method ?? 'GET', agent, headers }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => status >= 400 && chunks.push(chunk));
        res.on('end', () => {
          answer(performance.now() - issued, status, status >= 400 ? errorCodeOf(Buffer.concat(chunks).toString('utf8')) : undefined);
          resolve();
        });
      });
      req.on('error', () => {
        noAnswer(timedOut);
        resolve();
      });
      req.setTimeout(spec.timeoutSeconds * 1000, () => {
        timedOut = true;
        req.destroy();
      });
      req.end(shape.body);
    });
  const total = Math.round(rate * spec.seconds);
  const intervalMs = 1000 / rate;
  const started = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const finish = () => {
      clearInterval(timer);
      spec.signal?.removeEventListener('abort', finish);
      resolve();
    };
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
      for (; sent < due; sent++) {
        const done = send();
        inflight.add(done);
        void done.finally(() => inflight.delete(done));
      }
      if (sent >= total) finish();
    };
    const timer = setInterval(tick, 1);
    spec.signal?.addEventListener('abort', finish, { once: true });
    if (spec.signal?.aborted) finish();
    else tick();
  });
  await Promise.all(inflight);
  agent.destroy();
  return sent;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** One plain HTTP request (setup calls, the stampede, /metrics timing). */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`timed out: ${url}`)));
    req.end(options.body);
  });
}

/** CPU time a process has used so far, in ms (Linux /proc, USER_HZ 100); undefined when unavailable. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Machine-wide CPU counters (Linux /proc/stat): busy and total ticks; undefined when unavailable. */
function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const n = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal
    return { busy: total - (n[3] ?? 0) - (n[4] ?? 0), total }; // minus idle and iowait
  } catch {
    return undefined;
  }
}

function busyCores(before: ReturnType<typeof machineCpu>, after: ReturnType<typeof machineCpu>): number {
  if (!before || !after || after.total === before.total) return Number.NaN;
  return ((after.busy - before.busy) / (after.total - before.total)) * os.cpus().length;
}

/** A case measured over several runs: the medians of their figures (the bench's unit of comparison). */
export interface Measured {
  /** The runs' figures, without their histograms. */
  runs: Omit<LoadRun, 'histogram'>[];
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Share of answers that were not 2xx, plus errors and timeouts, over all runs. */
  failedShare: number;
  loadGeneratorCpu: number;
  serverCpu: number;
  serverCpuMsPerRequest: number;
  machineBusyCores: number;
}

export function summarize(runs: LoadRun[]): Measured {
  let total = 0, failed = 0;
  for (const run of runs) {
    for (const [status, count] of Object.entries(run.statuses)) {
      total += count;
      if (!status.startsWith('2')) failed += count;
    }
    total += run.errors + run.timeouts;
    failed += run.errors + run.timeouts;
  }
  const med = (key: keyof Omit<Measured, 'runs' | 'failedShare'>) => median(runs.map((r) => r[key]));
  return {
    runs: runs.map(({ histogram: _, ...figures }) => figures),
    requestsPerSecond: med('requestsPerSecond'),
    p50Ms: med('p50Ms'),
    p99Ms: med('p99Ms'),
    maxMs: med('maxMs'),
    failedShare: total ? failed / total : 0,
    loadGeneratorCpu: med('loadGeneratorCpu'),
    serverCpu: med('serverCpu'),
    serverCpuMsPerRequest: med('serverCpuMsPerRequest'),
    machineBusyCores: med('machineBusyCores'),
  };
}

/** A warm-up run of `warmupSeconds` (discarded; none when 0) followed by `runs` measured runs. */
export async function measure(spec: LoadSpec, runs: number, warmupSeconds: number): Promise<Measured> {
  if (warmupSeconds > 0) await runLoad({ ...spec, seconds: warmupSeconds });
  const results: LoadRun[] = [];
  for (let i = 0; i < runs; i++) results.push(await runLoad(spec));
  return summarize(results);
}
