/** The Prometheus HTTP API, as Grafana and a responder use it. */
export function prometheusApi(baseUrl: string) {
  async function call(path: string, params: Record<string, string>) {
    const response = await fetch(`${baseUrl}${path}?${new URLSearchParams(params)}`);
    const body = (await response.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[] } };
    if (body.status !== 'success') throw new Error(`${params.query}: ${body.error}`);
    return body.data.result;
  }
  return {
    query: (query: string) => call('/api/v1/query', { query }),
    range: (query: string, start: number, end: number, step = '15s') =>
      call('/api/v1/query_range', { query, start: String(start / 1000), end: String(end / 1000), step }),
    async firing(alertname: string): Promise<boolean> {
      const result = await call('/api/v1/query', { query: `ALERTS{alertname="${alertname}",alertstate="firing"}` });
      return result.length > 0;
    },
  };
}
