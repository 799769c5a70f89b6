import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DASHBOARDS } from '../../contract';
import { ALERTS } from '../catalog';
import { RULE_TESTS_FILE, ruleTestsYaml } from '../rule-tests';
import { RULES_FILE, RUNBOOK_BASE_URL, rulesYaml } from '../rules-yaml';
import { THRESHOLDS } from '../../contract';
import { binary, ROOT, run } from './support/tools';

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const rules = () => parse(read(RULES_FILE)).groups.flatMap((group: { rules: object[] }) => group.rules) as {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}[];

describe('generated rule files', () => {
  test.each([
    [RULES_FILE, rulesYaml],
    [RULE_TESTS_FILE, ruleTestsYaml],
  ])('%s is up to date with alerting/catalog.ts', (file, generate) => {
    expect({ file, upToDate: read(file) === generate() }).toEqual({ file, upToDate: true });
  });
});

describe('promtool', () => {
  test('check rules accepts the rule file', () => {
    const { code, output } = run(binary('promtool'), ['check', 'rules', RULES_FILE]);
    expect(output).toContain(`SUCCESS: ${ALERTS.length} rules found`);
    expect(code).toBe(0);
  });

  test('every alert fires where it should and stays quiet just under the line, at low traffic and on a blip', () => {
    const { code, output } = run(binary('promtool'), ['test', 'rules', RULE_TESTS_FILE]);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  });
});

describe('the alert contract', () => {
  test.each(ALERTS.map((a) => [a.name]))('%s carries severity, service and every annotation a responder needs', (name) => {
    const rule = rules().find((r) => r.alert === name)!;
    expect(['critical', 'major', 'minor']).toContain(rule.labels.severity);
    expect(['orders', 'monitoring']).toContain(rule.labels.service);
    expect(Object.keys(rule.annotations).sort()).toEqual(['dashboard_url', 'description', 'impact', 'runbook_url', 'summary']);
    expect(rule.annotations.description).toMatch(/\{\{ \$value/);
    expect(rule.annotations.impact).toMatch(/^(Critical|Major|Minor|없음):/);
  });

  test('the guide\'s two incidents are major, on p95 over the shared latency threshold, with a traffic guard', () => {
    for (const [name, route] of [
      ['OrdersPopularLatencyHigh', '/api/orders/popular'],
      ['OrdersStatusLatencyHigh', '/api/orders/status'],
    ]) {
      const rule = rules().find((r) => r.alert === name)!;
      expect(rule.labels.severity).toBe('major');
      expect(rule.expr).toContain(`http_route="${route}"`);
      expect(rule.expr).toContain(`histogram_quantile(${THRESHOLDS.latencyQuantile},`);
      expect(rule.expr).toContain(`> ${THRESHOLDS.latencySeconds}\n`);
      expect(rule.expr).toContain(`> ${THRESHOLDS.minRequestsPerSecond}`);
    }
  });
});

// The runbooks (one per alert, sections, links, the server that serves them) are checked in runbooks/test/.

describe('dashboard links', () => {
  test.each(ALERTS.map((a) => [a.name]))('%s: dashboard_url opens a panel that exists in the provisioned dashboards', (name) => {
    const url = new URL(rules().find((r) => r.alert === name)!.annotations.dashboard_url!);
    expect(url.origin).toBe('http://localhost:9999');
    const uid = url.pathname.split('/')[2]!;
    const panel = Number(url.searchParams.get('viewPanel')!.replace('panel-', ''));
    const dashboard = Object.values(DASHBOARDS).find((d) => d.uid === uid);
    expect(dashboard).toBeDefined();
    const json = JSON.parse(read(`monitoring/grafana/dashboards/${uid}.json`));
    const panels = json.panels.flatMap((p: { panels?: object[] }) => [p, ...(p.panels ?? [])]) as { id: number }[];
    expect(panels.map((p) => p.id)).toContain(panel);
  });
});
