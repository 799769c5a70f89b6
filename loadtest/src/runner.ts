/**
 * Drives the load: an open model with a fixed arrival rate per endpoint, made of autocannon instances (`overallRate`),
 * recording every answer with its completion time so the report can show latency per second.
 *
 * autocannon's rate limiting works per connection and per wall-clock second: a connection sends at most its share of
 * `overallRate` each second, and autocannon caps `connections` at `overallRate`. So one instance per endpoint at rate R
 * gets R connections each sending 1 request per second, all in phase (a burst of R at the start of every second).
 * To spread arrivals over the second, each endpoint's rate is split into up to MAX_PHASES instances started evenly
 * across the first second (and endpoints are offset from each other). The offered rate holds as long as answers take
 * under 1 s; slower answers make a connection wait (closed loop), which the report flags as coordinated omission.
 */
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import type { EndpointDef, ScenarioData } from './scenarios';
import { emptyRecord, formatMs, percentile, type EndpointRecord } from './stats';

export const MAX_PHASES = 10;
const STOP_SEND_MARGIN_MS = 50;

export interface PlannedEndpoint {
  def: EndpointDef;
  /** Requests per second. */
  rate: number;
}

export interface RunPlan {
  baseUrl: string;
  durationSeconds: number;
  endpoints: readonly PlannedEndpoint[];
  data: ScenarioData;
  random: () => number;
  /** Seconds before a request without an answer counts as an error. */
  timeoutSeconds: number;
}

export interface EndpointRun {
  record: EndpointRecord;
  /** Mean active time of the endpoint's instances, s (what its rates are computed over). */
  activeSeconds: number;
}

export interface RunOutcome {
  runs: EndpointRun[];
  startedAt: Date;
  finishedAt: Date;
  measuredSeconds: number;
  connections: number;
  interrupted: boolean;
}

export interface Phase {
  rate: number;
  /** Start offset as a fraction of the first second, in [0, 1). */
  offset: number;
}

/**
 * Splits an endpoint's rate into phases (autocannon instances) whose starts are spread over the first second; endpoint
 * `index` of `count` is shifted by a fraction of a phase so that endpoints do not fire together either.
 */
export function phasePlan(rate: number, index = 0, count = 1, maxPhases = MAX_PHASES): Phase[] {
  const phases = Math.max(1, Math.min(Math.floor(rate), maxPhases));
  return Array.from({ length: phases }, (_, i) => ({
    rate: Math.floor(rate / phases) + (i < rate % phases ? 1 : 0),
    offset: (i + index / Math.max(1, count)) / phases,
  }));
}

/** The progress line for the last second: elapsed, answers so far, p95 of the window (overall and the worst endpoint), errors. */
export function progressLine(
  names: readonly string[],
  records: readonly EndpointRecord[],
  elapsedMs: number,
  durationSeconds: number,
  windowMs = 1000,
): string {
  let answers = 0, failures = 0, status5xx = 0;
  const windowAll: number[] = [];
  let worst: { name: string; p95: number } | null = null;
  records.forEach((record, i) => {
    answers += record.samples.length;
    failures += record.errors.length;
    const window: number[] = [];
    for (let k = record.samples.length - 1; k >= 0; k--) {
      const s = record.samples[k]!;
      if (s.t < elapsedMs - windowMs) break;
      if (s.t <= elapsedMs) window.push(s.latencyMs);
    }
    for (const s of record.samples) if (s.status >= 500) status5xx++;
    window.sort((a, b) => a - b);
    windowAll.push(...window);
    const p95 = percentile(window, 95);
    if (p95 !== null && (worst === null || p95 > worst.p95)) worst = { name: names[i] ?? `#${i}`, p95 };
  });
  windowAll.sort((a, b) => a - b);
  const elapsed = `${Math.round(elapsedMs / 1000)}s/${durationSeconds}s`.padStart(9);
  const w = worst as { name: string; p95: number } | null;
  const worstText = w && records.length > 1 ? ` (worst ${w.name} ${formatMs(w.p95)} ms)` : '';
  return `${elapsed}  answers ${String(answers).padStart(7)}  p95 last 1s ${formatMs(percentile(windowAll, 95)).padStart(7)} ms${worstText}  5xx ${status5xx}  no answer ${failures}`;
}

const errorCodeOf = (body: string): string | undefined => {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
};

export async function runLoad(
  plan: RunPlan,
  hooks: { onProgress?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<RunOutcome> {
  const base = new URL(plan.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const startedAt = new Date();
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const records = plan.endpoints.map(() => emptyRecord());
  const durations = plan.endpoints.map(() => [] as number[]);
  const running: autocannon.Instance[] = [];
  const pending: { timer: NodeJS.Timeout; resolve: () => void }[] = [];
  let interrupted = false;
  let connections = 0;

  const stopAll = () => {
    interrupted = true;
    for (const p of pending.splice(0)) {
      clearTimeout(p.timer);
      p.resolve();
    }
    for (const instance of running) instance.stop();
  };
  if (hooks.signal?.aborted) stopAll();
  hooks.signal?.addEventListener('abort', stopAll, { once: true });

  const progress = hooks.onProgress
    ? setInterval(() => {
        hooks.onProgress!(progressLine(plan.endpoints.map((e) => e.def.id), records, now(), plan.durationSeconds));
      }, 1000)
    : undefined;

  const finished: Promise<void>[] = [];
  plan.endpoints.forEach(({ def, rate }, index) => {
    const record = records[index]!;
    // onResponse (with the body) runs synchronously right before the instance's `response` event for the same answer.
    let lastCode: string | undefined;
    const request: autocannon.Request = {
      method: def.method,
      setupRequest: (req) => {
        const built = def.build(plan.data, plan.random);
        return {
          ...req,
          method: def.method,
          path: `${prefix}${built.path}`,
          ...(built.body === undefined
            ? {}
            : { body: built.body, headers: { ...req.headers, 'content-type': 'application/json' } }),
        };
      },
      onResponse: (status, body) => {
        lastCode = status >= 400 ? errorCodeOf(body) : undefined;
      },
    };
    for (const phase of phasePlan(rate, index, plan.endpoints.length)) {
      if (phase.rate < 1) continue;
      connections += phase.rate;
      finished.push(
        new Promise<void>((resolve, reject) => {
          const sends: number[] = [];
          /** Per connection, the send time of the request it is waiting for. */
          const awaiting = new Map<autocannon.Client, number>();
          const start = () => {
            const at = pending.findIndex((p) => p.timer === timer);
            if (at >= 0) pending.splice(at, 1);
            if (interrupted) return resolve();
            let instance: autocannon.Instance;
            try {
              instance = autocannon({
                url: base.origin,
                connections: phase.rate,
                overallRate: phase.rate,
                duration: plan.durationSeconds,
                timeout: plan.timeoutSeconds,
                requests: [request],
                setupClient: (client) => {
                  client.on('request', () => {
                    const t = now();
                    sends.push(t);
                    awaiting.set(client, t);
                  });
                  client.on('response', () => awaiting.delete(client));
                  client.on('timeout', () => {
                    awaiting.delete(client);
                    record.errors.push({ t: now(), timeout: true });
                  });
                  // A refused or reset connection is an error for the request it carried. autocannon reconnects at
                  // once, in a loop while the service is down: those attempts carry no request and are not counted.
                  client.on('connError', () => {
                    if (!awaiting.has(client)) return;
                    awaiting.delete(client);
                    record.errors.push({ t: now(), timeout: false });
                  });
                },
              });
            } catch (error) {
              return reject(error);
            }
            running.push(instance);
            instance.on('response', (_client, status, _bytes, responseTime) => {
              record.samples.push({ t: now(), latencyMs: responseTime, status, ...(lastCode ? { code: lastCode } : {}) });
              lastCode = undefined;
            });
            instance.then((result) => {
              durations[index]!.push(result.duration);
              // At the stop, autocannon's per-second timers often send one more request per connection right before
              // it destroys the connections: those could not be answered, so they are not counted as sent.
              const cutoff = now() - STOP_SEND_MARGIN_MS;
              const cancelled = new Set([...awaiting.values()].filter((t) => t > cutoff));
              record.sent.push(...sends.filter((t) => !cancelled.has(t)));
              resolve();
            }, reject);
          };
          const timer = setTimeout(start, Math.round(phase.offset * 1000));
          pending.push({ timer, resolve: () => resolve() });
        }),
      );
    }
  });

  try {
    await Promise.all(finished);
  } finally {
    if (progress) clearInterval(progress);
    hooks.signal?.removeEventListener('abort', stopAll);
  }
  const measuredSeconds = now() / 1000;
  return {
    runs: records.map((record, i) => {
      const d = durations[i]!;
      return { record, activeSeconds: d.length ? d.reduce((a, b) => a + b, 0) / d.length : measuredSeconds };
    }),
    startedAt,
    finishedAt: new Date(),
    measuredSeconds,
    connections,
    interrupted,
  };
}
