import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_DATABASE_URL, REPORTS_DIR } from '../cli';
import { composeCommand } from '../compose';
import { readServiceLogs } from '../logs';
import { SCRAPE_SECONDS } from '../../../alerting/catalog';
import { createPrometheus, type Prometheus } from '../prometheus';
import { measureIncident, renderReport, writeReportDraft } from '../report';
import { loadRoster } from '../roster';
import { createTimelineStore } from '../timeline/store';
import { renderVerification, verify, VERIFY_MINUTES } from '../verify';
import { renderGameday, runGameday, type GamedayDeps, type GamedayResult } from './runner';
import { SCENARIOS, type Step } from './scenarios';

/**
 * `npm run gameday -- <scenario|all>` against the compose stack (`all`: each scenario in turn). Each starts once no
 * service alert is active (waiting up to 10 min, then refusing). Environment: API_URL (default http://localhost:3000),
 * OPS_URL (http://localhost:9464), ADMIN_TOKEN (required for drills and traffic limiting), ALERTMANAGER_URL
 * (http://localhost:9093), PROMETHEUS_URL, DATABASE_URL. Exit 0 passed, 1 missed a target or failed, 2 aborted or bad usage.
 */
const API_URL = process.env.API_URL ?? 'http://localhost:3000';
const OPS_URL = process.env.OPS_URL ?? 'http://localhost:9464';
const ALERTMANAGER_URL = process.env.ALERTMANAGER_URL ?? 'http://localhost:9093';
const TRAFFIC_RPS = 5;

/**
 * Applies steps: drills and traffic limiting through the service's admin API on `opsUrl` (as actor `gameday`),
 * containers through `docker compose stop|start` (or `docker-compose`). Throws with the API's answer when a call is refused.
 */
export function createApplyStep(options: { opsUrl: string; token: string | undefined }) {
  async function admin(method: 'PUT' | 'DELETE', pathname: string, body?: unknown) {
    if (!options.token) throw new Error('ADMIN_TOKEN이 필요합니다 (서비스의 ADMIN_TOKEN, 훈련에는 FAULTS_ENABLED=true)');
    const response = await fetch(`${options.opsUrl}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json', 'x-actor': 'gameday' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${pathname}: ${response.status} ${await response.text()}`);
  }
  return async function applyStep(step: Step): Promise<void> {
    switch (step.kind) {
      case 'drill':
        return admin('PUT', '/admin/drills', step.body);
      case 'drill-clear':
        return admin('DELETE', '/admin/drills');
      case 'rate-limit':
        return admin('PUT', '/admin/rate-limit', { requestsPerSecond: step.requestsPerSecond });
      case 'rate-limit-clear':
        return admin('DELETE', '/admin/rate-limit');
      case 'stop':
      case 'start': {
        const compose = composeCommand();
        const run = spawnSync(compose.file, [...compose.prefix, step.kind, step.service], { encoding: 'utf8' });
        if (run.status !== 0) throw new Error(`${[compose.file, ...compose.prefix].join(' ')} ${step.kind} ${step.service}: ${run.stderr}`);
        return;
      }
    }
  };
}

/**
 * The runner's independent evidence for the report's times: the first and last evaluation at which any of the named
 * alerts was firing, from the raw samples of Prometheus' `ALERTS{alertstate="firing"}` series. `intervalSeconds` is the
 * rule evaluation interval of that Prometheus (prometheus.yml: SCRAPE_SECONDS).
 */
export function firingEvaluations(prom: Prometheus, intervalSeconds: number): NonNullable<GamedayDeps['firingEvaluations']> {
  return {
    intervalSeconds,
    async find(alertNames, from, to) {
      const names = alertNames.map((n) => n.replace(/[^\w]/g, '')).join('|');
      const series = await prom.rawSamples(`ALERTS{alertstate="firing",alertname=~"${names}"}`, from, to);
      const times = series.flatMap((s) => s.values.map(([t]) => t * 1000));
      return times.length === 0 ? undefined : { first: new Date(Math.min(...times)), last: new Date(Math.max(...times)) };
    },
  };
}

/** The service's alerts active now (not silenced or inhibited) in Alertmanager's API v2. */
export async function activeServiceAlerts(alertmanagerUrl: string): Promise<string[]> {
  const filter = encodeURIComponent('service="orders"');
  const response = await fetch(`${alertmanagerUrl}/api/v2/alerts?active=true&silenced=false&inhibited=false&filter=${filter}`);
  if (!response.ok) throw new Error(`Alertmanager: ${response.status}`);
  return ((await response.json()) as { labels: Record<string, string> }[])
    .map((a) => a.labels.alertname ?? '?')
    .filter((name) => name !== 'Watchdog');
}

/** Steady traffic: `rps` GET requests per second spread over the paths; failures are counted, never thrown. */
export function startTraffic(baseUrl: string, paths: string[], rps = TRAFFIC_RPS) {
  let requests = 0;
  let failures = 0;
  let i = 0;
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const target = paths[i++ % paths.length]!;
    requests++;
    const p = fetch(`${baseUrl}${target}`, { signal: AbortSignal.timeout(10_000) })
      .then(async (r) => {
        await r.arrayBuffer();
        if (r.status >= 500) failures++;
      })
      .catch(() => {
        failures++;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }, 1000 / rps);
  return async () => {
    clearInterval(timer);
    await Promise.allSettled([...inFlight]);
    return { requests, failures };
  };
}

/** How long a run waits for the service's alerts to clear first (the steady state; in `all`, the last scenario's). */
const STEADY_TIMEOUT_MS = 10 * 60_000;
const EXIT: Record<GamedayResult['outcome'], number> = { passed: 0, 'missed-target': 1, failed: 1, aborted: 2 };

async function waitForSteadyState(timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let active = await activeServiceAlerts(ALERTMANAGER_URL); active.length > 0; active = await activeServiceAlerts(ALERTMANAGER_URL)) {
    if (Date.now() > deadline || signal.aborted) return; // the runner then refuses to start and says why
    await sleep(5_000, undefined, { signal }).catch(() => undefined);
  }
}

async function main(): Promise<number> {
  const name = process.argv[2];
  const scenarios = name === 'all' ? Object.values(SCENARIOS) : name && SCENARIOS[name] ? [SCENARIOS[name]] : [];
  if (scenarios.length === 0) {
    process.stderr.write(`사용법: npm run gameday -- <${[...Object.keys(SCENARIOS), 'all'].join('|')}>\n`);
    return 2;
  }
  // Ctrl-C or a stop of the job: the run in progress clears its fault before the process exits (a second one too:
  // the fault must not be left on).
  const stopping = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping.signal.aborted) process.stderr.write('장애를 되돌리는 중입니다. 잠시 기다려 주세요.\n');
      stopping.abort();
    });
  }
  const store = createTimelineStore(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
  const prom = createPrometheus();
  const outcomes: string[] = [];
  let exitCode = 0;
  try {
    for (const scenario of scenarios) {
      if (stopping.signal.aborted) break;
      await waitForSteadyState(STEADY_TIMEOUT_MS, stopping.signal);
      const result = await runGameday(scenario, {
        store,
        apply: createApplyStep({ opsUrl: OPS_URL, token: process.env.ADMIN_TOKEN }),
        activeServiceAlerts: () => activeServiceAlerts(ALERTMANAGER_URL),
        startTraffic: (paths) => startTraffic(API_URL, paths),
        async verify() {
          const now = new Date();
          const minutes = VERIFY_MINUTES.min;
          const logs = await readServiceLogs('compose', new Date(now.getTime() - minutes * 60_000)).catch(() => undefined);
          const v = await verify(prom, { minutes, now, logs });
          await store.record([{ step: 'verified', actor: 'gameday', occurredAt: now, details: { passed: v.passed, minutes } }]);
          return { passed: v.passed, text: renderVerification(v) };
        },
        async report(incident) {
          const markdown = renderReport(await measureIncident(prom, incident), { roster: loadRoster(), prometheusUrl: prom.baseUrl });
          const file = path.join(REPORTS_DIR, `${incident.id}.md`);
          mkdirSync(REPORTS_DIR, { recursive: true });
          // A draft someone already edited is kept; this run's goes beside it.
          const written = writeReportDraft(file, markdown);
          await store.record([{ step: 'reported', actor: 'gameday', occurredAt: new Date(), details: { file: written.file } }]);
          return written.file;
        },
        firingEvaluations: firingEvaluations(prom, SCRAPE_SECONDS),
        now: () => new Date(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        log: (text) => process.stdout.write(`${text}\n`),
        signal: stopping.signal,
      });
      const record = renderGameday(result);
      const file = path.join(REPORTS_DIR, `gameday-${scenario.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
      mkdirSync(REPORTS_DIR, { recursive: true });
      writeFileSync(file, record);
      process.stdout.write(`\n${record}\n\n기록: ${file}\n\n`);
      const scores = result.scores.map((s) => `${s.name} ${s.seconds?.toFixed(0) ?? '-'}s`).join(', ');
      outcomes.push(`${scenario.name}: ${result.outcome}${scores ? ` (${scores})` : ''}`);
      exitCode = Math.max(exitCode, EXIT[result.outcome]);
    }
    if (scenarios.length > 1) process.stdout.write(`${outcomes.join('\n')}\n`);
    return exitCode;
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      // A dependency the run needs could not be used (Alertmanager, PostgreSQL, Prometheus): a setup problem.
      process.stderr.write(`게임 데이를 실행하지 못했습니다: ${error.message}\n`);
      process.exitCode = 2;
    },
  );
}
