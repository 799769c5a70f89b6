import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { DASHBOARDS } from '../../contract';
import { ALERTS } from '../catalog';
import { branches, longRuleTestsYaml, RULE_TESTS_FILE, RULE_TESTS_LONG_FILE, ruleTestsYaml } from '../rule-tests';
import { recordingRules } from '../slo';
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
    [RULE_TESTS_LONG_FILE, longRuleTestsYaml],
  ])('%s is up to date with alerting/catalog.ts', (file, generate) => {
    expect({ file, upToDate: read(file) === generate() }).toEqual({ file, upToDate: true });
  });
});

describe('annotations true on every branch', () => {
  test('the branch splitter sees the target-absent branch of OrdersServiceDown and no branch inside a selector', () => {
    expect(branches(ALERTS.find((a) => a.name === 'OrdersServiceDown')!.expr).map((b) => b.split('(')[0])).toEqual(['avg_over_time', 'absent']);
    expect(branches('up{job=~"a or b"} == 0')).toHaveLength(1);
  });

  test('every branch of every alert has a generated promtool case where it fires, with the named quantity', () => {
    const tests = [ruleTestsYaml(), longRuleTestsYaml()].flatMap((text) => parse(text).tests) as { name: string; alert_rule_test: { exp_alerts: object[] }[] }[];
    for (const alert of ALERTS) {
      const firing = tests.filter((t) => t.name.startsWith(`${alert.name}: `) && t.alert_rule_test.some((r) => r.exp_alerts.length > 0));
      expect({ alert: alert.name, firing: firing.length >= branches(alert.expr).length }).toEqual({ alert: alert.name, firing: true });
    }
  });
});

describe('promtool', () => {
  test('check rules accepts the rule file', () => {
    const { code, output } = run(binary('promtool'), ['check', 'rules', RULES_FILE]);
    expect(output).toContain(`SUCCESS: ${ALERTS.length + recordingRules().length} rules found`);
    expect(code).toBe(0);
  });

  test('the SLO recording rules give 0, not nothing, for a service that has answered no 5xx and nothing slow', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'slo-records-'));
    const selector = (status: string, extra = '') => `http_server_request_duration_seconds_${extra ? 'bucket' : 'count'}{job="orders",http_request_method="GET",http_route="/api/orders/popular",http_response_status_code="${status}"${extra}}`;
    const cases = {
      rule_files: [path.join(ROOT, RULES_FILE)],
      evaluation_interval: '15s',
      tests: [
        {
          interval: '15s',
          // Only 200s: as a real exposition, no 5xx series exists. 10 req/s, all under the line.
          input_series: [
            { series: selector('200'), values: '0+150x40' },
            { series: selector('200', ',le="1"'), values: '0+150x40' },
          ],
          promql_expr_test: [
            { expr: 'slo:http_requests_errors:ratio_rate5m', eval_time: '10m', exp_samples: [{ labels: 'slo:http_requests_errors:ratio_rate5m', value: 0 }] },
            { expr: 'slo:http_requests_slow:ratio_rate5m', eval_time: '10m', exp_samples: [{ labels: 'slo:http_requests_slow:ratio_rate5m{http_route="/api/orders/popular"}', value: 0 }] },
          ],
        },
      ],
    };
    writeFileSync(path.join(dir, 'records.test.yml'), stringify(cases));
    const { code, output } = run(binary('promtool'), ['test', 'rules', path.join(dir, 'records.test.yml')]);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  // promtool evaluates every rule at every step of every case: hours of SLO data take minutes on a busy machine.
  test.each([RULE_TESTS_FILE, RULE_TESTS_LONG_FILE])('%s: every alert fires where it should, states the truth, and stays quiet under the line, at low traffic, on a blip and after recovery', (file) => {
    const { code, output } = run(binary('promtool'), ['test', 'rules', file]);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  }, 15 * 60_000);
});

describe('the alert contract', () => {
  test.each(ALERTS.map((a) => [a.name]))('%s carries severity, service and every annotation a responder needs', (name) => {
    const rule = rules().find((r) => r.alert === name)!;
    expect(['critical', 'major', 'minor']).toContain(rule.labels.severity);
    expect(['orders', 'monitoring']).toContain(rule.labels.service);
    expect(Object.keys(rule.annotations).sort()).toEqual(['dashboard_url', 'description', 'impact', 'runbook_url', 'summary']);
    if (name !== 'Watchdog') expect(rule.annotations.description).toMatch(/\{\{ \$value/);
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
