/**
 * The run's report: `report.md` (with the SVG charts embedded as images), `latency.svg`, `throughput.svg` and
 * `summary.json`, in `loadtest/reports/<UTC timestamp>/`. Rendering is pure; only writeReport touches the disk.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DrillBody } from './scenarios';
import {
  endpointNotes,
  formatMs,
  formatPercent,
  type EndpointStats,
  type EndpointVerdict,
  type SecondBucket,
  type Thresholds,
} from './stats';
import { renderLatencyChart, renderThroughputChart } from './svg';

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  memoryTotalBytes: number;
  memoryFreeBytes: number;
  loadAverage: number[];
  platform: string;
  release: string;
  arch: string;
  node: string;
  hostname: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryTotalBytes: os.totalmem(),
    memoryFreeBytes: os.freemem(),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    node: process.version,
    hostname: os.hostname(),
  };
}

export interface EndpointResult {
  stats: EndpointStats;
  verdict: EndpointVerdict;
  series: SecondBucket[];
}

export interface DrillReport {
  opsUrl: string;
  applied: DrillBody;
  /** `true` once DELETE /admin/drills succeeded after the run. */
  cleared: boolean;
  clearError?: string;
}

/** Everything summary.json holds and report.md shows. */
export interface RunReport {
  scenario: string;
  description: string;
  baseUrl: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  measuredSeconds: number;
  /** Total target arrival rate, requests per second. */
  rate: number;
  connections: number;
  users: number;
  seed: number;
  interrupted: boolean;
  drill: DrillReport | null;
  machine: MachineInfo;
  generator: string;
  thresholds: Thresholds & { source: string };
  verdict: 'PASS' | 'FAIL';
  endpoints: EndpointResult[];
  notes: string[];
}

export const REPORT_FILES = { markdown: 'report.md', summary: 'summary.json', latency: 'latency.svg', throughput: 'throughput.svg' } as const;

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
const cell = (text: string) => text.replace(/\|/g, '\\|');
/** Endpoint names hold `<placeholders>`: a code span keeps them visible in rendered Markdown. */
const code = (text: string) => `\`${cell(text)}\``;

/** All notes of a run: per endpoint (rate not held, unexpected 4xx, in flight at the end), the drill, an interruption. */
export function collectNotes(report: Omit<RunReport, 'notes'>): string[] {
  const notes = report.endpoints.flatMap((e) => endpointNotes(e.stats, report.measuredSeconds));
  if (report.interrupted) notes.unshift('The run was interrupted before its planned duration; the numbers cover the part that ran.');
  if (report.drill && !report.drill.cleared) {
    notes.unshift(
      `THE DRILL WAS NOT CLEARED (${report.drill.clearError ?? 'unknown error'}): clear it now with curl -X DELETE ${report.drill.opsUrl}/admin/drills -H "Authorization: Bearer $ADMIN_TOKEN"`,
    );
  }
  return notes;
}

export function renderMarkdown(report: RunReport): string {
  const t = report.thresholds;
  const q = `p${Math.round(t.latencyQuantile * 100)}`;
  const m = report.machine;
  const failed = report.endpoints.filter((e) => !e.verdict.pass);
  const lines: string[] = [];
  lines.push(`# Load test: ${report.scenario} — ${report.verdict}`, '');
  lines.push(report.description, '');
  lines.push('| | |', '|---|---|');
  lines.push(`| scenario | \`${report.scenario}\` |`);
  lines.push(`| target | ${report.baseUrl} |`);
  lines.push(`| started (UTC) | ${report.startedAt} |`);
  lines.push(
    `| duration | ${report.durationSeconds} s planned, ${report.measuredSeconds.toFixed(1)} s measured${report.interrupted ? ' (interrupted)' : ''} |`,
  );
  lines.push(
    `| arrival rate | ${report.rate} req/s in total, open model at a fixed rate per endpoint (${report.endpoints.map((e) => `${e.stats.id} ${e.stats.targetRate}/s`).join(', ')}); ${report.connections} connections |`,
  );
  lines.push(`| users | random ids 1..${report.users}; seed ${report.seed} |`);
  if (report.drill) {
    lines.push(
      `| drill | \`PUT ${report.drill.opsUrl}/admin/drills\` \`${JSON.stringify(report.drill.applied)}\` for the run; cleared afterwards: ${report.drill.cleared ? 'yes' : `**NO** (${cell(report.drill.clearError ?? '')})`} |`,
    );
  }
  lines.push(
    `| machine | ${cell(m.cpuModel)} × ${m.cpuCount}, ${gib(m.memoryTotalBytes)} RAM (${gib(m.memoryFreeBytes)} free), load average ${m.loadAverage.join(' / ')}, ${m.platform} ${m.release} ${m.arch}, Node ${m.node} |`,
  );
  lines.push(`| generator | ${report.generator} |`);
  lines.push(
    `| thresholds | ${q} ≤ ${t.latencySeconds * 1000} ms and 5xx + no answer ≤ ${formatPercent(t.routeErrorRatio)} per endpoint (\`${t.source}\`) |`,
  );
  lines.push('');
  lines.push(`## Verdict: ${report.verdict}`, '');
  if (failed.length === 0) {
    lines.push(`Every endpoint kept its ${q} at or below ${t.latencySeconds} s and its 5xx ratio at or below ${formatPercent(t.routeErrorRatio)}.`);
  } else {
    for (const e of failed) lines.push(`- ${code(e.stats.name)}: ${e.verdict.reasons.join('; ')}`);
  }
  lines.push('');
  lines.push('## Endpoints', '');
  lines.push(
    '| endpoint | target req/s | offered req/s | answers/s | answers | p50 ms | p95 ms | p99 ms | max ms | no answer | 4xx | of which expected 409 | 5xx | 5xx + no answer | result |',
  );
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|');
  for (const { stats: s, verdict } of report.endpoints) {
    lines.push(
      `| ${code(s.name)} | ${s.targetRate} | ${s.offeredRate.toFixed(1)} | ${s.throughput.toFixed(1)} | ${s.responses} | ${formatMs(s.latency.p50)} | ${formatMs(s.latency.p95)} | ${formatMs(s.latency.p99)} | ${formatMs(s.latency.max)} | ${s.errors}${s.timeouts ? ` (${s.timeouts} timeouts)` : ''} | ${s.status4xx} | ${s.expected4xx} | ${s.status5xx} | ${formatPercent(s.failureRatio)} | ${verdict.pass ? 'PASS' : '**FAIL**'} |`,
    );
  }
  lines.push('');
  lines.push('Answers by status code:', '');
  for (const { stats: s } of report.endpoints) {
    const codes = Object.entries(s.statusCodes).sort(([a], [b]) => a.localeCompare(b)).map(([status, count]) => `${status} ×${count}`);
    lines.push(`- ${code(s.name)}: ${codes.length ? codes.join(', ') : 'none'}`);
  }
  lines.push('');
  lines.push('## Latency over time', '');
  lines.push(`![p50, p95 and p99 per second for each endpoint against the ${t.latencySeconds} s threshold](${REPORT_FILES.latency})`, '');
  lines.push('## Throughput over time', '');
  lines.push(`![answers per second per endpoint and in total, with the target rate](${REPORT_FILES.throughput})`, '');
  lines.push('## Notes', '');
  for (const note of report.notes) lines.push(`- ${note}`);
  lines.push(
    `- Latency is measured per request from writing it to the last byte of the answer; percentiles are nearest-rank over every answer (any status) of the endpoint. Requests without an answer (connection errors, timeouts) count in "no answer" and in the error ratio, not in the latencies.`,
    `- Open model: each endpoint has its own arrival rate (autocannon \`overallRate\`), independent of how fast the service answers — as long as each answer takes under ${(report.connections / Math.max(1, report.rate)).toFixed(0)} s. autocannon caps connections at the rate and sends at most one request per connection per second, so beyond that the generator waits for answers (closed loop) and the measured latencies understate what shoppers would see (coordinated omission); "offered req/s" below the target shows it.`,
    `- Charts are per second of completion. The throughput chart covers the planned ${report.durationSeconds} s; the latency chart also shows the answers that completed after it (autocannon instances start spread over the first second and stop on their own 1 s tick).`,
  );
  lines.push('');
  return lines.join('\n');
}

export const renderLatencySvg = (report: RunReport): string =>
  renderLatencyChart(
    report.endpoints.map((e) => ({ title: e.stats.name, pass: e.verdict.pass, buckets: e.series })),
    {
      title: `Latency over time — ${report.scenario} (${report.startedAt})`,
      thresholdMs: report.thresholds.latencySeconds * 1000,
      judgedPercentile: Math.round(report.thresholds.latencyQuantile * 100),
    },
  );

export const renderThroughputSvg = (report: RunReport): string =>
  renderThroughputChart(
    report.endpoints.map((e) => ({ label: e.stats.name, buckets: e.series, targetRate: e.stats.targetRate })),
    { title: `Throughput over time — ${report.scenario} (${report.startedAt})`, seconds: report.durationSeconds },
  );

/** `2025-01-31T09-05-07Z`: the UTC start time, safe in file names. */
export const timestampDirName = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');

/** summary.json keeps microseconds, not the float noise below them. */
const roundNumbers = (_key: string, value: unknown) =>
  typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;

/** Writes the four files into `<reportsDir>/<UTC timestamp>/` (suffixed when that exists) and returns the directory. */
export async function writeReport(reportsDir: string, report: RunReport): Promise<string> {
  const base = path.join(reportsDir, timestampDirName(new Date(report.startedAt)));
  let dir = base;
  for (let i = 2; ; i++) {
    try {
      await mkdir(dir, { recursive: false });
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') await mkdir(reportsDir, { recursive: true });
      else if (code === 'EEXIST') dir = `${base}-${i}`;
      else throw error;
    }
  }
  await Promise.all([
    writeFile(path.join(dir, REPORT_FILES.markdown), renderMarkdown(report)),
    writeFile(path.join(dir, REPORT_FILES.latency), renderLatencySvg(report)),
    writeFile(path.join(dir, REPORT_FILES.throughput), renderThroughputSvg(report)),
    writeFile(path.join(dir, REPORT_FILES.summary), `${JSON.stringify(report, roundNumbers, 2)}\n`),
  ]);
  return dir;
}
