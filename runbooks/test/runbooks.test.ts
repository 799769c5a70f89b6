import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ALERTS } from '../../alerting/catalog';
import { RULES_FILE, RUNBOOK_BASE_URL } from '../../alerting/rules-yaml';
import {
  begin,
  durationKo,
  end,
  markdownFiles,
  readRoster,
  regeneratedRunbooks,
  REQUIRED_SECTIONS,
  ROOT,
  runbookFiles,
  RUNBOOKS_DIR,
  SITE_DIR,
  siteFileForUrl,
  sitePages,
  withGenerated,
} from '../runbooks';
import { comparisons, disagreements, placeholdersIn, quotes, SHELL_LANGS } from './support/quotes';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  annotations: Record<string, string>;
}
const rules = (): Rule[] =>
  parse(readFileSync(path.join(ROOT, RULES_FILE), 'utf8')).groups.flatMap((group: { rules: Rule[] }) => group.rules);
const read = (file: string) => readFileSync(path.join(RUNBOOKS_DIR, file), 'utf8');
const ruleOf = (name: string) => rules().find((r) => r.alert === name)!;
const runbookCases = () => runbookFiles().map((file) => [file.replace(/\.md$/, '')]);

describe('one runbook per alert', () => {
  test('every alert has a runbook and every runbook an alert', () => {
    expect(runbookFiles().map((file) => file.replace(/\.md$/, ''))).toEqual(ALERTS.map((a) => a.name).sort());
  });

  test.each(ALERTS.map((a) => [a.name]))('%s: the rule links its HTML page on the runbook server', (name) => {
    const url = ruleOf(name).annotations.runbook_url!;
    expect(url).toBe(`${RUNBOOK_BASE_URL}/${name}.html`);
    expect(existsSync(siteFileForUrl(url))).toBe(true);
  });

  test('the runbook index links every runbook, the reference and the report template', () => {
    const index = read('README.md');
    for (const file of markdownFiles().filter((f) => f !== 'README.md')) expect({ file, linked: index.includes(`(${file})`) }).toEqual({ file, linked: true });
  });
});

describe.each(runbookCases())('%s', (name) => {
  const text = () => read(`${name}.md`);
  const body = () => {
    const t = text();
    return t.slice(0, t.indexOf(begin('header'))) + t.slice(t.indexOf(end('header')));
  };

  test('is written: no "(작성 필요)" left from the skeleton npm run generate writes for a new alert', () => {
    expect(text()).not.toContain('(작성 필요)');
  });

  test('fits on a phone: at most 120 lines', () => {
    expect(text().split('\n').length).toBeLessThanOrEqual(120);
  });

  test('opens with its name, the generated header, then 먼저 할 일 (첫 5분); every section in order', () => {
    const t = text();
    expect(t.startsWith(`# ${name}`)).toBe(true);
    const headings = [...t.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim());
    expect(headings).toEqual([...REQUIRED_SECTIONS]);
    expect(t.indexOf(begin('header'))).toBeLessThan(t.indexOf('## 먼저 할 일'));
    expect(t.indexOf(begin('report'))).toBeGreaterThan(t.indexOf('## 먼저 할 일'));
    const mitigation = t.slice(t.indexOf('## 조치'), t.indexOf('## 복구 확인'));
    expect([...mitigation.matchAll(/^### (.+)$/gm)].map((m) => m[1]!.trim())).toEqual(['임시 조치', '완전 복구']);
  });

  test('먼저 할 일: 신고, 소집, a first command, then a symptom → action → command table', () => {
    const t = text();
    const first = t.slice(t.indexOf('## 먼저 할 일'), t.indexOf('## 의미'));
    const order = ['**1. 신고.**', '**2. 소집.**', '**3. 첫 명령.**', '| 보이는 것 | 조치 | 명령 / 참고 |'].map((s) => first.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(quotes(first.slice(order[2]!)).some((q) => q.kind === 'block' && q.lang === 'bash')).toBe(true);
  });

  test('the generated header and report block are current (npm run generate)', () => {
    const alert = ALERTS.find((a) => a.name === name)!;
    expect(withGenerated(text(), alert, readRoster())).toBe(text());
  });

  test("the PromQL it quotes agrees with the rule's expression, windows and threshold", () => {
    const rule = comparisons(ruleOf(name).expr);
    const promql = quotes(text()).filter((q) => q.lang === 'promql' || q.kind === 'inline' || SHELL_LANGS.includes(q.lang));
    expect(promql.flatMap((q) => disagreements(q.text, rule))).toEqual([]);
    // The header quotes the rule exactly.
    expect(quotes(text()).filter((q) => q.lang === 'promql').map((q) => q.text)).toContain(ruleOf(name).expr);
  });

  test("durations and second thresholds in its sentences are the rule's", () => {
    const rule = ruleOf(name);
    const forKo = rule.for ? durationKo(rule.for) : undefined;
    const durations = [...body().matchAll(/(\d+(?:초|분|시간))\s*(?:넘게|이상|동안)\s*(?:지속|계속)/g)].map((m) => m[1]);
    expect(durations.filter((d) => d !== forKo)).toEqual([]);
    const thresholds = new Set(rules().flatMap((r) => comparisons(r.expr)).map((c) => Number(c.value)));
    const seconds = [...body().matchAll(/(\d+(?:\.\d+)?)\s*초를?\s*(?:넘|초과|미만|이상)/g)].map((m) => Number(m[1]));
    expect(seconds.filter((s) => !thresholds.has(s))).toEqual([]);
  });
});

describe('every page in runbooks/', () => {
  test.each(markdownFiles().map((f) => [f]))('%s: every shell block parses and carries no placeholder', (file) => {
    const blocks = quotes(read(file)).filter((q) => q.kind === 'block' && SHELL_LANGS.includes(q.lang));
    for (const block of blocks) {
      expect({ block: block.text, placeholders: placeholdersIn(block.text) }).toEqual({ block: block.text, placeholders: [] });
      const syntax = spawnSync('bash', ['-n'], { input: block.text, encoding: 'utf8' });
      expect({ block: block.text, bash: syntax.stderr }).toEqual({ block: block.text, bash: '' });
    }
  });

  test.each(markdownFiles().map((f) => [f]))('%s: every link to another runbook page lands on a page and a heading', (file) => {
    const html = sitePages();
    const self = file === 'README.md' ? 'index.html' : file.replace(/\.md$/, '.html');
    const page = html.get(self)!;
    const broken = [...page.matchAll(/href="([^":#]*)(?:#([^"]*))?"/g)].flatMap(([, target, anchor]) => {
      const other = html.get(target || self);
      if (!other) return [`${target} (no such page)`];
      if (anchor && !other.includes(`id="${decodeURIComponent(anchor)}"`)) return [`${target}#${decodeURIComponent(anchor)} (no such heading)`];
      return [];
    });
    expect(broken).toEqual([]);
  });

  test('no personal phone number anywhere in the repository', () => {
    const files = spawnSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\n').filter((f) => /\.(md|ts|ya?ml|json|tmpl|mjs)$/.test(f));
    const phone = /\b01[016789][-. ]?(?:\d{3,4}|[ox]{4})[-. ]?(?:\d{4}|[ox]{4})\b/i;
    expect(files.filter((f) => existsSync(path.join(ROOT, f)) && phone.test(readFileSync(path.join(ROOT, f), 'utf8')))).toEqual([]);
  });
});

describe('the HTML site (runbooks/site/)', () => {
  test('is current: what npm run generate renders from runbooks/*.md, and nothing else', () => {
    const pages = sitePages();
    const committed = readdirSync(SITE_DIR).filter((f) => f.endsWith('.html')).sort();
    expect(committed).toEqual([...pages.keys()].sort());
    for (const [file, html] of pages) expect({ file, current: readFileSync(path.join(SITE_DIR, file), 'utf8') === html }).toEqual({ file, current: true });
  });
});

describe('the consistency checks themselves', () => {
  const rule = comparisons(
    'histogram_quantile(0.95, sum by (le) (rate(x_bucket{job="orders"}[2m]))) > 1\nand sum(rate(x_count{job="orders"}[2m])) > 0.1',
  );

  test.each([
    ['another threshold', 'histogram_quantile(0.95, sum by (le) (rate(x_bucket{job="orders"}[2m]))) > 2'],
    ['another window', 'histogram_quantile(0.95, sum by (le) (rate(x_bucket{job="orders"}[5m]))) > 1'],
    ['another quantile', 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{job="orders"}[2m]))) > 1'],
    ['another traffic floor', 'sum(rate(x_count{job="orders"}[2m])) > 1'],
  ])('a quote with %s disagrees', (_, quote) => {
    expect(disagreements(quote, rule)).toHaveLength(1);
  });

  test.each([
    ['the rule itself', 'histogram_quantile(0.95, sum by (le) (rate(x_bucket{job="orders"}[2m]))) > 1 and sum(rate(x_count{job="orders"}[2m])) > 0.1'],
    ['a recovery check', 'histogram_quantile(0.95, sum by (le) (rate(x_bucket{job="orders"}[2m]))) < 1'],
    ['another query', 'histogram_quantile(0.95, sum by (route, le) (rate(x_bucket{job="orders"}[5m])))'],
  ])('%s agrees', (_, quote) => {
    expect(disagreements(quote, rule)).toEqual([]);
  });

  test('a ratio whose denominator is also the traffic floor is read as one comparison', () => {
    const ratio = comparisons('sum(rate(e{c="5.."}[2m])) / sum(rate(e[2m])) > 0.2\nand sum(rate(e[2m])) > 0.1');
    expect(disagreements('sum(rate(e{c="5.."}[2m])) / sum(rate(e[2m])) > 0.2 and sum(rate(e[2m])) > 0.1', ratio)).toEqual([]);
  });

  test.each([
    ['pg_cancel_backend(<pid>);', ['<…>']],
    ['docker compose restart ‹서비스›', ['‹…›']],
    ["docker inspect --format '{{.State.Status}}'", ['{{']],
    ['curl -X PUT XXX', ['XXX']],
    ["psql <<'SQL'\nSELECT 1 WHERE 2 > 1;\nSQL\nfoo 2>/dev/null | head", []],
  ])('placeholders in %j', (command, expected) => {
    expect(placeholdersIn(command)).toEqual(expected);
  });

  test('regeneration puts a stale header back', () => {
    const alert = ALERTS[0]!;
    const current = read(`${alert.name}.md`);
    const stale = current.replace(/\*\*장애 수준 \w+\*\*/, '**장애 수준 Minor**');
    expect(stale).not.toBe(current);
    expect(withGenerated(stale, alert, readRoster())).toBe(current);
  });

  test('regeneratedRunbooks reports a missing runbook', () => {
    const ghost = { ...ALERTS[0]!, name: 'NoSuchAlertRunbook' };
    expect(regeneratedRunbooks([ghost])[0]!.current).toBeUndefined();
  });
});
