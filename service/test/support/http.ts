export interface JsonResponse<Body = any> {
  status: number;
  headers: Headers;
  body: Body;
}

/** A JSON request the way a shopper's client makes it; the body is parsed whatever the status. */
export async function request<Body = any>(
  method: string,
  url: string,
  options: { json?: unknown; body?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse<Body>> {
  const headers: Record<string, string> = { ...options.headers };
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (the metrics endpoint): keep the text.
  }
  return { status: response.status, headers: response.headers, body: parsed as Body };
}

export const get = <Body = any>(url: string, headers?: Record<string, string>) => request<Body>('GET', url, { headers });
export const post = <Body = any>(url: string, json?: unknown, headers?: Record<string, string>) =>
  request<Body>('POST', url, { json, headers });
