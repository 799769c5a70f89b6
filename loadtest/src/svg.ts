/**
 * Hand-written SVG charts for the report (no chart library): latency over time per endpoint against the guide's
 * threshold line, and throughput over time. Pure functions of the per-second buckets.
 */
import type { SecondBucket } from './stats';

export const escapeXml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const n = (x: number) => (Math.round(x * 10) / 10).toString();

export const LATENCY_COLORS = { p50: '#1f77b4', p95: '#ff7f0e', p99: '#9467bd' } as const;
export const THRESHOLD_COLOR = '#d62728';
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

/** A tick step giving about `target` ticks over `span` (1, 2, 5 × 10^k). */
export function niceStep(span: number, target = 6): number {
  if (!(span > 0)) return 1;
  const raw = span / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  return step;
}

export const formatDurationTick = (ms: number): string => (ms >= 1000 ? `${n(ms / 1000)} s` : `${n(ms)} ms`);

/** Polyline segments through the non-null points (a missing second breaks the line); lone points become dots. */
function seriesPath(points: { x: number; y: number | null }[], color: string, width: number, dash?: string): string {
  const segments: { x: number; y: number }[][] = [];
  let current: { x: number; y: number }[] = [];
  for (const p of points) {
    if (p.y === null) {
      if (current.length) segments.push(current);
      current = [];
    } else current.push({ x: p.x, y: p.y });
  }
  if (current.length) segments.push(current);
  return segments
    .map((seg) =>
      seg.length === 1
        ? `<circle cx="${n(seg[0]!.x)}" cy="${n(seg[0]!.y)}" r="2" fill="${color}"/>`
        : `<polyline fill="none" stroke="${color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${seg.map((p) => `${n(p.x)},${n(p.y)}`).join(' ')}"/>`,
    )
    .join('');
}

function legend(items: { label: string; color: string; dash?: string; width?: number }[], x0: number, y0: number, maxWidth: number): { svg: string; height: number } {
  let x = x0, y = y0;
  const parts: string[] = [];
  for (const item of items) {
    const w = 34 + item.label.length * 6.6;
    if (x + w > x0 + maxWidth && x > x0) {
      x = x0;
      y += 18;
    }
    parts.push(
      `<line x1="${n(x)}" y1="${n(y - 4)}" x2="${n(x + 22)}" y2="${n(y - 4)}" stroke="${item.color}" stroke-width="${item.width ?? 2}"${item.dash ? ` stroke-dasharray="${item.dash}"` : ''}/>`,
      `<text x="${n(x + 27)}" y="${n(y)}" font-size="12" fill="#333">${escapeXml(item.label)}</text>`,
    );
    x += w + 12;
  }
  return { svg: parts.join(''), height: y - y0 + 18 };
}

export interface LatencyPanel {
  title: string;
  pass: boolean;
  buckets: readonly SecondBucket[];
}

export interface LatencyChartOptions {
  title: string;
  thresholdMs: number;
  /** The percentile the threshold judges, e.g. 95; named on the threshold line. */
  judgedPercentile: number;
}

/**
 * p50/p95/p99 per second for each endpoint (one panel each, shared log-scale latency axis) with the threshold drawn
 * as a labelled horizontal line in every panel (`class="threshold"`, `data-threshold-ms`).
 */
export function renderLatencyChart(panels: readonly LatencyPanel[], options: LatencyChartOptions): string {
  const { thresholdMs } = options;
  const panelW = 480, panelH = 240;
  const pad = { left: 62, right: 24, top: 34, bottom: 38 };
  const cols = panels.length > 1 ? 2 : 1;
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const width = cols * panelW;

  const all = panels.flatMap((p) => p.buckets.flatMap((b) => [b.p50, b.p95, b.p99])).filter((v): v is number => v !== null);
  const smallest = all.length ? Math.min(...all) : 1;
  const yMin = smallest < 1 ? 0.1 : 1;
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...all, thresholdMs * 2)));
  const seconds = Math.max(1, ...panels.map((p) => p.buckets.length));

  const head = legend(
    [
      { label: 'p50', color: LATENCY_COLORS.p50 },
      { label: 'p95', color: LATENCY_COLORS.p95 },
      { label: 'p99', color: LATENCY_COLORS.p99 },
      { label: `threshold ${formatDurationTick(thresholdMs)} (p${options.judgedPercentile} must stay at or below)`, color: THRESHOLD_COLOR, dash: '6 4' },
    ],
    16,
    46,
    width - 32,
  );
  const headerH = 46 + head.height;
  const height = headerH + rows * panelH + 8;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="600" fill="#111">${escapeXml(options.title)}</text>`,
    head.svg,
  ];

  panels.forEach((panel, i) => {
    const ox = (i % cols) * panelW;
    const oy = headerH + Math.floor(i / cols) * panelH;
    const x0 = ox + pad.left, x1 = ox + panelW - pad.right;
    const y0 = oy + pad.top, y1 = oy + panelH - pad.bottom;
    const sx = (s: number) => x0 + (s / seconds) * (x1 - x0);
    const sy = (ms: number) => {
      const v = Math.min(Math.max(ms, yMin), yMax);
      return y1 - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (y1 - y0);
    };
    out.push(`<g class="panel" data-endpoint="${escapeXml(panel.title)}">`);
    out.push(
      `<text x="${n(x0)}" y="${n(oy + 20)}" font-size="13" font-weight="600" fill="#111">${escapeXml(panel.title)} ` +
        `<tspan fill="${panel.pass ? '#2ca02c' : THRESHOLD_COLOR}">${panel.pass ? 'PASS' : 'FAIL'}</tspan></text>`,
    );
    out.push(`<rect x="${n(x0)}" y="${n(y0)}" width="${n(x1 - x0)}" height="${n(y1 - y0)}" fill="#fafafa" stroke="#ccc"/>`);
    for (let d = yMin; d <= yMax * 1.0001; d *= 10) {
      const y = sy(d);
      out.push(`<line x1="${n(x0)}" y1="${n(y)}" x2="${n(x1)}" y2="${n(y)}" stroke="#e3e3e3"/>`);
      out.push(`<text x="${n(x0 - 6)}" y="${n(y + 4)}" font-size="11" fill="#555" text-anchor="end">${formatDurationTick(d)}</text>`);
    }
    const step = niceStep(seconds, 6);
    for (let s = 0; s <= seconds + 1e-9; s += step) {
      const x = sx(s);
      out.push(`<line x1="${n(x)}" y1="${n(y1)}" x2="${n(x)}" y2="${n(y1 + 4)}" stroke="#999"/>`);
      out.push(`<text x="${n(x)}" y="${n(y1 + 17)}" font-size="11" fill="#555" text-anchor="middle">${s} s</text>`);
    }
    out.push(`<text x="${n((x0 + x1) / 2)}" y="${n(y1 + 32)}" font-size="11" fill="#777" text-anchor="middle">elapsed (latency by second of completion; log scale)</text>`);
    // p95, the judged percentile, is drawn last so that it stays visible where p99 equals it.
    for (const key of ['p50', 'p99', 'p95'] as const) {
      const points = panel.buckets.map((b) => ({ x: sx(b.second + 0.5), y: b[key] === null ? null : sy(b[key]) }));
      out.push(seriesPath(points, LATENCY_COLORS[key], key === 'p95' ? 2.2 : 1.5));
    }
    const ty = sy(thresholdMs);
    out.push(
      `<line class="threshold" data-threshold-ms="${thresholdMs}" x1="${n(x0)}" y1="${n(ty)}" x2="${n(x1)}" y2="${n(ty)}" stroke="${THRESHOLD_COLOR}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      `<text x="${n(x0 + 4)}" y="${n(ty + 13)}" font-size="11" fill="${THRESHOLD_COLOR}">threshold ${formatDurationTick(thresholdMs)}</text>`,
    );
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n');
}

export interface ThroughputLine {
  label: string;
  buckets: readonly SecondBucket[];
  targetRate: number;
}

/**
 * Answers per second per endpoint and in total, the total target arrival rate, and failures (5xx + no answer) per
 * second, over the first `seconds` seconds when given (the planned duration: the partial seconds after it would read
 * as a drop in throughput).
 */
export function renderThroughputChart(lines: readonly ThroughputLine[], options: { title: string; seconds?: number }): string {
  const width = 960, plotH = 300;
  const pad = { left: 62, right: 24, bottom: 40 };
  const seconds = options.seconds ?? Math.max(1, ...lines.map((l) => l.buckets.length));
  lines = lines.map((l) => ({ ...l, buckets: l.buckets.slice(0, seconds) }));
  const total = (pick: (b: SecondBucket) => number) =>
    Array.from({ length: seconds }, (_, s) => lines.reduce((sum, l) => sum + (l.buckets[s] ? pick(l.buckets[s]) : 0), 0));
  const totalResponses = total((b) => b.responses);
  const totalFailures = total((b) => b.status5xx + b.errors);
  const target = lines.reduce((sum, l) => sum + l.targetRate, 0);
  const maxY = Math.max(1, target, ...totalResponses) * 1.1;
  const step = niceStep(maxY, 5);
  const yMax = Math.ceil(maxY / step) * step;

  const items = [
    ...lines.map((l, i) => ({ label: l.label, color: PALETTE[i % PALETTE.length]! })),
    ...(lines.length > 1 ? [{ label: 'all endpoints', color: '#111', width: 2.5 }] : []),
    { label: `target ${target} req/s`, color: '#777', dash: '3 3' },
    ...(totalFailures.some((v) => v > 0) ? [{ label: '5xx + no answer', color: THRESHOLD_COLOR, dash: '6 2' }] : []),
  ];
  const head = legend(items, 16, 46, width - 32);
  const top = 46 + head.height + 8;
  const height = top + plotH + pad.bottom;
  const x0 = pad.left, x1 = width - pad.right, y0 = top, y1 = top + plotH;
  const sx = (s: number) => x0 + (s / seconds) * (x1 - x0);
  const sy = (v: number) => y1 - (v / yMax) * (y1 - y0);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="600" fill="#111">${escapeXml(options.title)}</text>`,
    head.svg,
    `<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="#fafafa" stroke="#ccc"/>`,
  ];
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    out.push(`<line x1="${x0}" y1="${n(sy(v))}" x2="${x1}" y2="${n(sy(v))}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${x0 - 6}" y="${n(sy(v) + 4)}" font-size="11" fill="#555" text-anchor="end">${n(v)}</text>`);
  }
  out.push(`<text x="14" y="${n((y0 + y1) / 2)}" font-size="11" fill="#777" transform="rotate(-90 14 ${n((y0 + y1) / 2)})" text-anchor="middle">answers per second</text>`);
  const xStep = niceStep(seconds, 10);
  for (let s = 0; s <= seconds + 1e-9; s += xStep) {
    out.push(`<line x1="${n(sx(s))}" y1="${y1}" x2="${n(sx(s))}" y2="${y1 + 4}" stroke="#999"/>`);
    out.push(`<text x="${n(sx(s))}" y="${y1 + 17}" font-size="11" fill="#555" text-anchor="middle">${s} s</text>`);
  }
  out.push(`<text x="${n((x0 + x1) / 2)}" y="${y1 + 33}" font-size="11" fill="#777" text-anchor="middle">elapsed</text>`);
  out.push(`<line class="target" x1="${x0}" y1="${n(sy(target))}" x2="${x1}" y2="${n(sy(target))}" stroke="#777" stroke-dasharray="3 3"/>`);
  lines.forEach((l, i) => {
    out.push(seriesPath(l.buckets.map((b) => ({ x: sx(b.second + 0.5), y: sy(b.responses) })), PALETTE[i % PALETTE.length]!, 1.5));
  });
  if (lines.length > 1) out.push(seriesPath(totalResponses.map((v, s) => ({ x: sx(s + 0.5), y: sy(v) })), '#111', 2.5));
  if (totalFailures.some((v) => v > 0)) {
    out.push(seriesPath(totalFailures.map((v, s) => ({ x: sx(s + 0.5), y: sy(v) })), THRESHOLD_COLOR, 1.5, '6 2'));
  }
  out.push('</svg>');
  return out.join('\n');
}
