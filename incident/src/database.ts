import { Client } from 'pg';
import { HOT_QUERY_INDEXES, rebuildIndexStatements } from '../../contract/queries';
import { ORDER_STATUS_BY_USER_SQL } from '../../service/src/components/orders/repository';
import { duration } from './format';

/** The service's own sessions (its `application_name`, service/src/infra/database.ts). */
export const SERVICE_APPLICATION_NAME = 'orders-service';
/** A statement of another client running longer than this is a finding, in seconds (the service's own end in 5 s). */
export const LONG_QUERY_SECONDS = 5;
/** Connections in use past this share of what clients may open is a finding. */
export const CONNECTIONS_TAKEN_RATIO = 0.9;

/** What the database itself shows as a cause, most specific first (the order of DATABASE_FINDING_KINDS). */
export const DATABASE_FINDING_KINDS = ['lock', 'missing_index', 'connections_taken', 'long_query'] as const;
export type DatabaseFindingKind = (typeof DATABASE_FINDING_KINDS)[number];

export interface DatabaseFinding {
  kind: DatabaseFindingKind;
  /** One Korean line naming the cause, for the top of the investigation. */
  title: string;
  /** What was measured, with the ids a responder acts on (pid, application_name, index name). */
  evidence: string;
  /** The runbook's SQL for it, exactly as a responder runs it: one statement each, in order, outside a transaction. */
  fix: string[];
  /** Other sessions involved, by pid (the blocker, the client holding connections). */
  pids: number[];
}

const short = (sql: string | null) => (sql ?? '').replace(/\s+/g, ' ').trim().slice(0, 80);
const app = (name: string | null) => (name ? `'${name}'` : '(이름 없음)');

/**
 * 데이터베이스 부하 점검, from PostgreSQL itself (`url`: a role that sees the service's sessions, e.g. the compose
 * stack's `orders`): what another session does to the service's queries, most specific first:
 * - `lock`: a session other than the service's holding a lock that blocks reads or writes on a table, or blocking a
 *   waiting session (pg_locks, pg_blocking_pids, pg_stat_activity);
 * - `missing_index`: a hot query's index (contract/queries.ts HOT_QUERY_INDEXES) absent or invalid, with the plan
 *   the query then gets (EXPLAIN of the service's own SQL);
 * - `connections_taken`: connections in use past CONNECTIONS_TAKEN_RATIO of what clients may open, by client;
 * - `long_query`: another client's statement running past LONG_QUERY_SECONDS.
 * Resolves [] when nothing is found; rejects when the database cannot be reached (the caller reports that).
 */
export async function probeDatabase(url: string): Promise<DatabaseFinding[]> {
  const client = new Client({ connectionString: url, application_name: 'incident-investigate', connectionTimeoutMillis: 3_000, statement_timeout: 3_000 });
  await client.connect();
  try {
    return [...(await locks(client)), ...(await missingIndexes(client)), ...(await connectionsTaken(client)), ...(await longQueries(client))];
  } finally {
    await client.end();
  }
}

async function locks(client: Client): Promise<DatabaseFinding[]> {
  // Held by anyone but the service: table locks stronger than what plain reads and writes take, and any lock that
  // makes another session wait (for the wait's own count).
  const { rows } = await client.query<{
    pid: number; application_name: string | null; state: string | null; seconds: number | null; query: string | null;
    relations: string | null; modes: string | null; waiting: number;
  }>(`
    WITH held AS (
      SELECT l.pid, string_agg(DISTINCT l.relation::regclass::text, ', ') AS relations, string_agg(DISTINCT l.mode, ', ') AS modes
        FROM pg_locks l
       WHERE l.granted AND l.relation IS NOT NULL AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         -- What plain reads and writes take; ShareUpdateExclusiveLock (autovacuum, CREATE INDEX CONCURRENTLY) blocks
         -- neither, so it is a finding only when someone waits on it (below).
         AND l.mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock')
         AND l.pid <> pg_backend_pid()
       GROUP BY l.pid
    ), blocking AS (
      SELECT b.pid, count(*)::int AS waiting
        FROM pg_stat_activity w, unnest(pg_blocking_pids(w.pid)) AS b(pid)
       WHERE w.datname = current_database()
       GROUP BY b.pid
    )
    SELECT a.pid, a.application_name, a.state, extract(epoch FROM now() - coalesce(a.xact_start, a.query_start))::float AS seconds,
           a.query, held.relations, held.modes, coalesce(blocking.waiting, 0) AS waiting
      FROM pg_stat_activity a
      LEFT JOIN held ON held.pid = a.pid
      LEFT JOIN blocking ON blocking.pid = a.pid
     WHERE (held.pid IS NOT NULL OR blocking.pid IS NOT NULL) AND a.application_name IS DISTINCT FROM $1
       AND a.backend_type = 'client backend'
     ORDER BY coalesce(blocking.waiting, 0) DESC, seconds DESC NULLS LAST`, [SERVICE_APPLICATION_NAME]);
  return rows.map((r) => ({
    kind: 'lock',
    title: `다른 세션이 ${r.relations ?? '행'} 잠금을 잡고 있습니다 (pid ${r.pid}, ${app(r.application_name)})`,
    evidence:
      `pid ${r.pid} ${app(r.application_name)}: ${r.modes ?? '행 잠금'}, 상태 ${r.state ?? '?'}, 트랜잭션 ${r.seconds === null ? '?' : duration(r.seconds)}째, ` +
      `기다리는 세션 ${r.waiting}개, 마지막 쿼리 "${short(r.query)}"`,
    // A running statement can be cancelled; a transaction left open holds its locks until its session ends.
    fix: [r.state === 'active' ? `SELECT pg_cancel_backend(${r.pid});` : `SELECT pg_terminate_backend(${r.pid});`],
    pids: [r.pid],
  }));
}

async function missingIndexes(client: Client): Promise<DatabaseFinding[]> {
  const findings: DatabaseFinding[] = [];
  for (const index of HOT_QUERY_INDEXES) {
    const { rows } = await client.query<{ valid: boolean }>(
      `SELECT i.indisvalid AS valid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = $1 AND c.relkind = 'i'`,
      [index.name],
    );
    if (rows[0]?.valid) continue;
    findings.push({
      kind: 'missing_index',
      title: `${index.query} 쿼리의 인덱스 ${index.name}이(가) ${rows.length === 0 ? '없습니다' : '유효하지 않습니다 (실패한 CONCURRENTLY 빌드)'}`,
      evidence: `${index.table} ${index.columns} 인덱스 ${rows.length === 0 ? '없음' : 'indisvalid = false'}; 실행 계획: ${await planOf(client)}`,
      fix: rebuildIndexStatements(index).map((s) => `${s};`),
      pids: [],
    });
  }
  return findings;
}

/** The top of the plan the service's status-by-user query gets now, for one real user (a literal id, a limit of 20). */
async function planOf(client: Client): Promise<string> {
  const { rows: users } = await client.query<{ user_id: string }>('SELECT user_id FROM orders LIMIT 1');
  const sql = ORDER_STATUS_BY_USER_SQL.replace('$1', String(Number(users[0]?.user_id ?? 1))).replace('$2', '20');
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`);
  const nodes: string[] = [];
  for (let node: PlanNode | undefined = rows[0]?.['QUERY PLAN'][0].Plan; node; node = node.Plans?.[0]) {
    nodes.push(`${node['Node Type']}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}`);
  }
  return nodes.join(' → ');
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

async function connectionsTaken(client: Client): Promise<DatabaseFinding[]> {
  const { rows: [limits] } = await client.query<{ max: number; reserved: number }>(
    `SELECT current_setting('max_connections')::int AS max, current_setting('superuser_reserved_connections')::int AS reserved`,
  );
  const { rows } = await client.query<{ application_name: string | null; n: number; pids: number[] }>(`
    SELECT nullif(application_name, '') AS application_name, count(*)::int AS n, array_agg(pid ORDER BY pid) AS pids
      FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1 ORDER BY n DESC`);
  const open = limits!.max - limits!.reserved;
  const total = rows.reduce((sum, r) => sum + r.n, 0);
  if (total < open * CONNECTIONS_TAKEN_RATIO) return [];
  const service = rows.find((r) => r.application_name === SERVICE_APPLICATION_NAME)?.n ?? 0;
  const [top] = rows.filter((r) => r.application_name !== SERVICE_APPLICATION_NAME);
  if (!top) return [];
  return [{
    kind: 'connections_taken',
    title: `다른 클라이언트 ${app(top.application_name)}이(가) PostgreSQL 연결 ${top.n}개를 쓰고 있습니다 (전체 ${total}/${open})`,
    evidence: `연결 ${total}개 / 클라이언트 한도 ${open}개 (max_connections ${limits!.max} - 예약 ${limits!.reserved}): ` +
      rows.slice(0, 4).map((r) => `${app(r.application_name)} ${r.n}`).join(', ') + `; 서비스(${SERVICE_APPLICATION_NAME}) ${service}개`,
    // By pid, as counted: a name is not unique (sessions without one, in other databases).
    fix: [`SELECT pg_terminate_backend(pid) FROM unnest(ARRAY[${top.pids.join(',')}]) AS pid;`],
    pids: top.pids,
  }];
}

async function longQueries(client: Client): Promise<DatabaseFinding[]> {
  const { rows } = await client.query<{ pid: number; application_name: string | null; seconds: number; query: string | null }>(`
    SELECT pid, application_name, extract(epoch FROM now() - query_start)::float AS seconds, query
      FROM pg_stat_activity
     WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = current_database()
       AND application_name IS DISTINCT FROM $1 AND now() - query_start > make_interval(secs => $2)
     ORDER BY seconds DESC`, [SERVICE_APPLICATION_NAME, LONG_QUERY_SECONDS]);
  return rows.map((r) => ({
    kind: 'long_query',
    title: `서비스 밖 쿼리가 ${duration(r.seconds)}째 실행 중입니다 (pid ${r.pid}, ${app(r.application_name)})`,
    evidence: `pid ${r.pid} ${app(r.application_name)} "${short(r.query)}"`,
    fix: [`SELECT pg_cancel_backend(${r.pid});`],
    pids: [r.pid],
  }));
}
