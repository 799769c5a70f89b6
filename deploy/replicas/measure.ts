/**
 * Measures the compose stack with 1, 2 and 3 service replicas behind the load balancer, on this machine:
 * - throughput (closed loop, the project's load generator loadtest/lib/load.ts) of two read endpoints through the balancer, per replica count;
 * - the balancer's own cost: one replica measured through the balancer and directly (its container address);
 * - the popular-products cache across replicas: database aggregates per cache expiry (db_query_duration_seconds_count
 *   {query="popular_products"} summed over every replica's /metrics) under steady load.
 *
 * Needs the stack up and seeded (`docker compose up -d`, `docker compose --profile seed run --rm seed`) under the
 * compose project named by --project (default: the directory name, as compose does). Prints a Markdown report.
 * Usage: tsx deploy/replicas/measure.ts [--project NAME] [--seconds 15] [--connections 64] [--cache-seconds 95]
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { percentile, runLoad } from '../../loadtest/lib/load';

const ROOT = path.resolve(__dirname, '../..');
const { values } = parseArgs({
  options: {
    project: { type: 'string', default: path.basename(ROOT) },
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '64' },
    'cache-seconds': { type: 'string', default: '95' },
    replicas: { type: 'string', default: '1,2,3' },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const LB = 'http://127.0.0.1:3000';
const ENDPOINTS = ['/api/products?limit=20', '/api/orders/status?userId=42&limit=20', '/api/orders/popular?days=3&limit=5'];

const compose = (...args: string[]) =>
  execFileSync('docker-compose', ['-p', values.project!, '-f', path.join(ROOT, 'docker-compose.yml'), ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Addresses (IP) of the running, healthy replicas. */
function replicas(): { ip: string; healthy: boolean }[] {
  const ids = compose('ps', '-q', 'orders').split(/\s+/).filter(Boolean);
  if (ids.length === 0) return [];
  return JSON.parse(execFileSync('docker', ['inspect', ...ids], { encoding: 'utf8' })).map((c: any) => ({
    ip: Object.values<{ IPAddress: string }>(c.NetworkSettings.Networks)[0]!.IPAddress,
    healthy: c.State.Health?.Status === 'healthy',
  }));
}

async function scale(n: number): Promise<string[]> {
  compose('up', '-d', '--no-deps', '--no-recreate', '--scale', `orders=${n}`, 'orders');
  for (let i = 0; i < 120; i++) {
    const all = replicas();
    if (all.length === n && all.every((r) => r.healthy)) {
      await sleep(8_000); // the balancer re-resolves and health-checks every 2 s
      return all.map((r) => r.ip);
    }
    await sleep(1_000);
  }
  throw new Error(`${n} healthy replicas did not come up`);
}

interface Run { rps: number; p50: number; p99: number; errors: number; non2xx: number }
/** One closed-loop run of the project's load generator against `url`. */
async function load(url: string): Promise<Run> {
  const { origin, pathname, search } = new URL(url);
  const run = await runLoad({ origin, path: pathname + search, connections: CONNECTIONS, seconds: SECONDS, timeoutSeconds: 10 });
  const non2xx = Object.entries(run.statuses).reduce((n, [status, count]) => (status.startsWith('2') ? n : n + count), 0);
  return { rps: run.requestsPerSecond, p50: percentile(run.histogram, 50) ?? 0, p99: percentile(run.histogram, 99) ?? 0, errors: run.errors + run.timeouts, non2xx };
}

async function popularCount(ips: string[]): Promise<number> {
  let total = 0;
  for (const ip of ips) {
    const text = await (await fetch(`http://${ip}:9464/metrics`)).text();
    for (const line of text.split('\n')) {
      if (line.startsWith('db_query_duration_seconds_count{') && line.includes('query="popular_products"')) total += Number(line.split(' ').at(-1));
    }
  }
  return total;
}

async function main() {
  const counts = values.replicas!.split(',').map(Number);
  const env = compose('exec', '-T', 'orders', 'printenv', 'POPULAR_CACHE_TTL_SECONDS').trim();
  const ttl = Number(env || 30);
  const lines: string[] = [];
  const fmt = (r: Run) => `${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors + r.non2xx}`;
  lines.push(`Closed loop, ${CONNECTIONS} connections, ${SECONDS} s per run, loadtest/lib/load.ts on the same machine (${require('node:os').cpus().length} cores).`, '');
  lines.push('| replicas | endpoint | req/s | p50 ms | p99 ms | errors + non-2xx |', '|---|---|---|---|---|---|');
  const cache: string[] = [];
  for (const n of counts) {
    const ips = await scale(n);
    for (const endpoint of ENDPOINTS) {
      await load(`${LB}${endpoint}`).then((r) => lines.push(`| ${n} | ${endpoint} | ${fmt(r)} |`));
      process.stderr.write(`${lines.at(-1)}\n`);
    }
    if (n === 1) {
      for (const endpoint of ENDPOINTS) {
        const r = await load(`http://${ips[0]}:3000${endpoint}`);
        lines.push(`| 1, direct (no balancer) | ${endpoint} | ${fmt(r)} |`);
        process.stderr.write(`${lines.at(-1)}\n`);
      }
    }
    // Popular cache: steady load over several expiries, aggregates counted on every replica.
    const before = await popularCount(ips);
    const started = Date.now();
    await runLoad({ origin: LB, path: '/api/orders/popular?days=3&limit=5', connections: 20, ratePerSecond: 200, seconds: Number(values['cache-seconds']), timeoutSeconds: 10 });
    const aggregates = (await popularCount(ips)) - before;
    const expiries = (Date.now() - started) / 1000 / ttl;
    cache.push(`| ${n} | ${Math.round((Date.now() - started) / 1000)} s | ${aggregates} | ${expiries.toFixed(1)} | ${(aggregates / expiries).toFixed(2)} |`);
    process.stderr.write(`${cache.at(-1)}\n`);
  }
  lines.push('', `Popular-products aggregates (database queries) under 200 req/s for one key, TTL ${ttl} s:`, '');
  lines.push('| replicas | window | aggregates | expiries | aggregates per expiry |', '|---|---|---|---|---|', ...cache);
  console.log(lines.join('\n'));
  await scale(1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
