import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import anchor from 'markdown-it-anchor';
import { parse } from 'yaml';
import { DASHBOARDS, panelId, panelUrl, type Severity } from '../contract';
import { ALERTS, type AlertDefinition } from '../alerting/catalog';
import { buildDashboards } from '../monitoring/grafana/dashboards';

/**
 * The runbooks' generated parts, from the alert catalog (alerting/catalog.ts), the dashboards and the on-call roster:
 * the header of each runbook (level, symptom, condition, `for`, expression, panel link), the guide's first two steps
 * (the Slack report to copy and whom to convene), and the HTML the runbook server sends to a phone.
 * `npm run generate` writes them (runbooks/generate.ts); runbooks/test/ fails when a committed file is stale.
 */

export const ROOT = path.resolve(__dirname, '..');
export const RUNBOOKS_DIR = path.join(ROOT, 'runbooks');
/** The HTML the runbook server (compose service `runbooks`, monitoring/runbooks/nginx.conf) serves at its root. */
export const SITE_DIR = path.join(RUNBOOKS_DIR, 'site');
export const ROSTER_FILE = 'alerting/oncall-roster.yml';

/** Markdown files in runbooks/ that are not an alert's runbook. */
export const SHARED_DOCS = ['README.md', 'reference.md', 'incident-report-template.md'] as const;

/** The runbook of every alert is `runbooks/<AlertName>.md`; its HTML `runbooks/site/<AlertName>.html`. */
export const runbookFile = (alertName: string) => path.join(RUNBOOKS_DIR, `${alertName}.md`);

/** Every Markdown file in runbooks/ (shared documents and runbooks), as file names. */
export const markdownFiles = () => readdirSync(RUNBOOKS_DIR).filter((file) => file.endsWith('.md')).sort();
export const runbookFiles = () => markdownFiles().filter((file) => !(SHARED_DOCS as readonly string[]).includes(file));

/** The HTML page that a Markdown file in runbooks/ becomes: README.md is the index, the rest keep their name. */
export const htmlName = (markdownName: string) =>
  markdownName === 'README.md' ? 'index.html' : markdownName.replace(/\.md$/, '.html');

/** The file under runbooks/site/ that a runbook URL (`http://localhost:9998/<AlertName>.html`) opens. */
export const siteFileForUrl = (url: string) => path.join(SITE_DIR, decodeURIComponent(new URL(url).pathname));

// ---------------------------------------------------------------------------------------------------------------
// Generated regions

export type Region = 'header' | 'report';
export const begin = (region: Region) => `<!-- BEGIN GENERATED: ${region} -->`;
export const end = (region: Region) => `<!-- END GENERATED: ${region} -->`;

/** The guide's levels (장애 수준), its own words; `topic` is the label with its Korean topic particle. */
export const LEVELS: Record<Severity, { label: string; topic: string; meaning: string }> = {
  critical: { label: 'Critical', topic: 'Critical은', meaning: '서비스 전체 중단 또는 사용자 전원이 영향을 받는 상황' },
  major: { label: 'Major', topic: 'Major는', meaning: '특정 주요 기능이 작동하지 않아 사용자 경험에 큰 영향을 미치는 상황' },
  minor: { label: 'Minor', topic: 'Minor는', meaning: '일부 비핵심 기능에서 성능 저하 또는 일시적인 장애가 발생한 상황' },
};

/** A Prometheus duration (`90s`, `2m`, `1h`) in Korean (`90초`, `2분`, `1시간`). Throws on anything else. */
export function durationKo(duration: string): string {
  const units: Record<string, string> = { s: '초', m: '분', h: '시간', d: '일' };
  const match = /^(\d+)([smhd])$/.exec(duration);
  if (!match) throw new Error(`unsupported duration ${JSON.stringify(duration)}`);
  return `${match[1]}${units[match[2]!]}`;
}

/** An annotation template as plain Korean text: `{{ $labels.x }}` → `(x)`, `{{ $value … }}` → `(측정값)`. */
export const plainText = (template: string) =>
  template
    .replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, '($1)')
    .replace(/\{\{\s*\$value[^}]*\}\}/g, '(측정값)')
    .replace(/^(Critical|Major|Minor|없음):\s*/, '');

/** The title of the panel a PanelRef points at, as Grafana shows it (from the dashboards' code). */
export function panelTitle(ref: AlertDefinition['dashboard']): string {
  const uid = DASHBOARDS[ref.dashboard].uid;
  const dashboard = buildDashboards().find((d) => d.file === `${uid}.json`)!.json as { panels?: Panel[] };
  type Panel = { id?: number; title?: string; panels?: Panel[] };
  const flat = (panels: Panel[] = []): Panel[] => panels.flatMap((p) => [p, ...flat(p.panels)]);
  const id = panelId(ref);
  const title = flat(dashboard.panels).find((p) => p.id === id)?.title;
  if (!title) throw new Error(`${ref.dashboard} has no panel ${id} (${String(ref.panel)})`);
  return `${DASHBOARDS[ref.dashboard].title} › ${title}`;
}

/** The header of a runbook: what the page says, in the order a responder reads it. */
export function headerBlock(alert: AlertDefinition): string {
  const level = LEVELS[alert.severity];
  const condition = alert.for
    ? `아래 식이 **${durationKo(alert.for)}** 동안 계속 참이면 발생`
    : '아래 식이 참이 되면 바로 발생 (식 안의 창이 잠깐의 흔들림을 거름)';
  return [
    begin('header'),
    '<!-- npm run generate가 alerting/catalog.ts에서 만듭니다. 손으로 고치지 마세요. -->',
    `**장애 수준 ${level.label}** (${level.meaning}) · **조건:** ${condition} · **패널:** [${panelTitle(alert.dashboard)}](${panelUrl(alert.dashboard)})`,
    '',
    '<details><summary>알림 식 (PromQL)</summary>',
    '',
    '```promql',
    alert.expr,
    '```',
    '',
    '</details>',
    end('header'),
  ].join('\n');
}

/** The on-call roster (alerting/oncall-roster.yml): placeholder people, and whom each level convenes. */
export interface Roster {
  responders: { id: string; name: string; slack: string }[];
  convene: Partial<Record<Severity, string[]>>;
}

export function readRoster(file = path.join(ROOT, ROSTER_FILE)): Roster {
  const roster = parse(readFileSync(file, 'utf8')) as Roster;
  if (!Array.isArray(roster?.responders) || typeof roster.convene !== 'object') {
    throw new Error(`${ROSTER_FILE}: expected { responders: [...], convene: {...} }`);
  }
  return roster;
}

/** Whom a level convenes, as `담당자 1 (@oncall-primary)`, from the roster. Throws on an id the roster lacks. */
export function conveneList(severity: Severity, roster: Roster): string[] {
  return (roster.convene[severity] ?? []).map((id) => {
    const person = roster.responders.find((r) => r.id === id);
    if (!person) throw new Error(`${ROSTER_FILE}: convene.${severity} names unknown responder ${id}`);
    return `${person.name} (\`${person.slack}\`)`;
  });
}

/** The guide's 장애 신고 and 장애 대응팀 소집, the first two things a responder does. */
export function reportBlock(definition: AlertDefinition, roster: Roster): string {
  // The incident the responder reports: the alert's own, or the page its runbook is for (reportedAs).
  const alert = definition.reportedAs ?? definition;
  const { label: level, topic } = LEVELS[alert.severity];
  const people = conveneList(alert.severity, roster);
  const convene = people.length
    ? `${topic} 바로 부릅니다: ${people.join(', ')}. 스레드에 멘션하고, 10분 안에 답이 없으면 전화합니다(연락처는 온콜 표).`
    : `${topic} 호출하지 않습니다. 온콜 담당자가 혼자 조사하고, 사용자 영향이 커지면 장애 수준을 올려 [소집](README.md#소집)합니다.`;
  const mention = people.length ? ` / 소집: ${(roster.convene[alert.severity] ?? []).map((id) => roster.responders.find((r) => r.id === id)!.slack).join(' ')}` : '';
  return [
    begin('report'),
    '**1. 신고.** 알림 스레드에 붙여 넣고 괄호를 채웁니다 (발생 시간은 증상이 시작된 때, 감지 시간은 알림이 발생한 때):',
    '',
    '```text',
    `[장애 신고] ${alert.name} / 장애 수준 ${level} / 담당: (내 이름)${mention}`,
    `발생 시간(KST): (알림의 발생 시간, 대시보드로 확인) / 감지 시간(KST): (알림의 감지 시간)`,
    `증상: ${plainText(alert.summary)}`,
    `영향 범위: ${plainText(alert.impact)}`,
    '```',
    '',
    `**2. 소집.** ${convene}`,
    end('report'),
  ].join('\n');
}

/** Replaces the text between a region's markers; throws when the markers are missing or out of order. */
export function replaceRegion(text: string, region: Region, block: string): string {
  const from = text.indexOf(begin(region));
  const to = text.indexOf(end(region));
  if (from < 0 || to < from) throw new Error(`missing ${begin(region)} … ${end(region)}`);
  return text.slice(0, from) + block + text.slice(to + end(region).length);
}

/** A runbook with its generated regions brought up to date. */
export function withGenerated(text: string, alert: AlertDefinition, roster: Roster): string {
  return replaceRegion(replaceRegion(text, 'header', headerBlock(alert)), 'report', reportBlock(alert, roster));
}

/** The current text of every alert's runbook, regenerated; `missing` lists alerts without a runbook file. */
export function regeneratedRunbooks(alerts: AlertDefinition[] = ALERTS, roster = readRoster()) {
  const files = new Set(runbookFiles());
  return alerts.map((alert) => {
    const file = `${alert.name}.md`;
    if (!files.has(file)) return { alert, file, current: undefined, generated: undefined };
    const current = readFileSync(path.join(RUNBOOKS_DIR, file), 'utf8');
    return { alert, file, current, generated: withGenerated(current, alert, roster) };
  });
}

/** A skeleton for a new alert's runbook: the fixed sections, generated regions filled, the rest to write. */
export function newRunbook(alert: AlertDefinition, roster: Roster): string {
  return withGenerated(
    [
      `# ${alert.name}`,
      '',
      begin('header'),
      end('header'),
      '',
      '## 먼저 할 일 (첫 5분)',
      '',
      begin('report'),
      end('report'),
      '',
      '**3. 첫 명령.** (작성 필요)',
      '',
      '```bash',
      '# (작성 필요): 저장소 루트에서 그대로 붙여 넣어 실행되는 첫 명령',
      '```',
      '',
      '| 보이는 것 | 조치 | 명령 / 참고 |',
      '|---|---|---|',
      '| (작성 필요) | | |',
      '',
      ...['의미', '영향', '진단 (장애 조사)'].flatMap((section) => [`## ${section}`, '', '(작성 필요)', '']),
      '## 조치', '', '### 임시 조치', '', '(작성 필요)', '', '### 완전 복구', '', '(작성 필요)', '',
      '## 복구 확인', '', '[공통 복구 확인](README.md#복구-확인)에 더해: (작성 필요)', '',
      '## 장애 보고', '', '[장애 보고](README.md#장애-보고). (작성 필요)', '',
    ].join('\n'),
    alert,
    roster,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// HTML for phones

/** The sections every runbook has, in this order (prometheus-operator shape, in the guide's words). */
export const REQUIRED_SECTIONS = ['먼저 할 일 (첫 5분)', '의미', '영향', '진단 (장애 조사)', '조치', '복구 확인', '장애 보고'] as const;

const CSS = `
:root { color-scheme: light dark; }
body { margin: 0; font: 17px/1.6 -apple-system, "Apple SD Gothic Neo", "Noto Sans CJK KR", "Noto Sans KR",
  "Malgun Gothic", system-ui, sans-serif; word-break: keep-all; overflow-wrap: anywhere; }
main { max-width: 46rem; margin: 0 auto; padding: 0.75rem 1rem 4rem; }
nav { font-size: 0.9rem; margin-bottom: 0.5rem; }
h1 { font-size: 1.45rem; line-height: 1.3; margin: 0.3rem 0 0.6rem; }
h2 { font-size: 1.2rem; margin-top: 1.8rem; padding-top: 0.6rem; border-top: 1px solid #8884; }
h3 { font-size: 1.05rem; }
pre { overflow-x: auto; padding: 0.6rem 0.75rem; border-radius: 6px; background: #8881; font-size: 0.82rem;
  line-height: 1.45; white-space: pre; }
code { font-family: ui-monospace, "SFMono-Regular", "D2Coding", "Noto Sans Mono CJK KR", monospace; font-size: 0.9em; }
:not(pre) > code { background: #8882; padding: 0.05em 0.3em; border-radius: 4px; }
table { display: block; overflow-x: auto; border-collapse: collapse; font-size: 0.92rem; }
th, td { border: 1px solid #8886; padding: 0.35rem 0.5rem; vertical-align: top; text-align: left; min-width: 5.5em;
  overflow-wrap: break-word; }
details { margin: 0.5rem 0; } summary { cursor: pointer; }
code.language-text { white-space: pre-wrap; }
a { color: #1a66d6; } @media (prefers-color-scheme: dark) { a { color: #7fb0ff; } }
`;

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens (Korean kept). */
export const slugify = (heading: string) =>
  heading.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '').replace(/\s/g, '-');

/** The Markdown renderer of the site: CommonMark + tables, raw HTML (`<details>`), heading anchors. */
export function markdownRenderer() {
  const md = new MarkdownIt({ html: true, linkify: false }).use(anchor, { slugify });
  const linkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const href = String(tokens[idx]!.attrGet('href') ?? '');
    const local = /^([\w.-]+)\.md(#.*)?$/.exec(href);
    if (local) tokens[idx]!.attrSet('href', htmlName(`${local[1]}.md`) + (local[2] ?? ''));
    return linkOpen(tokens, idx, options, env, self);
  };
  return md;
}

/** Markdown → one self-contained UTF-8 HTML page; links between runbooks point at their HTML pages. */
export function renderHtml(markdownName: string, markdown: string): string {
  const body = markdownRenderer().render(markdown);
  const title = /^# (.+)$/m.exec(markdown)?.[1]?.trim() ?? markdownName;
  const nav = markdownName === 'README.md' ? '' : '<nav><a href="index.html">← 런북 목록과 공통 절차</a></nav>\n';
  return [
    '<!doctype html>',
    '<html lang="ko">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)} · 주문 서비스 런북</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body><main>',
    `${nav}${body}</main></body>`,
    '</html>',
    '',
  ].join('\n');
}

/** Every page of the runbook site: file name under runbooks/site/ → HTML. */
export function sitePages(): Map<string, string> {
  return new Map(
    markdownFiles().map((file) => [htmlName(file), renderHtml(file, readFileSync(path.join(RUNBOOKS_DIR, file), 'utf8'))]),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The README's walkthrough ("Your first page in 10 minutes")

/**
 * The README walkthrough's commands, one shell script per step, in order: the fenced block that follows each
 * `<!-- walkthrough step N -->` marker. A test runs them against a real stack, so the README cannot go stale.
 * Throws when the steps are not numbered 1, 2, 3, … or a marker is not followed by a bash block.
 */
export function walkthroughSteps(readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')): { step: number; script: string }[] {
  const steps = [...readme.matchAll(/<!-- walkthrough step (\d+) -->\n```bash\n([\s\S]*?)\n```/g)].map((m) => ({
    step: Number(m[1]),
    script: m[2]!,
  }));
  const markers = [...readme.matchAll(/<!-- walkthrough step (\d+) -->/g)].length;
  if (steps.length !== markers) throw new Error('README: a walkthrough marker is not followed by a ```bash block');
  steps.forEach(({ step }, i) => {
    if (step !== i + 1) throw new Error(`README: walkthrough step ${step} where ${i + 1} was expected`);
  });
  return steps;
}
