/**
 * The few Prometheus HTTP API calls the incident tools make. Base URL from PROMETHEUS_URL (default
 * http://localhost:9090). Errors: a non-success answer throws `PrometheusError` with Prometheus' own message.
 */
export const PROMETHEUS_URL = process.env.PROMETHEUS_URL ?? 'http://localhost:9090';

export class PrometheusError extends Error {}

export interface Sample {
  metric: Record<string, string>;
  /** The value at the evaluation time (NaN passes through as NaN). */
  value: number;
}

export interface Series {
  metric: Record<string, string>;
  /** [unix seconds, value] pairs. */
  values: [number, number][];
}

export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'firing' | 'pending' | 'inactive';
  activeAt: string;
  value: string;
}

export function createPrometheus(baseUrl = PROMETHEUS_URL) {
  async function api<T>(path: string, params: Record<string, string>): Promise<T> {
    const url = `${baseUrl}${path}?${new URLSearchParams(params)}`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      throw new PrometheusError(`Prometheus에 연결하지 못했습니다 (${baseUrl}): ${(error as Error).message}`);
    }
    const body = (await response.json().catch(() => ({}))) as { status?: string; data?: T; error?: string };
    if (body.status !== 'success') throw new PrometheusError(`Prometheus 오류 (${path}): ${body.error ?? response.status}`);
    return body.data as T;
  }
  return {
    baseUrl,
    /** Instant query at `time` (default now). */
    async query(expr: string, time?: Date): Promise<Sample[]> {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>('/api/v1/query', {
        query: expr,
        ...(time ? { time: String(time.getTime() / 1000) } : {}),
      });
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    /** The first sample's value, or undefined when the query returns nothing. */
    async scalar(expr: string, time?: Date): Promise<number | undefined> {
      return (await this.query(expr, time))[0]?.value;
    },
    async queryRange(expr: string, start: Date, end: Date, stepSeconds: number): Promise<Series[]> {
      const data = await api<{ result: { metric: Record<string, string>; values: [number, string][] }[] }>('/api/v1/query_range', {
        query: expr,
        start: String(start.getTime() / 1000),
        end: String(end.getTime() / 1000),
        step: String(stepSeconds),
      });
      return data.result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t, Number(v)] as [number, number]) }));
    },
    /**
     * Every stored sample of the series matching `selector` (a PromQL series selector) from `from` to `to`, at the
     * times they were written (a range-vector query: no step, no interpolation).
     */
    async rawSamples(selector: string, from: Date, to: Date): Promise<Series[]> {
      const seconds = Math.max(1, Math.ceil((to.getTime() - from.getTime()) / 1000));
      const data = await api<{ result: { metric: Record<string, string>; values: [number, string][] }[] }>('/api/v1/query', {
        query: `${selector}[${seconds}s]`,
        time: String(to.getTime() / 1000),
      });
      return data.result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t, Number(v)] as [number, number]) }));
    },
    /** Alerts pending or firing now (Prometheus' rule state, /api/v1/alerts). */
    async alerts(): Promise<ActiveAlert[]> {
      return (await api<{ alerts: ActiveAlert[] }>('/api/v1/alerts', {})).alerts;
    },
    /** A link that opens `expr` in Prometheus' graph page, optionally ending at `end` over `rangeSeconds`. */
    graphUrl(expr: string, window?: { end: Date; rangeSeconds: number }): string {
      const params = new URLSearchParams({ 'g0.expr': expr, 'g0.tab': '0' });
      if (window) {
        params.set('g0.end_input', window.end.toISOString().replace('T', ' ').slice(0, 19));
        params.set('g0.range_input', `${Math.max(60, Math.ceil(window.rangeSeconds))}s`);
      }
      return `${baseUrl}/graph?${params}`;
    },
  };
}

export type Prometheus = ReturnType<typeof createPrometheus>;
