/**
 * Every Prometheus expression a dashboard JSON asks for, with Grafana's template variables replaced by concrete values,
 * so tests can parse them (promtool) or run them against a live Prometheus.
 */

export interface DashboardQuery {
  /** The dashboard's uid. */
  dashboard: string;
  panelId: number;
  title: string;
  expr: string;
}

/** Grafana's built-in variables, as a one-hour dashboard at a one-minute step would fill them in. */
export const BUILTIN_VARIABLES: Readonly<Record<string, string>> = {
  __rate_interval: '1m',
  __rate_interval_ms: '60000',
  __interval: '1m',
  __interval_ms: '60000',
  __range: '1h',
  __range_s: '3600',
  __range_ms: '3600000',
};

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** The current value of each dashboard template variable (multi-value as a regex alternation; All as `.*`). */
function dashboardVariables(json: Json): Record<string, string> {
  const values: Record<string, string> = {};
  const templating = isObject(json.templating) ? json.templating : {};
  for (const variable of asArray(templating.list)) {
    if (!isObject(variable) || typeof variable.name !== 'string') continue;
    const current = isObject(variable.current) ? variable.current.value : undefined;
    const raw = current ?? variable.query ?? '';
    const list = (Array.isArray(raw) ? raw : [raw]).map(String);
    values[variable.name] = list.includes('$__all') ? '.*' : list.join('|');
  }
  return values;
}

/** Replaces `$name`, `${name}`, `${name:format}` and `[[name]]`; an unknown variable is an error, not a silent gap. */
export function substituteVariables(expr: string, variables: Readonly<Record<string, string>> = {}): string {
  const all = { ...BUILTIN_VARIABLES, ...variables };
  return expr.replace(
    /\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g,
    (match, braced?: string, bracketed?: string, bare?: string) => {
      const name = braced ?? bracketed ?? bare ?? '';
      // `$1` is a capture group reference (label_replace), never a variable.
      if (/^\d+$/.test(name)) return match;
      const value = all[name];
      if (value === undefined) throw new Error(`unknown template variable ${match} in: ${expr}`);
      return value;
    },
  );
}

function* panelsOf(panels: unknown): Generator<Json> {
  for (const panel of asArray(panels)) {
    if (!isObject(panel)) continue;
    yield panel;
    // Collapsed rows keep their panels inside.
    yield* panelsOf(panel.panels);
  }
}

const isPrometheus = (datasource: unknown) =>
  !isObject(datasource) || datasource.type === undefined || datasource.type === 'prometheus';

export function dashboardQueries(json: object): DashboardQuery[] {
  const model = json as Json;
  const dashboard = typeof model.uid === 'string' ? model.uid : String(model.title ?? '');
  const variables = dashboardVariables(model);
  const queries: DashboardQuery[] = [];
  for (const panel of panelsOf(model.panels)) {
    const panelDatasourceOk = isPrometheus(panel.datasource);
    for (const target of asArray(panel.targets)) {
      if (!isObject(target) || typeof target.expr !== 'string' || target.expr.trim() === '') continue;
      if (!(target.datasource === undefined ? panelDatasourceOk : isPrometheus(target.datasource))) continue;
      queries.push({
        dashboard,
        panelId: typeof panel.id === 'number' ? panel.id : -1,
        title: typeof panel.title === 'string' ? panel.title : '',
        expr: substituteVariables(target.expr, variables),
      });
    }
  }
  return queries;
}
