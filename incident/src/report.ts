import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KEY_ROUTES, THRESHOLDS, WINDOWS, panelUrl } from '../../contract';
import { FAULT_ACTIONS, INCIDENT_PHASES } from '../../contract/incident';
import { duration, grafanaRange, kst, latency, percent } from './format';
import { routesOfAlert } from './investigate';
import type { Prometheus } from './prometheus';
import { Q } from './queries';
import type { Roster } from './roster';
import { runbookUrl } from '../../alerting/rules-yaml';
import { catalogAlert } from './timeline/catalog';
import { phaseDurations, type Incident } from './timeline/incidents';
import type { StoredEvent } from './timeline/store';

/** The report template every report follows: its `##` sections, in order; the parts for people are copied from it. */
export const TEMPLATE_PATH = path.resolve(__dirname, '../../runbooks/incident-report-template.md');

interface TemplateSection {
  heading: string;
  body: string;
}

/** The template's `##` sections (heading without `## `, body up to the next `##`). */
export function templateSections(markdown = readFileSync(TEMPLATE_PATH, 'utf8')): TemplateSection[] {
  const sections: TemplateSection[] = [];
  for (const line of markdown.split('\n')) {
    const heading = /^## (.+)$/.exec(line)?.[1];
    if (heading) sections.push({ heading, body: '' });
    else if (sections.length > 0) sections.at(-1)!.body += `${line}\n`;
  }
  return sections.map((s) => ({ ...s, body: s.body.trim() }));
}

/** A `###` part of a template section, verbatim (heading included), or '' when the template has no such part. */
/** The template's `###` parts of a section body other than those named (which the report writes itself), in order. */
function templatePartsExcept(body: string, written: readonly string[]): string {
  return body
    .split(/\n(?=### )/)
    .filter((part) => part.startsWith('### ') && !written.some((heading) => part.startsWith(`### ${heading}\n`)))
    .map((part) => part.trim())
    .join('\n\n');
}

const STEP_TEXT: Record<string, string> = {
  detected: '알림 울림 (감지)',
  paged: 'Slack 전달 (알림 채널)',
  acknowledged: '대응 시작, 소집',
  resolved: '알림 해제 (복구)',
  verified: '복구 확인',
  reported: '보고서 작성',
};
const ACTION_TEXT: Record<string, string> = {
  rate_limit_set: '트래픽 제한 적용',
  rate_limit_cleared: '트래픽 제한 해제',
  drill_set: '장애 훈련 주입',
  drill_cleared: '장애 훈련 해제',
  cache_purged: '인기 상품 캐시 비우기 (모든 인스턴스)',
  service_started: '서비스 (재)시작',
  fault_injected: '장애 주입 (게임 데이)',
  fault_cleared: '장애 제거 (게임 데이)',
};

/** The details worth a table cell: what was set (limits, drills, scenario), not the game day's prose. */
function actionDetail(e: StoredEvent): string {
  const { hypothesis: _h, steadyState: _s, abortCondition: _a, ...rest } = e.details;
  return Object.keys(rest).length > 0 ? ` \`${JSON.stringify(rest)}\`` : '';
}

function describeEvent(e: StoredEvent): string {
  if (e.step === 'action') {
    const kind = FAULT_ACTIONS.includes(e.action!) ? '장애 주입' : '임시 조치';
    return `${kind}: ${ACTION_TEXT[e.action!] ?? e.action}${actionDetail(e)}`;
  }
  const base = STEP_TEXT[e.step] ?? e.step;
  if (e.alertName) return `${base}: \`${e.alertName}\``;
  if (e.step === 'verified') return `${base}: ${e.details.passed ? '통과' : '실패'}`;
  return base;
}

export interface RouteImpact {
  route: string;
  requests: number;
  errors: number;
  overLine: number;
  /** Requests that failed or took longer than the line: an upper bound (a slow 5xx counts twice). */
  affected: number;
  peakP95?: number;
}

export interface ReportData {
  incident: Incident;
  windowStart: Date;
  windowEnd: Date;
  impacts: RouteImpact[];
  peaks: { errorRatio?: number; minCacheHitRatio?: number; poolUsage?: number };
}

/** Reads the incident window's impact and peaks from Prometheus (evaluated at the window's end). */
export async function measureIncident(prom: Prometheus, incident: Incident, now = new Date()): Promise<ReportData> {
  const windowStart = incident.onsetAt;
  const windowEnd = incident.recoveredAt ?? now;
  const seconds = Math.max(60, Math.ceil((windowEnd.getTime() - windowStart.getTime()) / 1000));
  const w = `${seconds}s`;
  const at = windowEnd;
  const num = async (expr: string) => {
    const v = await prom.scalar(expr, at);
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  };
  const routes = [...new Set([...incident.alerts.flatMap((a) => routesOfAlert({ labels: { alertname: a.name, ...a.labels } })), ...KEY_ROUTES])];
  const impacts: RouteImpact[] = [];
  for (const route of routes) {
    const requests = Math.round((await num(Q.routeRequests(route, w))) ?? 0);
    if (requests === 0) continue;
    const errors = Math.round((await num(Q.routeErrors(route, w))) ?? 0);
    const overLine = Math.max(0, Math.round((await num(Q.routeOverLine(route, w))) ?? 0));
    const peakP95 = await num(`max_over_time((${Q.routeP95(route, WINDOWS.requests)})[${w}:15s])`);
    impacts.push({ route, requests, errors, overLine, affected: Math.min(requests, errors + overLine), peakP95 });
  }
  const peaks = {
    errorRatio: await num(`max_over_time((${Q.serviceErrorRatio(WINDOWS.requests)})[${w}:15s])`),
    minCacheHitRatio: await num(`min_over_time((${Q.popularCacheHitRatio(WINDOWS.requests)})[${w}:15s])`),
    poolUsage: await num(`max_over_time((${Q.poolUsage})[${w}:15s])`),
  };
  return { incident, windowStart, windowEnd, impacts, peaks };
}

/** The Korean report draft (Markdown), in the template's sections; 근본 원인 and 개선 방안 are left for people. */
export function renderReport(data: ReportData, options: { roster?: Roster; template?: string; prometheusUrl: string }): string {
  const { incident, impacts, peaks } = data;
  const phases = phaseDurations(incident);
  const pin = grafanaRange(new Date(data.windowStart.getTime() - 5 * 60_000), new Date(data.windowEnd.getTime() + 5 * 60_000));
  const who = (actor?: string) => {
    const person = options.roster?.responders.find((r) => r.id === actor);
    return person ? `${person.name} (${person.slack})` : actor ?? '-';
  };
  const alertNames = [...new Set(incident.alerts.map((a) => a.name))];
  const runbook = (name: string) => {
    const definition = catalogAlert(name);
    return incident.alerts.find((a) => a.name === name)?.annotations.runbook_url ?? (definition ? runbookUrl(definition) : '');
  };
  const worst = impacts.reduce<RouteImpact | undefined>((w, i) => (!w || i.affected / i.requests > w.affected / w.requests ? i : w), undefined);
  const impactLine = impacts.length === 0
    ? '측정된 요청 없음'
    : impacts.filter((i) => i.affected > 0).map((i) => `${i.route} ${i.affected}/${i.requests}건 (${percent(i.affected / i.requests)})`).join(', ') || '실패하거나 1초를 넘은 요청 없음';
  const first = incident.alerts[0];
  const title = first ? `${first.annotations.summary ?? first.name}` : incident.id;

  const generated: Record<string, string> = {
    요약: [
      '| 항목 | 내용 |',
      '|---|---|',
      `| 장애 수준 | ${incident.severity[0]!.toUpperCase()}${incident.severity.slice(1)} (알림 \`severity\` 기준) |`,
      `| 관련 알림 | ${alertNames.map((n) => `\`${n}\` ([런북](${runbook(n)}))`).join(', ')} |`,
      `| 발생 시각 (KST) | ${kst(incident.onsetAt)} (${incident.onsetSource === 'fault' ? '장애 주입 기록' : '알림 조건 충족 시각 (발생 - for)'}) |`,
      `| 감지 시각 (KST) | ${kst(incident.detectedAt)} (Slack 전달 ${kst(incident.pagedAt)}) |`,
      `| 소집 (KST) | ${kst(incident.acknowledgedAt)} ${incident.acknowledgedBy ? who(incident.acknowledgedBy) : ''} |`,
      `| 첫 임시 조치 (KST) | ${kst(incident.mitigatedAt)} |`,
      `| 복구 시각 (KST) | ${incident.recoveredAt ? kst(incident.recoveredAt) : '진행 중'} (복구 확인 ${kst(incident.verifiedAt)}) |`,
      `| 장애 시간 | ${duration(phases.recover)} (감지까지 ${duration(phases.detect)}, 감지 후 복구까지 ${duration(incident.recoveredAt ? (incident.recoveredAt.getTime() - incident.detectedAt.getTime()) / 1000 : undefined)}) |`,
      `| 영향 범위 | ${impactLine}${worst ? `; 가장 큰 영향 ${worst.route}` : ''} |`,
      `| 담당자 | ${who(incident.acknowledgedBy)} |`,
      '| Slack 스레드 | |',
    ].join('\n'),
    증상: [
      ...incident.alerts.map((a) => `- \`${a.name}\` (${a.severity}): ${a.annotations.summary ?? ''}${a.annotations.description ? ` — ${a.annotations.description}` : ''}`),
      '',
      '### 영향 범위 (발생~복구 구간, Prometheus)',
      '',
      `| API | 요청 수 | 5xx | ${THRESHOLDS.latencySeconds}초 초과 | 영향 추정 (실패 또는 ${THRESHOLDS.latencySeconds}초 초과) | 최고 p${THRESHOLDS.latencyQuantile * 100} |`,
      '|---|---|---|---|---|---|',
      ...impacts.map((i) => `| ${i.route} | ${i.requests} | ${i.errors} (${percent(i.errors / i.requests)}) | ${i.overLine} (${percent(i.overLine / i.requests)}) | ${i.affected} (${percent(i.affected / i.requests)}) | ${latency(i.peakP95)} |`),
      '',
      '### 최고값',
      '',
      `- 서비스 전체 5xx 비율 최고: ${percent(peaks.errorRatio)}`,
      `- 인기 상품 캐시 적중률 최저: ${percent(peaks.minCacheHitRatio)}`,
      `- 커넥션 풀 사용률 최고: ${percent(peaks.poolUsage)}`,
      '',
      '### 대시보드 (장애 구간 고정)',
      '',
      ...alertNames.map((n) => {
        const ref = catalogAlert(n)?.dashboard;
        return ref ? `- \`${n}\`: ${panelUrl(ref)}${pin}` : `- \`${n}\`: (카탈로그에 패널 없음)`;
      }),
      `- 서비스 개요: ${panelUrl({ dashboard: 'overview', panel: 'latency' })}${pin}`,
    ].join('\n'),
    타임라인: [
      '| 시각 (KST) | 이벤트 | 담당 | 근거 |',
      '|---|---|---|---|',
      ...incident.events.map((e) => {
        const evidence = e.alertName
          ? (catalogAlert(e.alertName)?.dashboard ? `${panelUrl(catalogAlert(e.alertName)!.dashboard)}${pin}` : '')
          : '';
        return `| ${kst(e.occurredAt)} | ${describeEvent(e)} | ${who(e.actor)} | ${evidence} |`;
      }),
    ].join('\n'),
    '복구 시간': [
      `- 복구 시각: ${incident.recoveredAt ? `${kst(incident.recoveredAt)} (모든 알림 해제)` : '아직 복구되지 않음'}`,
      `- 복구 확인: ${incident.verifiedAt ? `${kst(incident.verifiedAt)} \`incident verify\` 통과` : '통과 기록 없음'}`,
      ...INCIDENT_PHASES.map((p) => `- ${({ detect: '감지까지 (발생→감지)', acknowledge: '소집까지 (Slack 전달→소집)', mitigate: '임시 조치까지 (발생→조치)', recover: '복구까지 (발생→복구)' } as const)[p]}: ${duration(phases[p])}`),
    ].join('\n'),
  };
  const actions = incident.events.filter((e) => e.step === 'action' && !FAULT_ACTIONS.includes(e.action!));
  const mitigationTable = [
    '### 임시 조치',
    '',
    '| 시각 (KST) | 조치 | 담당 | 되돌림 여부/시각 |',
    '|---|---|---|---|',
    ...actions.map((e) => `| ${kst(e.occurredAt)} | ${ACTION_TEXT[e.action!] ?? e.action}${actionDetail(e)} | ${who(e.actor)} | |`),
  ].join('\n');

  const out = [`# 장애 보고서: ${title} (${incident.id})`, '', `> 타임라인과 Prometheus(${options.prometheusUrl})에서 자동 작성한 초안입니다. 시각은 KST입니다. 장애 원인, 근본 조치, 재발 방지, 사후 회고는 사람이 채웁니다.`, ''];
  for (const section of templateSections(options.template)) {
    out.push(`## ${section.heading}`, '');
    // 임시 조치 comes from the timeline; every other part of the section (완전 복구, …) stays the template's, for people.
    if (section.heading === '조치 내용') out.push(mitigationTable, '', templatePartsExcept(section.body, ['임시 조치']));
    else out.push(generated[section.heading] ?? section.body);
    out.push('');
  }
  return out.join('\n');
}

/** The last line of every draft `report` writes: the SHA-256 of what is above it, so a person's edit is seen. */
const draftMark = (text: string) => `<!-- incident report draft: sha256 ${createHash('sha256').update(text).digest('hex')} -->\n`;
const DRAFT_MARK = /<!-- incident report draft: sha256 ([0-9a-f]{64}) -->\n$/;

/**
 * Writes a report draft to `file` without ever destroying what a person wrote: a file that does not exist, or that is
 * exactly the draft this tool wrote last (its closing mark matches its text), is (over)written; a file someone edited
 * (or wrote) is kept as it is and the new draft goes to `<file without .md>.new.md` beside it, to compare and merge by
 * hand. Returns where the draft went and whether the existing file was kept.
 */
export function writeReportDraft(file: string, markdown: string): { file: string; kept?: string } {
  const text = `${markdown.replace(/\n*$/, '\n')}`;
  const marked = `${text}${draftMark(text)}`;
  const untouched = (path: string) => {
    if (!existsSync(path)) return true;
    const current = readFileSync(path, 'utf8');
    const mark = DRAFT_MARK.exec(current);
    return mark !== null && draftMark(current.slice(0, mark.index)) === mark[0];
  };
  if (untouched(file)) {
    writeFileSync(file, marked);
    return { file };
  }
  // Beside it: <id>.new.md, or the first <id>.new-N.md that is free or untouched (a person may merge in one).
  const base = file.replace(/\.md$/, '');
  let beside = `${base}.new.md`;
  for (let n = 2; !untouched(beside); n++) beside = `${base}.new-${n}.md`;
  writeFileSync(beside, marked);
  return { file: beside, kept: file };
}
