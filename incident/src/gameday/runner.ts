import { RESPONSE_TARGETS_SECONDS } from '../../../contract/incident';
import { duration, kst } from '../format';
import { catalogPendingSeconds } from '../timeline/catalog';
import { deriveIncidents, isServiceAlert, type Incident } from '../timeline/incidents';
import type { TimelineStore } from '../timeline/store';
import type { Scenario, Step } from './scenarios';

export interface GamedayDeps {
  store: TimelineStore;
  /** Applies one fault or remedy (admin API call or container stop/start). */
  apply(step: Step): Promise<void>;
  /** Names of the service's alerts active now (Alertmanager), for the steady state. */
  activeServiceAlerts(): Promise<string[]>;
  /** Starts steady traffic on the paths; the returned function stops it and says how many requests were sent. */
  startTraffic(paths: string[]): () => Promise<{ requests: number; failures: number }>;
  /** 복구 확인 (incident verify); passed or not, with its Korean text. */
  verify(): Promise<{ passed: boolean; text: string }>;
  /** 장애 보고: writes the report of the incident; returns where. */
  report(incident: Incident): Promise<string>;
  /**
   * Independent evidence for the report's times: the first and last evaluation at which any of `alertNames` was
   * firing between `from` and `to` (Prometheus' `ALERTS` series), and the evaluation interval in seconds, the
   * tolerance the report's times are held to. Absent: the report's times are not cross-checked.
   */
  firingEvaluations?: {
    intervalSeconds: number;
    find(alertNames: string[], from: Date, to: Date): Promise<{ first: Date; last: Date } | undefined>;
  };
  now(): Date;
  sleep(ms: number): Promise<void>;
  log(text: string): void;
  /** Aborted (Ctrl-C): the run stops within one poll, clears the fault and reports 'aborted'. */
  signal?: AbortSignal;
  /** Timeline poll period (≤ 1 s keeps the 5 s abort promise), how long to wait for each phase, and how long the
   * temporary action holds before the fault is cleared; ms. */
  timing?: Partial<{ pollMs: number; pageTimeoutMs: number; holdMs: number; resolveTimeoutMs: number; verifyTimeoutMs: number; verifyEveryMs: number }>;
}

export interface Score {
  name: 'detect' | 'resolveNotice';
  seconds?: number;
  targetSeconds?: number;
  met?: boolean;
}

/** One of the report's times against the same moment measured another way. */
export interface TimeCheck {
  step: '발생' | '감지' | '복구';
  /** As the report states it (derived from the timeline). */
  reported: Date;
  /** As measured independently: the runner's own clock at injection, or Prometheus' ALERTS evaluations. */
  measured: Date;
  source: string;
  /** |reported − measured|, s. */
  differenceSeconds: number;
  /** Within the tolerance: one evaluation interval. */
  within: boolean;
}

export interface GamedayResult {
  scenario: Scenario;
  outcome: 'passed' | 'missed-target' | 'failed' | 'aborted';
  reason?: string;
  injectedAt?: Date;
  pagedAt?: Date;
  clearedAt?: Date;
  resolveNoticeAt?: Date;
  incident?: Incident;
  verification?: { passed: boolean; text: string };
  reportFile?: string;
  scores: Score[];
  /** The report's 발생, 감지 and 복구 against independent measurements (when `firingEvaluations` was given). */
  timeChecks?: TimeCheck[];
  traffic?: { requests: number; failures: number };
}

class Abort extends Error {}

const DEFAULT_TIMING = {
  pollMs: 1_000,
  pageTimeoutMs: 5 * 60_000,
  holdMs: 30_000,
  resolveTimeoutMs: 10 * 60_000,
  verifyTimeoutMs: 5 * 60_000,
  verifyEveryMs: 15_000,
};

/**
 * One game day run: steady state, inject, wait for the page, temporary action, clear, wait for the resolve, verify,
 * report, score. Any service page not in the scenario's expected alerts aborts the run within one poll: the fault is
 * cleared at once and the result says why. The fault is always cleared, whatever happens.
 */
export async function runGameday(scenario: Scenario, deps: GamedayDeps): Promise<GamedayResult> {
  const timing = { ...DEFAULT_TIMING, ...deps.timing };
  const result: GamedayResult = { scenario, outcome: 'failed', scores: [] };
  const say = (text: string) => deps.log(`${kst(deps.now())} ${text}`);

  say(`게임 데이: ${scenario.name}`);
  say(`가설: ${scenario.hypothesis}`);
  say(`정상 상태: ${scenario.steadyState}`);
  say(`중단 조건: ${scenario.abortCondition}`);

  const active = await deps.activeServiceAlerts();
  if (active.length > 0) {
    result.outcome = 'aborted';
    result.reason = `정상 상태가 아닙니다: 이미 발생 중인 알림 ${active.join(', ')}`;
    say(result.reason);
    return result;
  }

  if (deps.signal?.aborted) {
    result.outcome = 'aborted';
    result.reason = '훈련을 시작하기 전에 중단했습니다 (Ctrl-C 또는 종료 신호)';
    say(result.reason);
    return result;
  }

  const stopTraffic = deps.startTraffic(scenario.traffic);
  let faultOn = false;
  const clearFault = async (reason: string) => {
    if (!faultOn) return;
    faultOn = false;
    const undoLimit: Step[] = scenario.mitigate.some((s) => s.kind === 'rate-limit') && !scenario.clear.some((s) => s.kind === 'rate-limit-clear') ? [{ kind: 'rate-limit-clear' }] : [];
    for (const step of [...scenario.clear, ...undoLimit]) {
      await deps.apply(step).catch((error) => say(`되돌리기 실패 (${step.kind}): ${(error as Error).message}`));
    }
    result.clearedAt = deps.now();
    await deps.store.record([{ step: 'action', action: 'fault_cleared', actor: 'gameday', occurredAt: result.clearedAt, details: { scenario: scenario.name, reason } }]);
  };

  /** The incident this run caused (detected after injection), and any page it did not cause. */
  const look = async () => {
    if (deps.signal?.aborted) throw new Abort('훈련을 중단했습니다 (Ctrl-C 또는 종료 신호)');
    const from = new Date(result.injectedAt!.getTime() - 15 * 60_000);
    const events = await deps.store.list({ from });
    const foreign = events.find(
      (e) => e.step === 'paged' && e.occurredAt >= result.injectedAt! && isServiceAlert(e) && !scenario.expectedAlerts.includes(e.alertName ?? ''),
    );
    if (foreign) throw new Abort(`이 훈련이 일으키지 않은 알림이 신고되었습니다: ${foreign.alertName} (${kst(foreign.occurredAt)})`);
    const incident = deriveIncidents(events, { pendingSeconds: catalogPendingSeconds }).find((i) => i.detectedAt >= result.injectedAt!);
    return { incident, events };
  };
  const until = async <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = deps.now().getTime() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (deps.now().getTime() >= deadline) throw new Error(`${what}: ${duration(timeoutMs / 1000)} 안에 일어나지 않았습니다`);
      await deps.sleep(timing.pollMs);
    }
  };

  try {
    result.injectedAt = deps.now();
    await deps.store.record([
      {
        step: 'action',
        action: 'fault_injected',
        actor: 'gameday',
        occurredAt: result.injectedAt,
        details: { scenario: scenario.name, hypothesis: scenario.hypothesis, steadyState: scenario.steadyState, abortCondition: scenario.abortCondition },
      },
    ]);
    faultOn = true;
    for (const step of scenario.inject) await deps.apply(step);
    say(`장애 주입: ${scenario.inject.map((s) => s.kind).join(', ')}`);

    const page = await until('신고', timing.pageTimeoutMs, async () => {
      const { events } = await look();
      return events.find((e) => e.step === 'paged' && e.occurredAt >= result.injectedAt! && e.alertName === scenario.expectedAlerts[0]);
    });
    result.pagedAt = page.occurredAt;
    say(`신고 받음: ${page.alertName} (주입 후 ${duration((page.occurredAt.getTime() - result.injectedAt.getTime()) / 1000)})`);

    for (const step of scenario.mitigate) await deps.apply(step);
    if (scenario.mitigate.length > 0) say(`임시 조치: ${scenario.mitigate.map((s) => s.kind).join(', ')}`);
    // When the temporary action is itself the fix (a restart), the fault is gone now; otherwise hold it a while.
    const holdUntil = deps.now().getTime() + (scenario.clear.length === 0 ? 0 : timing.holdMs);
    while (deps.now().getTime() < holdUntil) {
      await look();
      await deps.sleep(timing.pollMs);
    }

    await clearFault('완전 복구');
    say('장애 제거');

    const incident = await until('복구', timing.resolveTimeoutMs, async () => {
      const { incident } = await look();
      return incident?.recoveredAt ? incident : undefined;
    });
    result.incident = incident;
    const notices = incident.events.filter((e) => e.step === 'resolved').map((e) => Date.parse(String(e.details.deliveredAt ?? e.occurredAt.toISOString())));
    result.resolveNoticeAt = new Date(Math.max(...notices));
    say(`[복구] 받음 (장애 제거 후 ${duration((result.resolveNoticeAt.getTime() - result.clearedAt!.getTime()) / 1000)})`);

    result.verification = await until('복구 확인 통과', timing.verifyTimeoutMs, async () => {
      await look();
      const verification = await deps.verify();
      if (verification.passed) return verification;
      await deps.sleep(Math.max(0, timing.verifyEveryMs - timing.pollMs));
      return undefined;
    }).catch((error) => {
      if (error instanceof Abort) throw error;
      say((error as Error).message);
      return { passed: false, text: (error as Error).message };
    });
    // The incident as the timeline holds it now, with the verification just recorded.
    const reported = (await look()).incident ?? incident;
    result.incident = reported;
    result.reportFile = await deps.report(reported);
    say(`보고서: ${result.reportFile}`);
    if (deps.firingEvaluations) {
      result.timeChecks = await checkReportTimes(reported, result.injectedAt, deps.firingEvaluations);
      for (const c of result.timeChecks) say(`보고서 ${c.step} 시각 검증: 차이 ${Number.isNaN(c.differenceSeconds) ? '-' : `${c.differenceSeconds.toFixed(1)}초`} (${c.source}) ${c.within ? '일치' : '불일치'}`);
    }

    const detect = (result.pagedAt.getTime() - result.injectedAt.getTime()) / 1000;
    const detectTarget = (RESPONSE_TARGETS_SECONDS.detect as Record<string, number>)[scenario.severity];
    const resolveNotice = (result.resolveNoticeAt.getTime() - result.clearedAt!.getTime()) / 1000;
    result.scores = [
      { name: 'detect', seconds: detect, targetSeconds: detectTarget, met: detectTarget === undefined ? undefined : detect <= detectTarget },
      { name: 'resolveNotice', seconds: resolveNotice, targetSeconds: RESPONSE_TARGETS_SECONDS.resolveNotice, met: resolveNotice <= RESPONSE_TARGETS_SECONDS.resolveNotice },
    ];
    const reportWrong = result.timeChecks?.find((c) => !c.within);
    if (reportWrong) {
      result.reason = Number.isNaN(reportWrong.differenceSeconds)
        ? `보고서의 ${reportWrong.step} 시각을 확인할 수 없습니다 (${reportWrong.source})`
        : `보고서의 ${reportWrong.step} 시각이 측정값과 ${reportWrong.differenceSeconds.toFixed(1)}초 다릅니다 (${reportWrong.source})`;
    }
    result.outcome =
      !result.verification.passed || reportWrong ? 'failed' : result.scores.some((s) => s.met === false) ? 'missed-target' : 'passed';
  } catch (error) {
    result.outcome = error instanceof Abort ? 'aborted' : 'failed';
    result.reason = (error as Error).message;
    say(`${result.outcome === 'aborted' ? '중단' : '실패'}: ${result.reason}`);
  } finally {
    await clearFault(result.outcome === 'aborted' ? `중단: ${result.reason}` : '정리');
    result.traffic = await stopTraffic();
  }
  return result;
}

/**
 * The report's 발생 against the injection the runner timed itself, and its 감지 and 복구 against Prometheus' own
 * record of the incident's alerts: 감지 (the first alert's `startsAt`) is the first evaluation that found one firing;
 * 복구 (the last `endsAt`) is the evaluation after the last one that found one firing. Each must agree within one
 * evaluation interval.
 */
async function checkReportTimes(
  incident: Incident,
  injectedAt: Date,
  evaluations: NonNullable<GamedayDeps['firingEvaluations']>,
): Promise<TimeCheck[]> {
  const tolerance = evaluations.intervalSeconds;
  const check = (step: TimeCheck['step'], reported: Date, measured: Date, source: string): TimeCheck => {
    const differenceSeconds = Math.abs(reported.getTime() - measured.getTime()) / 1000;
    return { step, reported, measured, source, differenceSeconds, within: differenceSeconds <= tolerance };
  };
  // 발생 is derived from the timeline (the fault recorded last before detection, not cleared): this checks that the
  // report picked this run's injection and not an earlier fault.
  const checks = [check('발생', incident.onsetAt, injectedAt, '게임 데이가 장애를 주입한 시각')];
  const names = [...new Set(incident.alerts.map((a) => a.name))];
  // From the injection (the run started with no alert active) to one evaluation after recovery: a same-named alert
  // of an earlier scenario, or one firing again later, is outside.
  const to = new Date((incident.recoveredAt ?? incident.detectedAt).getTime() + tolerance * 1000);
  const firing = await evaluations.find(names, injectedAt, to);
  if (!firing) {
    // No firing evaluation in Prometheus for alerts the timeline says fired: the report cannot be confirmed.
    const unconfirmed = { reported: incident.detectedAt, measured: incident.detectedAt, differenceSeconds: Number.NaN, within: false };
    checks.push({ step: '감지', ...unconfirmed, source: 'Prometheus ALERTS에 이 알림의 firing 기록이 없어 확인할 수 없음' });
  } else {
    checks.push(check('감지', incident.detectedAt, firing.first, 'Prometheus ALERTS: 처음 firing으로 평가된 시각'));
    if (incident.recoveredAt) {
      const resolvedEvaluation = new Date(firing.last.getTime() + tolerance * 1000);
      checks.push(check('복구', incident.recoveredAt, resolvedEvaluation, 'Prometheus ALERTS: 마지막 firing 평가의 다음 평가'));
    }
  }
  return checks;
}

const OUTCOME: Record<GamedayResult['outcome'], string> = {
  passed: '성공 (목표 달성)',
  'missed-target': '목표 미달',
  failed: '실패',
  aborted: '중단',
};

/** The run as a Korean Markdown record. */
export function renderGameday(r: GamedayResult): string {
  const score = (s: Score) =>
    `| ${s.name === 'detect' ? '감지 (주입 → 신고)' : '[복구] (제거 → 복구 알림)'} | ${duration(s.seconds)} | ${s.targetSeconds === undefined ? '목표 없음' : `${s.targetSeconds}초 이하`} | ${s.met === undefined ? '-' : s.met ? '달성' : '미달'} |`;
  return [
    `# 게임 데이: ${r.scenario.name} — ${OUTCOME[r.outcome]}`,
    '',
    `- 가설: ${r.scenario.hypothesis}`,
    `- 정상 상태: ${r.scenario.steadyState}`,
    `- 중단 조건: ${r.scenario.abortCondition}`,
    ...(r.reason ? [`- 사유: ${r.reason}`] : []),
    '',
    '| 단계 | 시각 (KST) |',
    '|---|---|',
    `| 장애 주입 | ${kst(r.injectedAt)} |`,
    `| 신고 | ${kst(r.pagedAt)} |`,
    `| 장애 제거 | ${kst(r.clearedAt)} |`,
    `| [복구] 알림 | ${kst(r.resolveNoticeAt)} |`,
    '',
    '| 측정 | 값 | 목표 | 결과 |',
    '|---|---|---|---|',
    ...r.scores.map(score),
    '',
    ...(r.timeChecks
      ? [
          '| 보고서 시각 검증 | 보고서 (KST) | 측정 (KST) | 측정 출처 | 차이 | 결과 |',
          '|---|---|---|---|---|---|',
          ...r.timeChecks.map((c) =>
            Number.isNaN(c.differenceSeconds)
              ? `| ${c.step} | ${kst(c.reported)} | - | ${c.source} | - | 확인 불가 |`
              : `| ${c.step} | ${kst(c.reported)} | ${kst(c.measured)} | ${c.source} | ${c.differenceSeconds.toFixed(1)}초 | ${c.within ? '일치' : '불일치'} |`,
          ),
        ]
      : []),
    '',
    `- 복구 확인: ${r.verification ? (r.verification.passed ? '통과' : '실패') : '실행 안 함'}`,
    `- 보고서: ${r.reportFile ?? '-'}`,
    `- 훈련 중 보낸 요청: ${r.traffic ? `${r.traffic.requests}건 (실패 ${r.traffic.failures}건)` : '-'}`,
  ].join('\n');
}
