import {
  BURN_RATE_WINDOWS,
  JOB,
  LATENCY_THRESHOLD_SECONDS,
  POPULAR_ROUTE,
  SLOS,
  STATUS_ROUTE,
  THRESHOLDS as T,
  durationSeconds,
  type PanelRef,
  sloRecord,
  sloRequestsRecord,
} from '../contract';
import type { AlertDefinition } from './catalog';

/**
 * SLO recording rules and burn-rate alerts, generated from contract/thresholds.ts (SLOS, BURN_RATE_WINDOWS).
 * Recording rules `slo:<sli>:ratio_rate<window>` hold the BAD share (5xx, or slower than the line) of requests
 * over each window; the alerts and the Incidents dashboard's error-budget panels read the same series.
 */
export interface RecordingRule {
  record: string;
  expr: string;
}

const api = `job="${JOB}"`;
const count = (selector: string) => `http_server_request_duration_seconds_count{${api}${selector}}`;
/** The threshold's bucket as 2.42 (`1`) and 3.x (`1.0`, normalized) scrape it. */
export const THRESHOLD_LE = Number.isInteger(LATENCY_THRESHOLD_SECONDS)
  ? `le=~"${LATENCY_THRESHOLD_SECONDS}|${LATENCY_THRESHOLD_SECONDS}\\\\.0"`
  : `le="${LATENCY_THRESHOLD_SECONDS}"`;
export const SLO_ROUTES = [POPULAR_ROUTE, STATUS_ROUTE] as const;
const routes = `http_route=~"${SLO_ROUTES.join('|')}"`;

export const WINDOWS_USED = [...new Set(Object.values(BURN_RATE_WINDOWS).flat().flatMap((w) => [w.short, w.long]))].sort(
  (a, b) => durationSeconds(a) - durationSeconds(b),
);

export function recordingRules(): RecordingRule[] {
  return WINDOWS_USED.flatMap((w) => [
    { record: sloRequestsRecord('availability', w), expr: `sum(rate(${count('')}[${w}]))` },
    // 0, not absent, while requests had no 5xx (a status series exists only once answered): the budget panels need it.
    {
      record: sloRecord('availability', w),
      expr: `(sum(rate(${count(',http_response_status_code=~"5.."')}[${w}])) or ${sloRequestsRecord('availability', w)} * 0)\n/ ${sloRequestsRecord('availability', w)}`,
    },
    { record: sloRequestsRecord('latency', w), expr: `sum by (http_route) (rate(${count(`,${routes}`)}[${w}]))` },
    {
      record: sloRecord('latency', w),
      expr: `1 - sum by (http_route) (rate(http_server_request_duration_seconds_bucket{${api},${routes},${THRESHOLD_LE}}[${w}]))\n/ ${sloRequestsRecord('latency', w)}`,
    },
  ]);
}

const budget = (sli: 'availability' | 'latency') => Math.round((1 - SLOS[sli].objective) * 1e6) / 1e6;
const pct = (ratio: number) => `${Math.round(ratio * 10000) / 100}%`;
const ko = (w: string) => {
  const s = durationSeconds(w);
  return s % 86400 === 0 ? `${s / 86400}일` : s % 3600 === 0 ? `${s / 3600}시간` : `${s / 60}분`;
};

/** One `or` branch per window pair; each labels its long window so the description names the window it measured. */
function burnExpr(sli: 'availability' | 'latency', pairs: readonly { long: string; short: string; burnRate: number }[]): string {
  const by = sli === 'latency' ? 'http_route' : '';
  return pairs
    .map(({ long, short, burnRate }) => {
      const line = Math.round(burnRate * budget(sli) * 1e6) / 1e6;
      const guard = `${sloRequestsRecord(sli, long)} > ${T.minRequestsPerSecond}`;
      const on = by ? ` on (${by})` : '';
      // Judged only once the long window is full: requests were being recorded one long window ago. On a fresh
      // stack a part-filled window inflates the share (and its rate guard lags), which would page after the fault.
      const full = `on() group_left() (count(count_over_time(${count('')}[${short}] offset ${long})) > 0)`;
      return `label_replace(${sloRecord(sli, long)} > ${line} and${on} ${sloRecord(sli, short)} > ${line} and${on} ${guard} and ${full.replace('on() group_left() ', 'on() ')}, "slo_window", "${long}", "", "")`;
    })
    .join('\nor ');
}

/** Seconds to detect a 100 %-bad outage: the long window must hold burnRate × budget of bad requests. */
export const detectionSeconds = (sli: 'availability' | 'latency', pair: { long: string; burnRate: number }) =>
  durationSeconds(pair.long) * pair.burnRate * budget(sli);

const DASHBOARD: Record<'availability' | 'latency', PanelRef> = {
  availability: { dashboard: 'incidents', panel: 'availabilityBudgetBurn' },
  latency: { dashboard: 'incidents', panel: 'latencyBudgetBurn' },
};

/** The slo_window label in Korean units, as a Prometheus template: `1h` → `1시간`. */
const windowWords = (pairs: readonly { long: string }[]) =>
  pairs.map((p, i) => `{{ ${i ? 'else if' : 'if'} eq $labels.slo_window "${p.long}" }}${ko(p.long)}`).join('') + '{{ end }}';

function describe(sli: 'availability' | 'latency', kind: 'page' | 'ticket'): Pick<AlertDefinition, 'summary' | 'description' | 'impact' | 'firesWhen'> {
  const pairs = BURN_RATE_WINDOWS[kind];
  const windows = pairs.map((p) => `${ko(p.long)}·${ko(p.short)} ${p.burnRate}배`).join(', ');
  const objective = pct(SLOS[sli].objective);
  const what = sli === 'availability' ? '5xx 비율' : `${LATENCY_THRESHOLD_SECONDS}초를 넘은 요청 비율`;
  const subject = sli === 'availability' ? '주문 API' : 'GET {{ $labels.http_route }}';
  return {
    summary: `${subject} ${sli === 'availability' ? '가용성' : '응답 시간'} SLO(${objective}) 오류 예산이 ${kind === 'page' ? '빠르게' : '꾸준히'} 소진되고 있습니다`,
    description: `최근 ${windowWords(pairs)} ${subject} ${what} {{ $value | humanizePercentage }} (SLO 허용 ${pct(budget(sli))}, 기준: ${windows} 초과).`,
    impact:
      kind === 'page'
        ? `Major: 이 속도면 ${sli === 'availability' ? '사용자 일부의 요청이 실패하는' : '사용자 일부가 1초 넘게 기다리는'} 상태가 이어져 30일 오류 예산이 며칠 안에 바닥납니다.`
        : 'Minor: 지금 속도로 30일 오류 예산을 다 씁니다. 근무 시간에 원인을 찾아 고칩니다.',
    firesWhen: `${sli} SLO ${objective}: bad share > burn × ${pct(budget(sli))} over ${pairs.map((p) => `${p.long} & ${p.short} (${p.burnRate}×)`).join(' or ')}`,
  };
}

export function sloAlerts(): AlertDefinition[] {
  const alert = (name: string, sli: 'availability' | 'latency', kind: 'page' | 'ticket'): AlertDefinition => ({
    name,
    severity: kind === 'page' ? 'major' : 'minor',
    service: 'orders',
    expr: burnExpr(sli, BURN_RATE_WINDOWS[kind]),
    conditionLagSeconds: Math.round(detectionSeconds(sli, BURN_RATE_WINDOWS[kind][0])),
    dashboard: DASHBOARD[sli],
    instanceLabels: sli === 'latency' ? ['http_route', 'slo_window'] : ['slo_window'],
    ...describe(sli, kind),
  });
  return [
    alert('OrdersAvailabilityBudgetBurn', 'availability', 'page'),
    alert('OrdersAvailabilityBudgetTicket', 'availability', 'ticket'),
    alert('OrdersLatencyBudgetBurn', 'latency', 'page'),
    alert('OrdersLatencyBudgetTicket', 'latency', 'ticket'),
  ];
}
