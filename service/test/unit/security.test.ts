import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('no secret in the repository', () => {
  test('.env is never tracked; .env.example holds no values for secrets', () => {
    expect(tracked).not.toContain('.env');
    const example = read('.env.example');
    for (const name of ['GRAFANA_ADMIN_PASSWORD', 'SLACK_WEBHOOK_URL', 'SLACK_WEBHOOK_URL_CRITICAL', 'SLACK_WEBHOOK_URL_MAJOR', 'SLACK_WEBHOOK_URL_MINOR', 'ADMIN_TOKEN']) {
      expect(example).toMatch(new RegExp(`^${name}=$`, 'm'));
    }
  });

  test('no tracked file contains a Slack webhook, a private key or a cloud access key', () => {
    const patterns = [
      /hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+/,
      /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
      /AKIA[0-9A-Z]{16}/,
      /xox[baprs]-[0-9A-Za-z-]{10,}/,
    ];
    const offenders = tracked
      .filter((file) => !file.endsWith('package-lock.json') && !/\.(png|jpg|svg)$/.test(file))
      .filter((file) => patterns.some((pattern) => pattern.test(read(file))));
    expect(offenders).toEqual([]);
  });
});

describe('SQL only through bound parameters', () => {
  // Request-path code (components, infra) may interpolate only module constants (UPPER_CASE names) into SQL text;
  // every value travels as a bound parameter ($1, $2, …).
  const sources = tracked.filter((file) => /^service\/src\/(components|infra)\/.+\.ts$/.test(file));

  test.each(sources.map((file) => [file]))('%s builds no SQL from variables', (file) => {
    const text = read(file);
    const templates = [...text.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);
    const sql = templates.filter((t) => /\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|TRUNCATE)\b/.test(t));
    const interpolations = sql.flatMap((t) => [...t.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]!.trim()));
    expect(interpolations.filter((expr) => !/^[A-Z][A-Z0-9_]*$/.test(expr))).toEqual([]);
  });
});
