import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { composeCommand } from './compose';

/** One line of the service's JSON log (service/src/lib/logger.ts and the request recorder's fields). */
export interface ServiceLogLine {
  timestamp: string;
  level: string;
  message: string;
  requestId?: string;
  method?: string;
  route?: string;
  status?: number;
  durationMs?: number;
  drill?: string[];
  [key: string]: unknown;
}

/**
 * Where the logs come from: `-` is stdin, a path is a file, `compose` runs `docker compose logs --no-log-prefix
 * --no-color orders` (the compose stack's service; `docker-compose` where the v2 plugin is missing). Lines that are not
 * JSON objects with a timestamp, or older than `since`, are skipped.
 */
export async function readServiceLogs(source: string, since?: Date): Promise<ServiceLogLine[]> {
  let stream: Readable;
  if (source === '-') stream = process.stdin;
  else if (source === 'compose') {
    const compose = composeCommand();
    // v1 has no --since: the lines are filtered by time below either way.
    const args = [...compose.prefix, 'logs', '--no-log-prefix', '--no-color', ...(since && compose.v2 ? ['--since', since.toISOString()] : []), 'orders'];
    const child = spawn(compose.file, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    stream = child.stdout;
  } else stream = createReadStream(source, 'utf8');
  return parseLogLines(createInterface({ input: stream, crlfDelay: Infinity }), since);
}

export async function parseLogLines(lines: AsyncIterable<string> | Iterable<string>, since?: Date): Promise<ServiceLogLine[]> {
  const out: ServiceLogLine[] = [];
  for await (const raw of lines) {
    const start = raw.indexOf('{');
    if (start < 0) continue;
    let line: unknown;
    try {
      line = JSON.parse(raw.slice(start));
    } catch {
      continue;
    }
    if (typeof line !== 'object' || line === null || typeof (line as ServiceLogLine).timestamp !== 'string') continue;
    const entry = line as ServiceLogLine;
    if (since && Date.parse(entry.timestamp) < since.getTime()) continue;
    out.push(entry);
  }
  return out;
}

/**
 * Error lines (level error) and, for the given routes, failed or slow request lines (level warn: a request's one line
 * carries its status, and a failure's cause), oldest first.
 */
export function problemLines(lines: ServiceLogLine[], routes?: readonly string[]): ServiceLogLine[] {
  return lines.filter((l) => {
    if (routes && l.route !== undefined && !routes.includes(l.route)) return false;
    if (l.level === 'error') return true;
    return l.level === 'warn' && (l.message === 'slow request' || (l.status ?? 0) >= 400);
  });
}

/** One log line, short, for a terminal or a report: time, level, request id, route, status, duration, message. */
export function formatLogLine(l: ServiceLogLine): string {
  const parts = [l.timestamp, l.level.toUpperCase(), l.requestId ? `요청 ${l.requestId}` : undefined];
  if (l.route) parts.push(`${l.method ?? ''} ${l.route}`.trim());
  if (l.status !== undefined) parts.push(String(l.status));
  if (l.durationMs !== undefined) parts.push(`${l.durationMs}ms`);
  parts.push(l.message);
  if (l.drill?.length) parts.push(`(훈련: ${l.drill.join(', ')})`);
  return parts.filter(Boolean).join(' ');
}
