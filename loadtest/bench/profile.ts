import { readFileSync } from 'node:fs';

/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the CPU went during a time window. Each sample is
 * attributed to the innermost frame that belongs to a package or to the service (Node's own helpers count for
 * whoever called them), except socket and HTTP internals, which are their own category.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  windowMs: number;
  /** Share of the window the process was on CPU (not idle). */
  busyShare: number;
  /** Share of busy time by category, largest first. */
  categories: { name: string; share: number }[];
  /** Share of busy time by function (self time), largest first. */
  topFunctions: { name: string; share: number }[];
}

const KOA = new Set([
  'koa', '@koa/router', 'koa-compose', 'delegates', 'on-finished', 'ee-first', 'statuses', 'vary', 'content-type', 'mime-types',
  'mime-db', 'accepts', 'type-is', 'only', 'cache-content-type', 'http-errors', 'cookies', 'keygrip', 'fresh', 'encodeurl',
  'escape-html', 'destroy', 'depd', 'media-typer', 'negotiator', 'http-assert', 'path-to-regexp', 'content-disposition',
]);
const LOGGING = new Set(['winston', 'logform', 'triple-beam', 'winston-transport', 'readable-stream', 'safe-stable-stringify', 'fecha', '@colors/colors']);
const REDIS = new Set(['redis', '@redis/client', 'cluster-key-slot', 'generic-pool']);
const DATABASE = new Set(['sequelize', 'pg', 'pg-protocol', 'pg-pool', 'pg-types', 'pg-hstore', 'sequelize-pool', 'dottie', 'lodash']);
const SOCKETS = /^node:(_http_|net$|stream$|internal\/(streams|stream_base_commons|http|net|js_stream_socket))/;

function packageOf(url: string): string | undefined {
  const at = url.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const parts = url.slice(at + '/node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

function categoryOfFrame(url: string): string | undefined {
  if (!url) return undefined;
  if (url.startsWith('node:')) return SOCKETS.test(url) ? 'Node sockets + HTTP (parse, write)' : undefined;
  const pkg = packageOf(url);
  if (pkg) {
    if (KOA.has(pkg)) return 'Koa + router';
    if (LOGGING.has(pkg)) return 'logging (winston)';
    if (pkg === 'prom-client') return 'metrics (prom-client)';
    if (REDIS.has(pkg)) return 'Redis client (node-redis)';
    if (pkg === 'zod') return 'validation (zod)';
    if (DATABASE.has(pkg)) return 'database client (sequelize, pg)';
    if (pkg === 'tsx' || pkg === 'esbuild') return 'tsx loader';
    return `other packages (${pkg})`;
  }
  if (url.includes('/service/src/lib/http/telemetry.ts') || url.includes('/service/src/telemetry/')) return 'telemetry middleware (service)';
  if (url.includes('/service/src/')) return 'service code (middleware, cache, routes)';
  return undefined;
}

export function summarizeProfile(file: string, fromUs: number, toUs: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const categoryCache = new Map<number, string>();
  const categorize = (id: number): string => {
    const cached = categoryCache.get(id);
    if (cached) return cached;
    const leaf = byId.get(id)!;
    let category: string | undefined;
    const special = leaf.callFrame.functionName;
    if (special === '(idle)') category = '(idle)';
    else if (special === '(garbage collector)') category = 'garbage collector';
    else if (special === '(program)') category = 'V8 and native (program)';
    for (let node: ProfileNode | undefined = leaf; !category && node; node = byId.get(parent.get(node.id) ?? -1)) {
      category = categoryOfFrame(node.callFrame.url);
    }
    category ??= 'Node runtime (timers, promises, async context)';
    categoryCache.set(id, category);
    return category;
  };

  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  let t = profile.startTime;
  let windowUs = 0;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < fromUs || t > toUs) continue;
    const id = profile.samples[i]!;
    windowUs += delta;
    const category = categorize(id);
    if (category === '(idle)') {
      idleUs += delta;
      continue;
    }
    categories.set(category, (categories.get(category) ?? 0) + delta);
    const frame = byId.get(id)!.callFrame;
    const where = frame.url ? ` ${frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(service|loadtest)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + delta);
  }
  const busyUs = windowUs - idleUs;
  const ranked = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, us]) => ({ name, share: busyUs ? us / busyUs : 0 }));
  return { windowMs: windowUs / 1000, busyShare: windowUs ? busyUs / windowUs : 0, categories: ranked(categories, 20), topFunctions: ranked(functions, 15) };
}
