/** The longest client-controlled string that reaches a log line, a metric label or a response body, in characters. */
export const MAX_ECHOED_CHARS = 200;

/**
 * `text` cut to at most `max` characters, with a marker saying how much was left out, e.g. `/aaaa…(+14,800 chars)`.
 * Use it on every client-controlled string (paths, header values, query keys) before logging or answering with it.
 */
export function bounded(text: string, max = MAX_ECHOED_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}…(+${(text.length - max).toLocaleString('en-US')} chars)`;
}
