/**
 * The rules and dashboards must mean the same on the Prometheus tested here (Debian's 2.42) and the one compose
 * ships (3.5): see deploy/COMPATIBILITY.md. Reads the generated files, whatever generated them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { dashboardQueries } from '../../monitoring/grafana/queries';
import { versionSensitiveMatchers } from '../promql-compat';

const ROOT = path.resolve(__dirname, '../..');
const files = (dir: string, ext: string) =>
  readdirSync(path.join(ROOT, dir)).filter((f) => f.endsWith(ext)).map((f) => path.join(dir, f));

function ruleExprs(): { where: string; expr: string }[] {
  return files('alerting/rules', '.yml').flatMap((file) =>
    parse(readFileSync(path.join(ROOT, file), 'utf8')).groups.flatMap((g: { rules: { alert?: string; record?: string; expr: string }[] }) =>
      g.rules.map((r) => ({ where: `${file} ${r.alert ?? r.record}`, expr: String(r.expr) })),
    ),
  );
}

function dashboardExprs(): { where: string; expr: string }[] {
  return files('monitoring/grafana/dashboards', '.json').flatMap((file) =>
    dashboardQueries(JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'))).map((q) => ({
      where: `${file} panel ${q.panelId} ${q.title}`,
      expr: q.expr,
    })),
  );
}

describe('PromQL valid on Prometheus 2.42 and 3.5 alike', () => {
  test('no rule or dashboard selects a histogram bucket (le) or summary quantile by a literal that Prometheus 3 normalizes', () => {
    const exprs = [...ruleExprs(), ...dashboardExprs()];
    expect(exprs.length).toBeGreaterThan(20);
    const offenders = exprs.flatMap(({ where, expr }) => versionSensitiveMatchers(expr).map((m) => `${where}: ${m.matcher} (${m.reason})`));
    expect(offenders).toEqual([]);
  });

  test('the check flags literal integer boundaries and regexes that match one form only, and accepts forms valid on both', () => {
    const flagged = (expr: string) => versionSensitiveMatchers(expr).map((m) => m.matcher);
    expect(flagged('sum(rate(x_bucket{le="1"}[5m]))')).toEqual(['le="1"']);
    expect(flagged('x_bucket{job="a", le = "1.0"}')).toEqual(['le = "1.0"']);
    expect(flagged('x_bucket{le!="5"}')).toEqual(['le!="5"']);
    expect(flagged("x_bucket{le='10'}")).toEqual(["le='10'"]);
    expect(flagged('x_bucket{le=~"0.5|1"}')).toEqual(['le=~"0.5|1"']);
    expect(flagged('x{quantile="1"}')).toEqual(['quantile="1"']);
    expect(flagged('x_bucket{le=~"1(\\\\.0)?"} + x_bucket{le=~"0.5|1(\\\\.0)?"}')).toEqual([]);
    expect(flagged('x_bucket{le="0.25"} + x_bucket{le="+Inf"} + x{quantile="0.99"}')).toEqual([]);
    expect(flagged('histogram_quantile(0.95, sum by (le) (rate(x_bucket{handle="1"}[5m])))')).toEqual([]);
  });

  test('no function removed or renamed in Prometheus 3 (holt_winters) and no experimental function (feature flag off in compose)', () => {
    const unavailable = /\b(holt_winters|double_exponential_smoothing|sort_by_label(_desc)?|limitk|limit_ratio|mad_over_time|info|ts_of_(max|min|last)_over_time|first_over_time)\s*\(/;
    const offenders = [...ruleExprs(), ...dashboardExprs()].filter(({ expr }) => unavailable.test(expr)).map((e) => e.where);
    expect(offenders).toEqual([]);
  });

  test('every range window spans at least 2 scrape intervals, so Prometheus 3\'s left-open windows still hold the two samples rate() needs (the alerts\' 30 s confirm window is exactly that)', () => {
    const prometheus = parse(readFileSync(path.join(ROOT, 'monitoring/prometheus/prometheus.yml'), 'utf8'));
    const scrapeSeconds = durationSeconds(prometheus.global.scrape_interval);
    const windows = [...ruleExprs(), ...dashboardExprs()].flatMap(({ where, expr }) =>
      [...expr.matchAll(/\[\s*(\d+(?:ms|[smhdwy]))+\s*(?::[^\]]*)?\]/g)].map((m) => ({ where, window: m[0], seconds: durationSeconds(m[0].slice(1).split(/[:\]]/)[0]!.trim()) })),
    );
    expect(windows.length).toBeGreaterThan(10);
    expect(windows.filter((w) => w.seconds < 2 * scrapeSeconds).map((w) => `${w.where}: ${w.window}`)).toEqual([]);
  });
});

describe('Alertmanager configuration read alike by 0.25 and 0.28', () => {
  test('every matcher is in the quoted form that the classic (0.25) and UTF-8 (0.27+) matcher parsers read the same way', () => {
    const config = parse(readFileSync(path.join(ROOT, 'alerting/alertmanager.yml'), 'utf8'));
    const matchers: string[] = [];
    const walk = (route: { matchers?: string[]; routes?: unknown[] }) => {
      matchers.push(...(route.matchers ?? []));
      for (const child of route.routes ?? []) walk(child as never);
    };
    walk(config.route);
    for (const rule of config.inhibit_rules ?? []) matchers.push(...(rule.source_matchers ?? []), ...(rule.target_matchers ?? []));
    expect(matchers.length).toBeGreaterThan(0);
    expect(matchers.filter((m) => !/^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|=~|!~)"(?:[^"\\]|\\.)*"$/.test(m))).toEqual([]);
    // No deprecated pre-0.22 forms, which 0.28 still reads but warns about.
    expect(JSON.stringify(config)).not.toMatch(/"(match|match_re|source_match|source_match_re|target_match|target_match_re)":/);
  });
});

/** Seconds in a Prometheus duration such as `1h30m`, `2m`, `500ms`. */
function durationSeconds(duration: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
  const parts = [...duration.matchAll(/(\d+)(ms|[smhdwy])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== duration) throw new Error(`not a duration: ${duration}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit!]!, 0);
}
