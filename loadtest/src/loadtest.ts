/**
 * `npm run loadtest -- --scenario <name> ...`: options, the run around the load (discovery, drill on / off), the
 * verdict against contract THRESHOLDS, the report (report.md, summary.json), the push to the Pushgateway, and the exit
 * status (0 all pass, 1 a breach, 2 a setup problem or an interrupted run).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { THRESHOLDS } from '../../contract';
import { formatMs, latencyHistogram, percentile, runLoad, type LoadRun } from '../lib/load';
import { createRunMetrics, pushRun, type RunMetrics } from './push';
import { isScenarioName, SCENARIO_NAMES, SCENARIOS, seededRandom, splitRate, type EndpointDef, type Need, type Scenario } from './scenarios';
import { applyDrill, clearDrill, discover, SetupError } from './service-api';

export const EXIT = { pass: 0, breach: 1, setup: 2 } as const;
export const DEFAULT_REPORTS_DIR = path.resolve(__dirname, '..', 'reports');
/** Seconds between pushes while the load runs (Prometheus scrapes the Pushgateway every 15 s). */
const PUSH_EVERY_SECONDS = 5;

export const USAGE = `usage: npm run loadtest -- --scenario <${SCENARIO_NAMES.join('|')}> [options]

  --scenario NAME     what to run (see loadtest/README.md)
  --base-url URL      the public API (default http://localhost:3000)
  --ops-url URL       the ops port, for the incident drills (default http://localhost:9464)
  --duration S        seconds of load (default 30)
  --rate N            arrival rate in requests per second, over all of the scenario's endpoints (default per scenario:
                      ${SCENARIO_NAMES.map((n) => `${n} ${SCENARIOS[n].defaultRate}`).join(', ')})
  --users N           shoppers are user ids 1..N (default 1000)
  --admin-token T     the service's ADMIN_TOKEN, for incident-* scenarios (default: $ADMIN_TOKEN)
  --seed N            seed of the random ids, to repeat a run's request sequence (default: random)
  --timeout S         seconds before a request without an answer counts as an error (default 10)
  --reports-dir DIR   where the report directory is created (default loadtest/reports)
  --pushgateway URL   push the results to this Prometheus Pushgateway, e.g. http://localhost:9091
                      (default: $PUSHGATEWAY_URL; none: no push)

exit status: 0 every endpoint within the thresholds, 1 a threshold breached, 2 usage or connection problem`;

export interface LoadtestOptions {
  scenario: Scenario;
  baseUrl: string;
  opsUrl: string;
  durationSeconds: number;
  rate: number;
  users: number;
  adminToken: string | undefined;
  seed: number;
  timeoutSeconds: number;
  reportsDir: string;
  pushgatewayUrl: string | undefined;
}

function integer(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new SetupError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function httpUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SetupError(`--${name} must be a URL like http://localhost:3000, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SetupError(`--${name} must be an http(s) URL, got ${value}`);
  if (url.search || url.hash) throw new SetupError(`--${name} must not have a query or fragment, got ${value}`);
  return url.toString().replace(/\/+$/, '');
}

/** Parses the command line; throws SetupError (exit 2) with one line on any mistake. `null` means --help. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): LoadtestOptions | null {
  const text = (names: string[]) => Object.fromEntries(names.map((n) => [n, { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...text(['scenario', 'base-url', 'ops-url', 'duration', 'rate', 'users', 'admin-token', 'seed', 'timeout', 'reports-dir', 'pushgateway']),
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new SetupError((error as Error).message.split('\n')[0]!);
  }
  if (values.help) return null;
  const v = values as Record<string, string | undefined>;
  const name = v.scenario;
  if (!name) throw new SetupError(`--scenario is required (${SCENARIO_NAMES.join(', ')})`);
  if (!isScenarioName(name)) throw new SetupError(`unknown scenario ${JSON.stringify(name)}: use one of ${SCENARIO_NAMES.join(', ')}`);
  const scenario = SCENARIOS[name];
  const adminToken = v['admin-token'] ?? (env.ADMIN_TOKEN || undefined);
  if (scenario.drill && !adminToken) {
    throw new SetupError(`--scenario ${name} drives the service's drills: pass --admin-token (the service's ADMIN_TOKEN) or set ADMIN_TOKEN`);
  }
  const pushgateway = v.pushgateway ?? (env.PUSHGATEWAY_URL || undefined);
  return {
    scenario,
    baseUrl: httpUrl(v['base-url'] ?? 'http://localhost:3000', 'base-url'),
    opsUrl: httpUrl(v['ops-url'] ?? 'http://localhost:9464', 'ops-url'),
    durationSeconds: integer(v.duration, 'duration', 30, 1, 24 * 3600),
    rate: integer(v.rate, 'rate', scenario.defaultRate, 1, 10_000),
    users: integer(v.users, 'users', 1000, 1, 1_000_000_000),
    adminToken,
    seed: integer(v.seed, 'seed', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 32 - 1),
    timeoutSeconds: integer(v.timeout, 'timeout', 10, 1, 600),
    reportsDir: path.resolve(v['reports-dir'] ?? DEFAULT_REPORTS_DIR),
    pushgatewayUrl: pushgateway === undefined ? undefined : httpUrl(pushgateway, 'pushgateway'),
  };
}

/** The numbers a run is judged by: contract THRESHOLDS, never typed here. */
export type Thresholds = Pick<typeof THRESHOLDS, 'latencySeconds' | 'latencyQuantile' | 'routeErrorRatio'>;

/** One endpoint's outcome: what summary.json holds per endpoint (see judgeEndpoint). */
export type EndpointResult = ReturnType<typeof judgeEndpoint>;

export const formatPercent = (ratio: number): string => `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 3 : 1)} %`;

/**
 * Judges one endpoint's run: it fails when its latency at `latencyQuantile` is over `latencySeconds` (the alert's `>`),
 * when over `routeErrorRatio` of its requests got a 5xx or no answer, or when nothing was answered.
 */
export function judgeEndpoint(
  def: Pick<EndpointDef, 'id' | 'name' | 'route' | 'expectedRejections'>,
  targetRate: number,
  run: Pick<LoadRun, 'histogram' | 'statuses' | 'errors' | 'timeouts' | 'sent' | 'seconds'>,
  plannedSeconds: number,
  t: Thresholds,
) {
  let status4xx = 0, expected4xx = 0, status5xx = 0;
  for (const [key, count] of Object.entries(run.statuses)) {
    const [status, code] = key.split(' ');
    if (status!.startsWith('4')) status4xx += count;
    if (status === '409' && code && def.expectedRejections?.includes(code)) expected4xx += count;
    if (status!.startsWith('5')) status5xx += count;
  }
  const answers = run.histogram.totalCount;
  const noAnswer = run.errors + run.timeouts;
  const failureRatio = answers + noAnswer > 0 ? (status5xx + noAnswer) / (answers + noAnswer) : 0;
  const judgedMs = percentile(run.histogram, t.latencyQuantile * 100);
  const limitMs = t.latencySeconds * 1000;
  const reasons: string[] = [];
  if (answers === 0) reasons.push('no request was answered');
  if (judgedMs !== null && judgedMs > limitMs) {
    reasons.push(`p${Math.round(t.latencyQuantile * 100)} ${formatMs(judgedMs)} ms > ${limitMs} ms (${t.latencySeconds} s)`);
  }
  if (failureRatio > t.routeErrorRatio) {
    reasons.push(`5xx and no answer ${formatPercent(failureRatio)} > ${formatPercent(t.routeErrorRatio)} (${status5xx} 5xx, ${noAnswer} without answer)`);
  }
  return {
    id: def.id,
    name: def.name,
    route: def.route,
    targetRate,
    /** Requests issued per second: sending stops after the planned duration; waiting for the last answers is not sending. */
    offeredRate: run.sent / Math.max(0.001, Math.min(run.seconds, plannedSeconds)),
    answers,
    /** Latency percentiles and maximum, ms (null: nothing answered). */
    latencyMs: {
      p50: percentile(run.histogram, 50),
      p95: percentile(run.histogram, 95),
      p99: percentile(run.histogram, 99),
      max: answers ? run.histogram.maxValue / 1000 : null,
    },
    /** Latency at THRESHOLDS.latencyQuantile, ms: what the verdict judges. */
    judgedMs,
    noAnswer,
    timeouts: run.timeouts,
    status4xx,
    /** 409s with an error code the endpoint expects (e.g. OUT_OF_STOCK): the business working, part of status4xx. */
    expected4xx,
    status5xx,
    /** Answers by status (and error code), e.g. `200`, `409 OUT_OF_STOCK`. */
    statuses: run.statuses,
    /** (5xx + no answer) / (answers + no answer): what the error threshold judges. */
    failureRatio,
    pass: reasons.length === 0,
    /** Why it failed, one line each. */
    reasons,
  };
}

/** Notes a reader must see next to the numbers: the rate not held, unexpected 4xx. */
export function endpointNotes(e: EndpointResult): string[] {
  const notes: string[] = [];
  if (e.offeredRate < 0.9 * e.targetRate) {
    notes.push(`\`${e.name}\`: offered ${e.offeredRate.toFixed(1)} of ${e.targetRate} req/s — the generator fell behind (its machine is busy): the latencies understate the load.`);
  }
  const unexpected = e.status4xx - e.expected4xx;
  if (e.answers > 0 && unexpected / e.answers > 0.01) {
    notes.push(`\`${e.name}\`: ${unexpected} unexpected 4xx answers — check the scenario's ids (--users) against the data.`);
  }
  return notes;
}

export interface RunReport {
  scenario: string;
  description: string;
  baseUrl: string;
  startedAt: string;
  durationSeconds: number;
  rate: number;
  users: number;
  seed: number;
  interrupted: boolean;
  drill: { opsUrl: string; applied: object; cleared: boolean; clearError?: string } | null;
  machine: string;
  thresholds: Thresholds;
  pushed: string | null;
  verdict: 'PASS' | 'FAIL';
  endpoints: EndpointResult[];
  notes: string[];
}

export function renderMarkdown(r: RunReport): string {
  const q = `p${Math.round(r.thresholds.latencyQuantile * 100)}`;
  const code = (text: string) => `\`${text.replace(/\|/g, '\\|')}\``;
  const lines = [
    `# Load test: ${r.scenario} — ${r.verdict}`,
    '',
    r.description,
    '',
    `- **Run:** ${r.startedAt}, ${r.durationSeconds} s${r.interrupted ? ' (interrupted)' : ''} at ${r.rate} req/s against ${r.baseUrl} (open model, fixed arrival rate per endpoint); users 1..${r.users}, seed ${r.seed}`,
    ...(r.drill ? [`- **Drill:** \`${JSON.stringify(r.drill.applied)}\` on ${r.drill.opsUrl}; cleared afterwards: ${r.drill.cleared ? 'yes' : `**NO** (${r.drill.clearError ?? ''})`}`] : []),
    `- **Machine:** ${r.machine}`,
    `- **Thresholds** (contract/thresholds.ts): ${q} ≤ ${r.thresholds.latencySeconds * 1000} ms and 5xx + no answer ≤ ${formatPercent(r.thresholds.routeErrorRatio)} per endpoint`,
    `- **Pushed to:** ${r.pushed ?? 'no Pushgateway'}`,
    '',
    '| endpoint | target req/s | offered req/s | answers | p50 ms | p95 ms | p99 ms | max ms | no answer | 4xx (expected 409) | 5xx | 5xx + no answer | result |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
    ...r.endpoints.map(
      (e) =>
        `| ${code(e.name)} | ${e.targetRate} | ${e.offeredRate.toFixed(1)} | ${e.answers} | ${formatMs(e.latencyMs.p50)} | ${formatMs(e.latencyMs.p95)} | ${formatMs(e.latencyMs.p99)} | ${formatMs(e.latencyMs.max)} | ${e.noAnswer} | ${e.status4xx} (${e.expected4xx}) | ${e.status5xx} | ${formatPercent(e.failureRatio)} | ${e.pass ? 'PASS' : `**FAIL**: ${e.reasons.join('; ')}`} |`,
    ),
    '',
    ...r.endpoints.map((e) => `- ${code(e.name)}: ${Object.entries(e.statuses).map(([s, n]) => `${s} ×${n}`).join(', ') || 'no answers'}`),
    ...r.notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}

/** Writes report.md and summary.json into `<reportsDir>/<UTC start, e.g. 2025-01-31T09-05-07Z>/`; returns the directory. */
export async function writeReport(reportsDir: string, report: RunReport): Promise<string> {
  const base = path.join(reportsDir, report.startedAt.replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-'));
  let dir = base;
  for (let i = 2; ; i++) {
    try {
      await mkdir(path.dirname(dir), { recursive: true });
      await mkdir(dir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      dir = `${base}-${i}`;
    }
  }
  const round = (_key: string, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value);
  await writeFile(path.join(dir, 'report.md'), renderMarkdown(report));
  await writeFile(path.join(dir, 'summary.json'), `${JSON.stringify(report, round, 2)}\n`);
  return dir;
}

export interface Io {
  err: (line: string) => void;
  out: (line: string) => void;
  signal?: AbortSignal;
}

/** One run, start to report; returns the exit status. */
export async function runLoadtest(options: LoadtestOptions, io: Io): Promise<number> {
  const { scenario } = options;
  const random = seededRandom(options.seed);
  const rates = splitRate(options.rate, scenario.endpoints.map((e) => e.weight));
  const needs = new Set<Need>(scenario.endpoints.flatMap((e) => e.needs));
  io.err(`loadtest ${scenario.name}: ${options.baseUrl}, ${options.durationSeconds} s at ${options.rate} req/s (${scenario.endpoints.map((e, i) => `${e.id} ${rates[i]}/s`).join(', ')})`);
  const data = await discover(options.baseUrl, needs, options.users, random);
  io.err(`discovered ${data.productIds.length} product ids${needs.has('orders') ? ` and ${data.orderIds.length} order ids` : ''}`);

  const metrics = createRunMetrics(scenario.endpoints.map((e, i) => ({ id: e.id, route: e.route, method: e.method, targetRate: rates[i]! })));
  let pushError: string | undefined;
  const push = async () => {
    if (!options.pushgatewayUrl) return;
    try {
      await pushRun(options.pushgatewayUrl, scenario.name, metrics.registry);
      pushError = undefined;
    } catch (error) {
      if (pushError === undefined) io.err(`loadtest: could not push to ${options.pushgatewayUrl}: ${(error as Error).message}`);
      pushError = (error as Error).message;
    }
  };

  const startedAt = new Date();
  let drill: RunReport['drill'] = null;
  let runs: LoadRun[];
  try {
    if (scenario.drill) {
      // Refused or unreachable (throws): nothing was applied, so there is nothing to clear.
      const active = await applyDrill(options.opsUrl, options.adminToken!, scenario.drill);
      drill = { opsUrl: options.opsUrl, applied: scenario.drill, cleared: false };
      const missing = (scenario.expectActiveDrills ?? []).filter((name) => !active.includes(name));
      if (missing.length) throw new SetupError(`the drill was accepted but ${missing.join(', ')} is not active (active: ${JSON.stringify(active)})`);
      io.err(`drill applied on ${options.opsUrl}: ${JSON.stringify(scenario.drill)} (this run is expected to FAIL)`);
    }
    runs = await drive(options, rates, data, random, metrics, io, push);
  } finally {
    if (drill) {
      try {
        await clearDrill(drill.opsUrl, options.adminToken!);
        drill.cleared = true;
        io.err(`drill cleared (DELETE ${drill.opsUrl}/admin/drills)`);
      } catch (error) {
        drill.clearError = (error as Error).message;
        io.err(`loadtest: THE DRILL WAS NOT CLEARED: ${drill.clearError}; clear it: curl -X DELETE ${drill.opsUrl}/admin/drills -H "Authorization: Bearer $ADMIN_TOKEN"`);
      }
    }
  }

  const interrupted = io.signal?.aborted ?? false;
  const endpoints = scenario.endpoints.map((def, i) => judgeEndpoint(def, rates[i]!, runs[i]!, options.durationSeconds, THRESHOLDS));
  metrics.finish(endpoints.map((e) => ({ id: e.id, judgedMs: e.judgedMs, pass: e.pass })));
  await push();
  const verdict = endpoints.every((e) => e.pass) ? 'PASS' : 'FAIL';
  const notes = endpoints.flatMap(endpointNotes);
  if (interrupted) notes.unshift('The run was interrupted before its planned duration; the numbers cover the part that ran.');
  if (drill && !drill.cleared) notes.unshift(`THE DRILL WAS NOT CLEARED (${drill.clearError}): clear it now with DELETE ${drill.opsUrl}/admin/drills`);
  if (pushError) notes.push(`The results were not pushed to ${options.pushgatewayUrl}: ${pushError}`);
  const cpus = os.cpus();
  const report: RunReport = {
    scenario: scenario.name,
    description: scenario.description,
    baseUrl: options.baseUrl,
    startedAt: startedAt.toISOString(),
    durationSeconds: options.durationSeconds,
    rate: rates.reduce((a, b) => a + b, 0),
    users: options.users,
    seed: options.seed,
    interrupted,
    drill,
    machine: `${cpus[0]?.model.trim()} × ${cpus.length}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}, Node ${process.version}`,
    thresholds: { latencySeconds: THRESHOLDS.latencySeconds, latencyQuantile: THRESHOLDS.latencyQuantile, routeErrorRatio: THRESHOLDS.routeErrorRatio },
    pushed: options.pushgatewayUrl && !pushError ? options.pushgatewayUrl : null,
    verdict,
    endpoints,
    notes,
  };
  const dir = await writeReport(options.reportsDir, report);

  const width = Math.max(...endpoints.map((e) => e.name.length));
  io.out(`${scenario.name}: ${verdict}${interrupted ? ' (interrupted)' : ''}`);
  for (const e of endpoints) {
    io.out(
      `  ${e.name.padEnd(width)}  ${String(e.answers).padStart(6)} answers  p95 ${formatMs(e.judgedMs).padStart(7)} ms  5xx+no answer ${formatPercent(e.failureRatio).padStart(7)}  ${e.pass ? 'PASS' : `FAIL  ${e.reasons.join('; ')}`}`,
    );
  }
  for (const note of notes) io.out(`  note: ${note}`);
  io.out(`report: ${path.join(dir, 'report.md')}`);
  if (interrupted) {
    io.err('loadtest: interrupted before the planned duration: the report covers the part that ran (exit 2)');
    return EXIT.setup;
  }
  if (drill && !drill.cleared) return EXIT.setup;
  return verdict === 'PASS' ? EXIT.pass : EXIT.breach;
}

/**
 * Every endpoint at its own fixed arrival rate (the open model of loadtest/lib/load.ts), endpoints offset within their
 * first interval so they do not fire together; one progress line per second and a push every PUSH_EVERY_SECONDS.
 */
async function drive(
  options: LoadtestOptions,
  rates: number[],
  data: Parameters<EndpointDef['build']>[0],
  random: () => number,
  metrics: RunMetrics,
  io: Io,
  push: () => Promise<void>,
): Promise<LoadRun[]> {
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const window = latencyHistogram();
  let answers = 0, status5xx = 0, noAnswer = 0, elapsed = 0;
  const progress = setInterval(() => {
    elapsed++;
    const p95 = formatMs(percentile(window, 95));
    window.reset();
    io.err(`${`${elapsed}s/${options.durationSeconds}s`.padStart(9)}  answers ${String(answers).padStart(7)}  p95 last 1s ${p95.padStart(7)} ms  5xx ${status5xx}  no answer ${noAnswer}`);
    if (elapsed % PUSH_EVERY_SECONDS === 0) void push();
  }, 1000);
  await push();
  const endpoints = options.scenario.endpoints;
  try {
    return await Promise.all(
      endpoints.map(async (def, i) => {
        await new Promise((resolve) => setTimeout(resolve, (1000 / rates[i]!) * (i / endpoints.length)));
        return runLoad({
          origin: base.origin,
          path: () => {
            const built = def.build(data, random);
            return { method: def.method, path: `${prefix}${built.path}`, ...(built.body === undefined ? {} : { body: built.body }) };
          },
          ratePerSecond: rates[i]!,
          seconds: options.durationSeconds,
          // Enough sockets that a request never waits for one before it times out.
          connections: Math.max(1, rates[i]! * options.timeoutSeconds),
          timeoutSeconds: options.timeoutSeconds,
          ...(io.signal ? { signal: io.signal } : {}),
          onAnswer: (ms, status) => {
            answers++;
            if (status >= 500) status5xx++;
            window.recordValue(Math.max(1, Math.round(ms * 1000)));
            metrics.answer(def.id, ms, status);
          },
          onNoAnswer: () => {
            noAnswer++;
            metrics.noAnswer(def.id);
          },
        });
      }),
    );
  } finally {
    clearInterval(progress);
  }
}

/** The command line: Ctrl-C stops the load, clears a drill and still writes the (partial) report; a second one exits. */
async function main(): Promise<number> {
  let options: LoadtestOptions | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    console.error(`loadtest: ${error.message} (--help for usage)`);
    return EXIT.setup;
  }
  if (options === null) {
    console.log(USAGE);
    return EXIT.pass;
  }
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      console.error(`loadtest: ${signal} again, exiting now (a drill may still be active: DELETE /admin/drills)`);
      process.exit(130);
    }
    console.error(`loadtest: ${signal}: stopping the load, clearing any drill, writing the report (again to exit now)`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runLoadtest(options, { err: (l) => process.stderr.write(`${l}\n`), out: (l) => process.stdout.write(`${l}\n`), signal: abort.signal });
  } catch (error) {
    console.error(`loadtest: ${error instanceof SetupError ? error.message : `unexpected error: ${(error as Error).stack ?? String(error)}`}`);
    return EXIT.setup;
  }
}

if (require.main === module) void main().then((code) => process.exit(code));
