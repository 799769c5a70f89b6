import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { busyCores, machineCpu, processCpuMs } from './machine';

/*
 * autocannon ships no types. Rather than declare the module (a sibling may do so), it is required and given the
 * small interface used here.
 */
interface AutocannonRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  setupRequest?: (request: { path: string }) => { path: string };
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  overallRate?: number;
  requests: AutocannonRequest[];
}
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): this;
}
const autocannon = require('autocannon') as (options: AutocannonOptions) => AutocannonInstance;

export interface LoadSpec {
  /** Origin, e.g. http://127.0.0.1:4711 */
  origin: string;
  /** A fixed path, or a function giving each request its path. */
  path: string | (() => string);
  connections: number;
  seconds: number;
  /** Fixed request rate over all connections; closed loop (as fast as answered) when absent. */
  ratePerSecond?: number;
  timeoutSeconds: number;
  /** The server's process id, to account its CPU time (Linux). */
  serverPid?: number;
  /** Request headers, e.g. If-None-Match for the conditional (304) path. */
  headers?: Record<string, string>;
}

export interface LoadRun {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
  /** Socket errors and timeouts (no response at all). */
  errors: number;
  timeouts: number;
  /** CPU this process (the load generator) used, as a fraction of one core: near 1 means it may be the limit. */
  loadGeneratorCpu: number;
  /** CPU the server process used, as a fraction of one core, and per answered request (ms). */
  serverCpu: number;
  serverCpuMsPerRequest: number;
  /** Cores busy machine-wide during the run (the load generator, the server, PostgreSQL, Redis and anything else). */
  machineBusyCores: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/**
 * One autocannon run. Latencies are recorded here from every response (any status, sub-millisecond precision);
 * requests still in flight when the run ends are not counted, as in autocannon.
 */
export async function runLoad(spec: LoadSpec): Promise<LoadRun> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const pathOf = spec.path;
  const request: AutocannonRequest =
    typeof pathOf === 'string'
      ? { method: 'GET', path: pathOf, headers: spec.headers }
      : { method: 'GET', path: pathOf(), headers: spec.headers, setupRequest: (req) => ({ ...req, path: pathOf() }) };
  const cpuBefore = process.cpuUsage();
  const serverBefore = spec.serverPid ? processCpuMs(spec.serverPid) : undefined;
  const machineBefore = machineCpu();
  const started = performance.now();
  const instance = autocannon({
    url: spec.origin,
    connections: spec.connections,
    duration: spec.seconds,
    timeout: spec.timeoutSeconds,
    ...(spec.ratePerSecond ? { overallRate: spec.ratePerSecond } : {}),
    requests: [request],
  });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    latencies.push(responseTimeMs);
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const serverAfter = spec.serverPid ? processCpuMs(spec.serverPid) : undefined;
  const serverMs = serverBefore !== undefined && serverAfter !== undefined ? serverAfter - serverBefore : Number.NaN;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    requestsPerSecond: latencies.length / (result.duration || wallMs / 1000),
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    loadGeneratorCpu: (cpu.user + cpu.system) / 1000 / wallMs,
    serverCpu: serverMs / wallMs,
    serverCpuMsPerRequest: serverMs / latencies.length,
    machineBusyCores: busyCores(machineBefore, machineCpu()),
  };
}

export interface Measured {
  runs: LoadRun[];
  /** Medians over the runs. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Share of responses that were not 2xx, plus errors and timeouts, over all runs. */
  failedShare: number;
  loadGeneratorCpu: number;
  serverCpu: number;
  serverCpuMsPerRequest: number;
  machineBusyCores: number;
}

export function summarize(runs: LoadRun[]): Measured {
  let total = 0;
  let failed = 0;
  for (const run of runs) {
    for (const [status, count] of Object.entries(run.statuses)) {
      total += count;
      if (!status.startsWith('2')) failed += count;
    }
    total += run.errors + run.timeouts;
    failed += run.errors + run.timeouts;
  }
  return {
    runs,
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    maxMs: median(runs.map((r) => r.maxMs)),
    failedShare: total ? failed / total : 0,
    loadGeneratorCpu: median(runs.map((r) => r.loadGeneratorCpu)),
    serverCpu: median(runs.map((r) => r.serverCpu)),
    serverCpuMsPerRequest: median(runs.map((r) => r.serverCpuMsPerRequest)),
    machineBusyCores: median(runs.map((r) => r.machineBusyCores)),
  };
}

/** A warm-up run (discarded) followed by `runs` measured runs. */
export async function measure(spec: LoadSpec, runs: number, warmupSeconds: number): Promise<Measured> {
  if (warmupSeconds > 0) await runLoad({ ...spec, seconds: warmupSeconds });
  const results: LoadRun[] = [];
  for (let i = 0; i < runs; i++) results.push(await runLoad(spec));
  return summarize(results);
}

export interface HttpResult {
  status: number;
  body: string;
  ms: number;
}

/** One plain HTTP request (used for setup calls, the stampede and /metrics timing). */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`timed out: ${url}`)));
    req.end(options.body);
  });
}

export interface PacedSpec {
  origin: string;
  path: string | (() => string);
  /** Requests started per second, evenly spaced, whether or not earlier ones have been answered (an open model). */
  ratePerSecond: number;
  seconds: number;
  /** Keep-alive connections at most; requests beyond them wait for one, and that wait counts in their latency. */
  maxConnections: number;
  timeoutSeconds: number;
  serverPid?: number;
}

/**
 * Sends GETs on one keep-alive agent and records each answer's latency (from the moment it was issued) and status,
 * errors and timeouts: what both hand-made loads below share.
 */
function createRecorder(spec: { origin: string; path: LoadSpec['path']; timeoutSeconds: number }, maxSockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  const pathOf = spec.path;
  const send = () =>
    new Promise<void>((resolve) => {
      const issued = performance.now();
      let timedOut = false;
      const req = http.get(`${spec.origin}${typeof pathOf === 'string' ? pathOf : pathOf()}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - issued);
          const status = String(res.statusCode ?? 0);
          statuses[status] = (statuses[status] ?? 0) + 1;
          resolve();
        });
      });
      req.on('error', () => {
        if (timedOut) timeouts++;
        else errors++;
        resolve();
      });
      req.setTimeout(spec.timeoutSeconds * 1000, () => {
        timedOut = true;
        req.destroy();
      });
    });
  return { send, agent, result: () => ({ latencies, statuses, errors, timeouts }) };
}

/** Starts the CPU accounting of a run; `finish` turns the recorder's answers into a LoadRun. */
function startRun(serverPid: number | undefined) {
  const cpuBefore = process.cpuUsage();
  const serverBefore = serverPid ? processCpuMs(serverPid) : undefined;
  const machineBefore = machineCpu();
  const started = performance.now();
  return {
    started,
    finish(recorder: ReturnType<typeof createRecorder>): LoadRun {
      const wallMs = performance.now() - started;
      recorder.agent.destroy();
      const { latencies, statuses, errors, timeouts } = recorder.result();
      const cpu = process.cpuUsage(cpuBefore);
      const serverAfter = serverPid ? processCpuMs(serverPid) : undefined;
      const serverMs = serverBefore !== undefined && serverAfter !== undefined ? serverAfter - serverBefore : Number.NaN;
      const sorted = Float64Array.from(latencies).sort();
      return {
        requests: latencies.length,
        requestsPerSecond: latencies.length / (wallMs / 1000),
        p50Ms: percentile(sorted, 50),
        p90Ms: percentile(sorted, 90),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
        statuses,
        errors,
        timeouts,
        loadGeneratorCpu: (cpu.user + cpu.system) / 1000 / wallMs,
        serverCpu: serverMs / wallMs,
        serverCpuMsPerRequest: serverMs / latencies.length,
        machineBusyCores: busyCores(machineBefore, machineCpu()),
      };
    },
  };
}

/**
 * A fixed-rate load. autocannon's own rate limit sends each second's quota as fast as it can and then pauses,
 * which measures a burst, not a rate; here requests are issued evenly spaced (a 1 ms timer), whether or not earlier
 * ones have been answered, so a stalled server cannot hide its stall by delaying the next request. Latency counts
 * from the moment a request is issued, including any wait for a free connection.
 */
export async function runPaced(spec: PacedSpec): Promise<LoadRun> {
  const recorder = createRecorder(spec, spec.maxConnections);
  const inflight = new Set<Promise<void>>();
  const fire = () => {
    const done = recorder.send();
    inflight.add(done);
    void done.finally(() => inflight.delete(done));
  };
  const total = Math.round(spec.ratePerSecond * spec.seconds);
  const intervalMs = 1000 / spec.ratePerSecond;
  const run = startRun(spec.serverPid);
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - run.started) / intervalMs) + 1);
      for (; sent < due; sent++) fire();
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  await Promise.all(inflight);
  return run.finish(recorder);
}

/**
 * A closed-loop load that waits for every request it started: `connections` shoppers each send a request, wait
 * for the answer, and send the next until `seconds` have passed. Unlike autocannon, requests still in flight when
 * the time is up are waited for and counted, which matters when single responses take seconds (the incidents).
 */
export async function runClosed(spec: LoadSpec): Promise<LoadRun> {
  const recorder = createRecorder(spec, spec.connections);
  const run = startRun(spec.serverPid);
  const endAt = run.started + spec.seconds * 1000;
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (performance.now() < endAt) await recorder.send();
    }),
  );
  return run.finish(recorder);
}

/** Like `measure`, with the closed loop that waits for its last requests. */
export async function measureClosed(spec: LoadSpec, runs: number, warmupSeconds: number): Promise<Measured> {
  if (warmupSeconds > 0) await runClosed({ ...spec, seconds: warmupSeconds });
  const results: LoadRun[] = [];
  for (let i = 0; i < runs; i++) results.push(await runClosed(spec));
  return summarize(results);
}
