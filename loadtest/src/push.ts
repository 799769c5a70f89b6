/**
 * A load test's results as Prometheus metrics (names in contract/metrics.ts), pushed to the Pushgateway with
 * prom-client: every few seconds while the load runs (so Grafana shows the run's latency and rate over time next to
 * the service's own metrics) and once at the end with the verdict. The grouping key is {job="loadtest", scenario}:
 * each push replaces the scenario's previous one, so the Pushgateway holds the latest run of every scenario.
 */
import { Counter, Gauge, Histogram, Pushgateway, Registry } from 'prom-client';
import { HTTP_DURATION_BUCKETS_SECONDS, LABELS, LOADTEST_JOB, LOADTEST_LABELS, LOADTEST_METRICS, THRESHOLDS } from '../../contract';

const E = LOADTEST_LABELS.endpoint;

export interface PushedEndpoint {
  id: string;
  route: string;
  method: string;
  targetRate: number;
}

export type RunMetrics = ReturnType<typeof createRunMetrics>;

/** A registry of one run's metrics; `answer` / `noAnswer` record, `finish` sets the verdict gauges. */
export function createRunMetrics(endpoints: readonly PushedEndpoint[]) {
  const registry = new Registry();
  const duration = new Histogram({
    name: LOADTEST_METRICS.requestDuration,
    help: 'Latency of the load test\'s answers (any status), from issuing the request to the last byte, seconds.',
    labelNames: [E, LABELS.route, LABELS.method],
    buckets: HTTP_DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });
  const responses = new Counter({ name: LOADTEST_METRICS.responses, help: 'Answers by status code.', labelNames: [E, LABELS.status], registers: [registry] });
  const unanswered = new Counter({ name: LOADTEST_METRICS.unanswered, help: 'Requests without an answer (error, reset, timeout).', labelNames: [E], registers: [registry] });
  const target = new Gauge({ name: LOADTEST_METRICS.targetRate, help: 'Planned arrival rate, requests per second.', labelNames: [E], registers: [registry] });
  const judged = new Gauge({
    name: LOADTEST_METRICS.judgedLatency,
    help: `The run's latency at quantile ${THRESHOLDS.latencyQuantile} (exact), seconds.`,
    labelNames: [E, 'quantile'],
    registers: [registry],
  });
  const endpointPassed = new Gauge({ name: LOADTEST_METRICS.endpointPassed, help: '1 when the endpoint passed, 0 when it breached.', labelNames: [E], registers: [registry] });
  const runPassed = new Gauge({ name: LOADTEST_METRICS.runPassed, help: '1 when the run passed, 0 when it breached.', registers: [registry] });
  const active = new Gauge({ name: LOADTEST_METRICS.runActive, help: '1 while the run sends load.', registers: [registry] });
  const byId = new Map(endpoints.map((e) => [e.id, e]));
  for (const e of endpoints) {
    target.set({ [E]: e.id }, e.targetRate);
    unanswered.inc({ [E]: e.id }, 0);
  }
  active.set(1);
  return {
    registry,
    answer(id: string, latencyMs: number, status: number) {
      const e = byId.get(id)!;
      duration.observe({ [E]: id, [LABELS.route]: e.route, [LABELS.method]: e.method }, latencyMs / 1000);
      responses.inc({ [E]: id, [LABELS.status]: String(status) });
    },
    noAnswer(id: string) {
      unanswered.inc({ [E]: id });
    },
    /** Per endpoint: its judged latency in ms (null: nothing answered) and whether it passed. */
    finish(results: readonly { id: string; judgedMs: number | null; pass: boolean }[]) {
      for (const r of results) {
        if (r.judgedMs !== null) judged.set({ [E]: r.id, quantile: String(THRESHOLDS.latencyQuantile) }, r.judgedMs / 1000);
        endpointPassed.set({ [E]: r.id }, r.pass ? 1 : 0);
      }
      runPassed.set(results.every((r) => r.pass) ? 1 : 0);
      active.set(0);
    },
  };
}

/** PUTs the registry to `{pushgatewayUrl}/metrics/job/loadtest/scenario/<scenario>` (replacing that group); rejects on failure. */
export async function pushRun(pushgatewayUrl: string, scenario: string, registry: Registry): Promise<void> {
  await new Pushgateway(pushgatewayUrl, { timeout: 5000 }, registry).push({
    jobName: LOADTEST_JOB,
    groupings: { [LOADTEST_LABELS.scenario]: scenario },
  });
}
