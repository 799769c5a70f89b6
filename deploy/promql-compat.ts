/**
 * What differs between the Prometheus versions the project is tested with (Debian's 2.42) and ships (3.5) in the
 * PromQL the rules and dashboards contain. Prometheus 3 normalizes the `le` label of classic histograms and the
 * `quantile` label of summaries to float form when scraping (`1` is stored as `1.0`, Prometheus 2 keeps `1`), so a
 * selector that names such a value literally matches on one version only.
 */

/** A label matcher on `le` or `quantile` that matches on only one of the two versions. */
export interface VersionSensitiveMatcher {
  /** The matcher as written, e.g. `le="1"`. */
  matcher: string;
  /** Why it differs, and a form valid on both. */
  reason: string;
}

const MATCHER = /\b(le|quantile)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`]*)`)/g;

/** Both forms a boundary may be stored in: as written by the exporter (Prometheus 2) and normalized (Prometheus 3). */
function storedForms(value: number): [string, string] {
  return [String(value), Number.isInteger(value) ? `${value}.0` : String(value)];
}

function unescape(quoted: string): string {
  return quoted.replace(/\\(.)/g, '$1');
}

/**
 * The `le`/`quantile` matchers in one PromQL expression that match a bucket boundary on one version and not on the
 * other. Equality matchers (`=`, `!=`) on a number that is an integer, or written as `N.0`, differ; regex matchers
 * (`=~`, `!~`) differ when, for an integer they mention, they match `N` and `N.0` differently.
 */
export function versionSensitiveMatchers(expr: string): VersionSensitiveMatcher[] {
  const found: VersionSensitiveMatcher[] = [];
  for (const match of expr.matchAll(MATCHER)) {
    const [text, label, op] = match;
    const raw = match[3] !== undefined ? unescape(match[3]) : match[4] !== undefined ? unescape(match[4]) : match[5]!;
    if (op === '=' || op === '!=') {
      const value = Number(raw);
      if (raw.trim() !== '' && Number.isFinite(value) && (Number.isInteger(value) || /\.0+$/.test(raw) || /e/i.test(raw))) {
        const base = String(value);
        found.push({
          matcher: text,
          reason: `${label} is stored as "${storedForms(value)[0]}" by Prometheus 2 and "${storedForms(value)[1]}" by Prometheus 3; write ${label}${op === '=' ? '=~' : '!~'}"${base.replace('.', '\\\\.')}(\\\\.0)?"`,
        });
      }
      continue;
    }
    const regex = new RegExp(`^(?:${raw})$`);
    for (const number of raw.match(/\d+(?:\.\d+)?/g) ?? []) {
      const value = Number(number);
      if (!Number.isInteger(value)) continue;
      const [v2, v3] = storedForms(value);
      if (regex.test(v2) !== regex.test(v3)) {
        found.push({ matcher: text, reason: `matches ${regex.test(v2) ? `"${v2}" but not "${v3}"` : `"${v3}" but not "${v2}"`}; write ${value}(\\\\.0)?` });
        break;
      }
    }
  }
  return found;
}
