import { KEY_ROUTES, THRESHOLDS } from '../../contract';
import { latency, percent } from './format';
import type { CheckItem } from './investigate';
import { formatLogLine, type ServiceLogLine } from './logs';
import type { Prometheus } from './prometheus';
import { NAMED_ROUTES, Q } from './queries';

/**
 * The verification window, minutes. Default 10: the guide's "p95 under 1 s for 10 minutes" in the runbooks' 복구 확인.
 * At least 2 (the alert rules' own rate window, so one scrape gap cannot pass or fail it), at most 60.
 */
export const VERIFY_MINUTES = { default: 10, min: 2, max: 60 } as const;

export interface Verification {
  at: Date;
  minutes: number;
  passed: boolean;
  checks: CheckItem[];
  errorLogLines: ServiceLogLine[];
}

/** Parses `--minutes`; throws a Korean message for anything but a whole number within the bounds. */
export function parseMinutes(text: string | undefined): number {
  if (text === undefined) return VERIFY_MINUTES.default;
  const n = Number(text);
  if (!Number.isInteger(n) || n < VERIFY_MINUTES.min || n > VERIFY_MINUTES.max) {
    throw new Error(`--minutes는 ${VERIFY_MINUTES.min}~${VERIFY_MINUTES.max} 사이의 정수여야 합니다 (받은 값: ${text})`);
  }
  return n;
}

/**
 * 복구 확인 over the last `minutes`: no service alert fired in the window; the named routes' p95 under the line;
 * the key routes' and the whole service's 5xx ratio within the route line; no error log line (level error) in the
 * window. A check without data (no traffic, no logs) is not a pass: recovery is shown, not assumed.
 * `logs` undefined means the logs could not be read, which fails the verification.
 */
export async function verify(prom: Prometheus, options: { minutes: number; now?: Date; logs?: ServiceLogLine[] }): Promise<Verification> {
  const at = options.now ?? new Date();
  const window = `${options.minutes}m`;
  const range = { end: at, rangeSeconds: options.minutes * 60 };
  const checks: CheckItem[] = [];

  const firingExpr = Q.firingOver(window);
  const firing = await prom.query(firingExpr, at);
  checks.push({
    title: `최근 ${options.minutes}분 동안 발생한 서비스 알림`,
    value: firing.length === 0 ? '없음' : firing.map((s) => `${s.metric.alertname} (${s.metric.severity ?? '?'})`).join(', '),
    verdict: firing.length === 0 ? 'ok' : 'bad',
    links: [prom.graphUrl(firingExpr, range)],
  });

  for (const route of NAMED_ROUTES) {
    const expr = Q.routeP95(route, window);
    const p95 = await prom.scalar(expr, at);
    const measured = p95 !== undefined && Number.isFinite(p95);
    checks.push({
      title: `${route} p${THRESHOLDS.latencyQuantile * 100} (최근 ${options.minutes}분)`,
      value: measured ? `${latency(p95)} (기준 ${THRESHOLDS.latencySeconds}초 미만)` : '요청이 없어 확인할 수 없음',
      verdict: !measured ? 'unknown' : p95 < THRESHOLDS.latencySeconds ? 'ok' : 'bad',
      links: [prom.graphUrl(expr, range)],
    });
  }

  for (const route of KEY_ROUTES) {
    const expr = Q.routeErrorRatio(route, window);
    const ratio = await prom.scalar(expr, at);
    if (ratio === undefined || !Number.isFinite(ratio)) continue; // a key route without traffic has no ratio to judge
    checks.push({
      title: `${route} 5xx 비율 (최근 ${options.minutes}분)`,
      value: `${percent(ratio)} (기준 ${percent(THRESHOLDS.routeErrorRatio)} 이하)`,
      verdict: ratio <= THRESHOLDS.routeErrorRatio ? 'ok' : 'bad',
      links: [prom.graphUrl(expr, range)],
    });
  }
  const serviceExpr = Q.serviceErrorRatio(window);
  const serviceRatio = await prom.scalar(serviceExpr, at);
  const serviceMeasured = serviceRatio !== undefined && Number.isFinite(serviceRatio);
  checks.push({
    title: `서비스 전체 5xx 비율 (오류 예산 소진 속도 대신, 최근 ${options.minutes}분)`,
    value: serviceMeasured ? `${percent(serviceRatio)} (기준 ${percent(THRESHOLDS.routeErrorRatio)} 이하)` : '요청이 없어 확인할 수 없음',
    verdict: !serviceMeasured ? 'unknown' : serviceRatio <= THRESHOLDS.routeErrorRatio ? 'ok' : 'bad',
    links: [prom.graphUrl(serviceExpr, range)],
  });

  const since = new Date(at.getTime() - options.minutes * 60_000);
  const errorLogLines = (options.logs ?? []).filter((l) => l.level === 'error' && Date.parse(l.timestamp) >= since.getTime() && Date.parse(l.timestamp) <= at.getTime());
  checks.push({
    title: `최근 ${options.minutes}분 에러 로그`,
    value: options.logs === undefined ? '로그를 읽지 못해 확인할 수 없음' : errorLogLines.length === 0 ? '없음' : `${errorLogLines.length}줄`,
    verdict: options.logs === undefined ? 'unknown' : errorLogLines.length === 0 ? 'ok' : 'bad',
    links: [],
  });

  return { at, minutes: options.minutes, passed: checks.every((c) => c.verdict === 'ok'), checks, errorLogLines };
}

const MARK = { ok: '통과', bad: '실패', info: '참고', unknown: '확인 불가' } as const;

/** The Korean verdict with the evidence. */
export function renderVerification(v: Verification): string {
  const out = [
    `# 복구 확인 (${v.at.toISOString()}, 최근 ${v.minutes}분)`,
    '',
    v.passed ? '판정: 복구됨. 모든 점검 항목이 기준 안에 있습니다.' : '판정: 복구되지 않음. 아래 실패/확인 불가 항목을 해결한 뒤 다시 확인하세요.',
    '',
  ];
  for (const c of v.checks) {
    out.push(`- [${MARK[c.verdict]}] ${c.title}: ${c.value}`);
    for (const link of c.links) out.push(`  ${link}`);
  }
  if (v.errorLogLines.length > 0) {
    out.push('', '## 에러 로그 (최근 10줄)');
    for (const line of v.errorLogLines.slice(-10)) out.push(`- ${formatLogLine(line)}`);
  }
  return out.join('\n');
}
