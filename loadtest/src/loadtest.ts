/**
 * `npm run loadtest -- --scenario <name> ...`: options, the run around the load (discovery, drill on / off), the
 * verdict against alerting/thresholds.ts, the report, and the exit status (0 all pass, 1 a breach, 2 a setup problem).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { THRESHOLDS } from '../../contract';
import { collectNotes, machineInfo, REPORT_FILES, writeReport, type EndpointResult, type RunReport } from './report';
import { runLoad, type PlannedEndpoint } from './runner';
import { isScenarioName, SCENARIO_NAMES, SCENARIOS, seededRandom, splitRate, type Need, type Scenario } from './scenarios';
import { applyDrill, clearDrill, discover, SetupError } from './service-api';
import { bucketBySecond, evaluateEndpoint, formatMs, formatPercent, summariseEndpoint, type Thresholds } from './stats';

export const EXIT = { pass: 0, breach: 1, setup: 2 } as const;

export const DEFAULT_REPORTS_DIR = path.resolve(__dirname, '..', 'reports');

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
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string' },
        'base-url': { type: 'string' },
        'ops-url': { type: 'string' },
        duration: { type: 'string' },
        rate: { type: 'string' },
        users: { type: 'string' },
        'admin-token': { type: 'string' },
        seed: { type: 'string' },
        timeout: { type: 'string' },
        'reports-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new SetupError((error as Error).message.split('\n')[0]!);
  }
  if (values.help) return null;
  const name = values.scenario as string | undefined;
  if (!name) throw new SetupError(`--scenario is required (${SCENARIO_NAMES.join(', ')})`);
  if (!isScenarioName(name)) throw new SetupError(`unknown scenario ${JSON.stringify(name)}: use one of ${SCENARIO_NAMES.join(', ')}`);
  const scenario = SCENARIOS[name];
  const adminToken = (values['admin-token'] as string | undefined) ?? (env.ADMIN_TOKEN || undefined);
  if (scenario.drill && !adminToken) {
    throw new SetupError(`--scenario ${name} drives the service's drills: pass --admin-token (the service's ADMIN_TOKEN) or set ADMIN_TOKEN`);
  }
  return {
    scenario,
    baseUrl: httpUrl((values['base-url'] as string | undefined) ?? 'http://localhost:3000', 'base-url'),
    opsUrl: httpUrl((values['ops-url'] as string | undefined) ?? 'http://localhost:9464', 'ops-url'),
    durationSeconds: integer(values.duration as string | undefined, 'duration', 30, 1, 24 * 3600),
    rate: integer(values.rate as string | undefined, 'rate', scenario.defaultRate, 1, 10_000),
    users: integer(values.users as string | undefined, 'users', 1000, 1, 1_000_000_000),
    adminToken,
    seed: integer(values.seed as string | undefined, 'seed', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 32 - 1),
    timeoutSeconds: integer(values.timeout as string | undefined, 'timeout', 10, 1, 600),
    reportsDir: path.resolve((values['reports-dir'] as string | undefined) ?? DEFAULT_REPORTS_DIR),
  };
}

export interface Io {
  /** Progress and messages. */
  err: (line: string) => void;
  /** The final summary. */
  out: (line: string) => void;
  signal?: AbortSignal;
}

const autocannonVersion = (): string => {
  try {
    return (require('autocannon/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

export const THRESHOLDS_USED: Thresholds & { source: string } = {
  latencySeconds: THRESHOLDS.latencySeconds,
  latencyQuantile: THRESHOLDS.latencyQuantile,
  routeErrorRatio: THRESHOLDS.routeErrorRatio,
  source: 'alerting/thresholds.ts',
};

/** One run, start to report; returns the exit status. */
export async function runLoadtest(options: LoadtestOptions, io: Io): Promise<number> {
  const { scenario } = options;
  const random = seededRandom(options.seed);
  const rates = splitRate(options.rate, scenario.endpoints.map((e) => e.weight));
  const planned: PlannedEndpoint[] = scenario.endpoints.map((def, i) => ({ def, rate: rates[i]! }));
  const needs = new Set<Need>(scenario.endpoints.flatMap((e) => e.needs));

  io.err(
    `loadtest ${scenario.name}: ${options.baseUrl}, ${options.durationSeconds} s at ${options.rate} req/s (${planned.map((p) => `${p.def.id} ${p.rate}/s`).join(', ')})`,
  );
  const data = await discover(options.baseUrl, needs, options.users, random);
  io.err(`discovered ${data.productIds.length} product ids${needs.has('orders') ? ` and ${data.orderIds.length} order ids` : ''}`);

  let drill: RunReport['drill'] = null;
  let outcome: Awaited<ReturnType<typeof runLoad>>;
  try {
    if (scenario.drill) {
      const token = options.adminToken!;
      // Refused or unreachable (throws): nothing was applied, so there is nothing to clear.
      const active = await applyDrill(options.opsUrl, token, scenario.drill);
      drill = { opsUrl: options.opsUrl, applied: scenario.drill, cleared: false };
      const missing = (scenario.expectActiveDrills ?? []).filter((name) => !active.includes(name));
      if (missing.length) {
        throw new SetupError(`the drill was accepted but ${missing.join(', ')} is not active (active: ${JSON.stringify(active)})`);
      }
      io.err(`drill applied on ${options.opsUrl}: ${JSON.stringify(scenario.drill)} (this run is expected to FAIL)`);
    }
    outcome = await runLoad(
      {
        baseUrl: options.baseUrl,
        durationSeconds: options.durationSeconds,
        endpoints: planned,
        data,
        random,
        timeoutSeconds: options.timeoutSeconds,
      },
      { onProgress: io.err, ...(io.signal ? { signal: io.signal } : {}) },
    );
  } finally {
    if (drill) {
      try {
        await clearDrill(drill.opsUrl, options.adminToken!);
        drill.cleared = true;
        io.err(`drill cleared (DELETE ${drill.opsUrl}/admin/drills)`);
      } catch (error) {
        drill.clearError = (error as Error).message;
        io.err(
          `loadtest: THE DRILL WAS NOT CLEARED: ${drill.clearError}; clear it: curl -X DELETE ${drill.opsUrl}/admin/drills -H "Authorization: Bearer $ADMIN_TOKEN"`,
        );
      }
    }
  }

  const endpoints: EndpointResult[] = planned.map((p, i) => {
    const run = outcome.runs[i]!;
    const stats = summariseEndpoint(
      { id: p.def.id, name: p.def.name, method: p.def.method, route: p.def.route, targetRate: p.rate, ...(p.def.expectedRejections ? { expectedRejections: p.def.expectedRejections } : {}) },
      run.record,
      run.activeSeconds,
      THRESHOLDS_USED.latencyQuantile,
    );
    return { stats, verdict: evaluateEndpoint(stats, THRESHOLDS_USED), series: bucketBySecond(run.record, options.durationSeconds) };
  });
  const verdict = endpoints.every((e) => e.verdict.pass) ? 'PASS' : 'FAIL';
  const withoutNotes: Omit<RunReport, 'notes'> = {
    scenario: scenario.name,
    description: scenario.description,
    baseUrl: options.baseUrl,
    startedAt: outcome.startedAt.toISOString(),
    finishedAt: outcome.finishedAt.toISOString(),
    durationSeconds: options.durationSeconds,
    measuredSeconds: outcome.measuredSeconds,
    rate: planned.reduce((sum, p) => sum + p.rate, 0),
    connections: outcome.connections,
    users: options.users,
    seed: options.seed,
    interrupted: outcome.interrupted,
    drill,
    machine: machineInfo(),
    generator: `autocannon ${autocannonVersion()} (overallRate per endpoint, split into up to 10 phased instances)`,
    thresholds: THRESHOLDS_USED,
    verdict,
    endpoints,
  };
  const report: RunReport = { ...withoutNotes, notes: collectNotes(withoutNotes) };
  const dir = await writeReport(options.reportsDir, report);

  const q = `p${Math.round(THRESHOLDS_USED.latencyQuantile * 100)}`;
  const width = Math.max(...endpoints.map((e) => e.stats.name.length));
  io.out(`${scenario.name}: ${verdict}${outcome.interrupted ? ' (interrupted)' : ''}`);
  for (const { stats, verdict: v } of endpoints) {
    io.out(
      `  ${stats.name.padEnd(width)}  ${String(stats.responses).padStart(6)} answers  ${q} ${formatMs(stats.judged.ms).padStart(7)} ms  5xx+no answer ${formatPercent(stats.failureRatio).padStart(7)}  ${v.pass ? 'PASS' : 'FAIL'}${v.pass ? '' : `  ${v.reasons.join('; ')}`}`,
    );
  }
  for (const note of report.notes) io.out(`  note: ${note}`);
  io.out(`report: ${path.join(dir, REPORT_FILES.markdown)}`);

  if (outcome.interrupted) {
    io.err('loadtest: interrupted before the planned duration: the report covers the part that ran (exit 2)');
    return EXIT.setup;
  }
  if (drill && !drill.cleared) return EXIT.setup;
  return verdict === 'PASS' ? EXIT.pass : EXIT.breach;
}
