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

  test('the check notices string-built SQL', () => {
    const bad = 'const sql = `SELECT * FROM users WHERE id = ${userId}`;';
    const interpolations = [...bad.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]!.trim());
    expect(interpolations.filter((expr) => !/^[A-Z][A-Z0-9_]*$/.test(expr))).toEqual(['userId']);
  });
});

describe('dependencies are past their known advisories', () => {
  // The npm audit endpoint does not answer on this project's machines, so the advisories are checked here by hand:
  // the first version of each package that fixes every advisory listed.
  const FIXED_IN: Record<string, { min: string; advisories: string }> = {
    sequelize: { min: '6.29.0', advisories: 'CVE-2023-25813 (replacements SQL injection, 6.19.1), CVE-2023-22578/22579/22580 (6.28.1–6.29.0)' },
    koa: { min: '3.0.1', advisories: 'CVE-2025-25200 (X-Forwarded ReDoS), CVE-2025-32379 (redirect XSS), CVE-2025-54420 (open redirect, 3.0.1)' },
    'path-to-regexp': { min: '8.0.0', advisories: 'CVE-2024-45296 (backtracking ReDoS; 8.x unaffected)' },
    pg: { min: '7.1.2', advisories: 'CVE-2017-16082 (remote code execution via column names)' },
    zod: { min: '3.22.3', advisories: 'CVE-2023-4316 (email ReDoS)' },
    undici: { min: '7.5.0', advisories: 'CVE-2025-22150 (multipart boundary), CVE-2025-47279 (memory leak)' },
  };
  const parse = (version: string) => version.split(/[.-]/).slice(0, 3).map(Number);
  const atLeast = (version: string, min: string) => {
    const [a, b] = [parse(version), parse(min)];
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
    return true;
  };

  test.each(Object.entries(FIXED_IN))('%s is at least the fixed version', (name, { min }) => {
    const version = JSON.parse(read(`node_modules/${name}/package.json`)).version as string;
    expect({ name, version, safe: atLeast(version, min) }).toEqual({ name, version, safe: true });
  });
});
