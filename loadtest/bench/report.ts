import { formatMs } from '../lib/load';
import type { DataVolume, Machine } from './machine';

/** One line of the result table: a figure, what it is compared with, the ratio, and its target. */
export interface Row {
  /** Comparison number of the brief (1–7). */
  section: number;
  measurement: string;
  a: string;
  b?: string;
  ratio?: number;
  /** How to print the ratio: `x` (A/B, times) or `fraction` (A/B as 0.00) or `loss` (1 − A/B, percent). */
  ratioKind?: 'x' | 'fraction' | 'loss';
  target?: string;
  /** true met, false missed, undefined when the row has no target. */
  met?: boolean;
  /** Word for met/missed when the target is "reproduce the incident". */
  metWord?: [string, string];
}

export interface Report {
  generatedAt: string;
  durationSeconds: number;
  command: string;
  machine: Machine;
  data: DataVolume;
  seed: { ran: boolean; seconds?: number; reason: string };
  settings: Record<string, unknown>;
  targets: Record<string, number>;
  rows: Row[];
  notes: string[];
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const fmtInt = (n: number) => (Number.isFinite(n) ? int.format(n) : 'n/a');

/** Milliseconds with their unit, as both tools print them (formatMs). */
export const fmtMs = (ms: number) => `${formatMs(ms)} ms`;

export function fmtRatio(row: Row): string {
  const r = row.ratio;
  if (r === undefined) return '';
  if (!Number.isFinite(r)) return 'n/a';
  switch (row.ratioKind ?? 'x') {
    case 'fraction':
      return r.toFixed(2);
    case 'loss':
      return `${(r * 100).toFixed(1)} %`;
    default:
      return r >= 100 ? `${int.format(r)}×` : `${r.toFixed(1)}×`;
  }
}

function verdict(row: Row): string {
  if (row.met === undefined) return '';
  const [yes, no] = row.metWord ?? ['met', 'missed'];
  return row.met ? yes : `**${no}**`;
}

export function markdownTable(rows: Row[]): string {
  const lines = ['| # | measurement | A | B | ratio | target | result |', '|---|---|---|---|---:|---|---|'];
  for (const row of rows) {
    const cells = [String(row.section), row.measurement, row.a, row.b ?? '', fmtRatio(row), row.target ?? '', verdict(row)];
    lines.push(`| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
  }
  return lines.join('\n');
}

export function machineLine(m: Machine): string {
  return `${m.os} (${m.kernel}), ${m.cpuCount} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, Node ${m.node}, ${m.postgres}, ${m.redis}; load average ${m.loadAverageAtStart} at start; ${m.pinning}`;
}

export function dataLine(d: DataVolume): string {
  return `${fmtInt(d.orders)} orders, ${fmtInt(d.orderItems)} order items, ${fmtInt(d.users)} users, ${fmtInt(d.products)} products, ${fmtInt(d.rollupRows)} rollup rows; ${fmtInt(d.paidOrdersInWindow)} PAID orders in the 3-day popular window`;
}

export function markdownReport(report: Report): string {
  const seed = report.seed.ran ? `seeded in ${report.seed.seconds?.toFixed(1)} s (${report.seed.reason})` : `not seeded (${report.seed.reason})`;
  return [
    `# Benchmark results (npm run bench)`,
    '',
    `Measured ${report.generatedAt} in one invocation of \`${report.command}\` (${report.durationSeconds.toFixed(0)} s).`,
    '',
    `- **Machine:** ${machineLine(report.machine)}`,
    `- **Data:** ${dataLine(report.data)}; ${seed}`,
    `- **Method:** every figure is the median of ${String(report.settings.runs)} runs (the throughput rounds of #2/#3: ${String(report.settings.throughputRuns ?? report.settings.runs)}; the mixed load of #6: ${String(report.settings.mixedRuns ?? report.settings.runs)}) after a warm-up; A/B are measured in the same invocation, back to back (the throughput rounds interleave all servers).`,
    '',
    markdownTable(report.rows),
    '',
    '## Notes',
    '',
    ...report.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}
