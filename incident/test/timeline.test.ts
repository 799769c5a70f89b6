import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { Writable } from 'node:stream';
import pg from 'pg';
import { QueryTypes } from 'sequelize';
import { recordIncidentAction, recordServiceStart, actorOf } from '../../service/src/components/incident-timeline/record';
import { createDatabase } from '../../service/src/infra/database';
import { createMigrator } from '../../service/src/infra/migrator';
import { loadConfig } from '../../service/src/config';
import { createLogger } from '../../service/src/lib/logger';
import { createMetrics } from '../../service/src/telemetry/metrics';
import { createTestDatabase, dropTestDatabase } from '../../service/test/support/test-app';
import { catalogPendingSeconds } from '../src/timeline/catalog';
import { deriveIncidents, phaseDurations } from '../src/timeline/incidents';
import { createTimelineStore, type TimelineStore } from '../src/timeline/store';
import { createReceiver, type AlertmanagerNotification } from '../src/receiver/server';

const T0 = Date.parse('2026-11-30T03:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

function alert(name: string, status: 'firing' | 'resolved', startsAt: Date, endsAt?: Date, labels: Record<string, string> = {}) {
  return {
    status,
    labels: { alertname: name, service: 'orders', severity: 'major', ...labels },
    annotations: { summary: `${name} 요약`, runbook_url: `http://localhost:9998/${name}.html` },
    // Alertmanager sends nanoseconds and the zero time for "not ended".
    startsAt: startsAt.toISOString().replace('Z', '123456Z'),
    endsAt: endsAt ? endsAt.toISOString() : '0001-01-01T00:00:00Z',
    generatorURL: 'http://localhost:9090/graph',
    fingerprint: Buffer.from(name).toString('hex').slice(0, 16),
  };
}
const payload = (alerts: ReturnType<typeof alert>[]): AlertmanagerNotification => ({
  version: '4',
  status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
  receiver: 'slack-major',
  alerts,
});

describe('incident timeline: Alertmanager receiver and service actions on PostgreSQL', () => {
  let database: { name: string; url: string };
  let store: TimelineStore;
  let server: http.Server;
  let base: string;
  let clock = at(0);

  async function startReceiver() {
    store = createTimelineStore(database.url);
    server = createReceiver({ store, now: () => clock, log: () => {} });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  async function stopReceiver() {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
  }
  const post = (body: unknown) =>
    fetch(`${base}/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const metric = async (name: string) => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith(name));
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await startReceiver();
  });
  afterAll(async () => {
    await stopReceiver();
    await dropTestDatabase(database.name);
  });

  test('a drill, its page, its re-notification, an ack, the fix and the resolve become one incident with measured phases', async () => {
    const db = createDatabase(loadConfig({ DATABASE_URL: database.url, REDIS_URL: 'redis://127.0.0.1:1' }).database, createMetrics());
    const logger = createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) });
    try {
      // The service records the drill being switched on (the fault: 발생) and, later, switched off (임시 조치).
      await recordIncidentAction({ db, logger }, { action: 'drill_set', actor: 'gameday', occurredAt: at(0), details: { queryLatencyMs: { popular: 1500 } } });

      const firing = alert('OrdersPopularLatencyHigh', 'firing', at(70));
      clock = at(80);
      expect((await post(payload([firing]))).status).toBe(200);
      clock = at(380); // Alertmanager's repeat: the first delivery stays the page time
      expect((await post(payload([firing]))).status).toBe(200);

      const store2 = createTimelineStore(database.url);
      await store2.record([{ step: 'acknowledged', actor: 'primary', occurredAt: at(95) }]);
      await store2.close();
      await recordIncidentAction({ db, logger }, { action: 'drill_cleared', actor: 'primary', occurredAt: at(120) });

      clock = at(200);
      expect((await post(payload([alert('OrdersPopularLatencyHigh', 'resolved', at(70), at(190))]))).status).toBe(200);
    } finally {
      await db.close();
    }

    const events = await store.list();
    expect(events.map((e) => [e.step, e.action ?? e.alertName, (e.occurredAt.getTime() - T0) / 1000])).toEqual([
      ['action', 'drill_set', 0],
      ['detected', 'OrdersPopularLatencyHigh', 70],
      ['paged', 'OrdersPopularLatencyHigh', 80],
      ['acknowledged', undefined, 95],
      ['action', 'drill_cleared', 120],
      ['resolved', 'OrdersPopularLatencyHigh', 190],
    ]);
    const [incident, ...more] = deriveIncidents(events, { pendingSeconds: catalogPendingSeconds });
    expect(more).toEqual([]);
    expect(incident).toMatchObject({ onsetSource: 'fault', severity: 'major', acknowledgedBy: 'primary' });
    expect(phaseDurations(incident!)).toEqual({ detect: 70, acknowledge: 15, mitigate: 120, recover: 190 });

    expect(await metric('incident_last_response_duration_seconds{')).toEqual([
      'incident_last_response_duration_seconds{phase="detect"} 70',
      'incident_last_response_duration_seconds{phase="acknowledge"} 15',
      'incident_last_response_duration_seconds{phase="mitigate"} 120',
      'incident_last_response_duration_seconds{phase="recover"} 190',
    ]);
    expect(await metric('incident_open')).toEqual(['incident_open 0']);
    expect(await metric('incident_response_duration_seconds_bucket{le="75",phase="detect"}')).toEqual([
      'incident_response_duration_seconds_bucket{le="75",phase="detect"} 1',
    ]);
  });

  test('the metrics survive a restart of the receiver (they are computed from the table)', async () => {
    const before = await metric('incident');
    await stopReceiver();
    await startReceiver();
    expect(await metric('incident')).toEqual(before);
    expect(before.length).toBeGreaterThan(10);
  });

  test('an alert of the monitoring pipeline (Watchdog, service=monitoring) opens no incident', async () => {
    clock = at(1000);
    const watchdog = alert('Watchdog', 'firing', at(990), undefined, { service: 'monitoring', severity: 'minor' });
    expect((await post(payload([watchdog]))).status).toBe(200);
    expect(deriveIncidents(await store.list(), { pendingSeconds: catalogPendingSeconds })).toHaveLength(1);
    expect(await metric('incidents_total')).toEqual(['incidents_total 1']);
  });

  test('an open incident without a recorded fault starts at the alert\'s pending time (the catalog\'s for)', async () => {
    clock = at(2000);
    expect((await post(payload([alert('OrdersServiceDown', 'firing', at(1990), undefined, { severity: 'critical' })]))).status).toBe(200);
    const incidents = deriveIncidents(await store.list(), { pendingSeconds: catalogPendingSeconds });
    expect(incidents).toHaveLength(2);
    const last = incidents[1]!;
    expect(last).toMatchObject({ severity: 'critical', onsetSource: 'alert-pending' });
    expect(phaseDurations(last)).toEqual({ detect: catalogPendingSeconds('OrdersServiceDown') });
    expect(await metric('incident_open')).toEqual(['incident_open 1']);
  });

  test.each([
    ['not JSON', '{"version":'],
    ['not a notification', { hello: 'world' }],
    ['an alert without a name', { ...payload([alert('X', 'firing', at(1))]), alerts: [{ ...alert('X', 'firing', at(1)), labels: { service: 'orders' } }] }],
    ['a bad start time', { ...payload([alert('X', 'firing', at(1))]), alerts: [{ ...alert('X', 'firing', at(1)), startsAt: 'yesterday' }] }],
    ['no alerts', { ...payload([alert('X', 'firing', at(1))]), alerts: [] }],
  ])('%s is answered 400 and stores nothing', async (_name, body) => {
    const before = (await store.list()).length;
    const response = await post(body);
    expect(response.status).toBe(400);
    expect((await store.list()).length).toBe(before);
  });

  test('while PostgreSQL cannot take it, the receiver answers 503 so Alertmanager retries', async () => {
    const unreachable = createTimelineStore('postgres://orders:orders@127.0.0.1:1/none');
    const down = createReceiver({ store: unreachable, log: () => {} });
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(down.address() as AddressInfo).port}/alertmanager`, {
        method: 'POST',
        body: JSON.stringify(payload([alert('OrdersStatusLatencyHigh', 'firing', at(5))])),
      });
      expect(response.status).toBe(503);
    } finally {
      await new Promise((resolve) => down.close(resolve));
      await unreachable.close();
    }
  });

  test('the service records its start once, however often the write is retried', async () => {
    const db = createDatabase(loadConfig({ DATABASE_URL: database.url, REDIS_URL: 'redis://127.0.0.1:1' }).database, createMetrics());
    const logger = createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, done) => done() }) });
    try {
      const startedAt = at(5000);
      await recordServiceStart({ db, logger }, { startedAt });
      await recordServiceStart({ db, logger }, { startedAt });
      const rows = await db.sequelize.query<{ n: string }>(`SELECT count(*) AS n FROM incident_events WHERE action = 'service_started'`, { type: QueryTypes.SELECT });
      expect(Number(rows[0]!.n)).toBe(1);
    } finally {
      await db.close();
    }
  });

  test('a start while PostgreSQL is unreachable is recorded once it is back', async () => {
    const admin = new URL(process.env.TEST_PG_ADMIN_URL!);
    const name = `${database.name}_late`;
    const late = new URL(admin);
    late.pathname = `/${name}`;
    const db = createDatabase(loadConfig({ DATABASE_URL: late.toString(), REDIS_URL: 'redis://127.0.0.1:1' }).database, createMetrics());
    const warnings: string[] = [];
    const logger = createLogger({ level: 'warn', stream: new Writable({ write: (c, _e, done) => (warnings.push(String(c)), done()) }) });
    const adminPool = new pg.Pool({ connectionString: admin.toString(), max: 1 });
    try {
      const recorded = recordServiceStart({ db, logger }, { startedAt: at(7000), retryMs: 200 });
      await new Promise((r) => setTimeout(r, 600));
      expect(warnings.join('')).toContain('incident timeline: start not recorded yet');
      await adminPool.query(`CREATE DATABASE "${name}" TEMPLATE "${process.env.TEST_PG_TEMPLATE}"`);
      await recorded;
      const rows = await db.sequelize.query<{ occurred_at: Date }>(`SELECT occurred_at FROM incident_events WHERE action = 'service_started'`, { type: QueryTypes.SELECT });
      expect(rows.map((r) => r.occurred_at.toISOString())).toEqual([at(7000).toISOString()]);
    } finally {
      await db.close();
      await adminPool.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await adminPool.end();
    }
  });

  test('migration 0004 goes down and up again, and the table refuses steps and actions the contract does not know', async () => {
    const db = createDatabase(loadConfig({ DATABASE_URL: database.url, REDIS_URL: 'redis://127.0.0.1:1' }).database, createMetrics());
    try {
      const exists = async () =>
        (await db.sequelize.query<{ t: string | null }>(`SELECT to_regclass('incident_events')::text AS t`, { type: QueryTypes.SELECT }))[0]!.t;
      // A copy of the table's rows survives in a scratch table while the migration is rolled back and re-applied.
      await db.sequelize.query('CREATE TABLE incident_events_keep AS SELECT * FROM incident_events');
      await createMigrator(db.sequelize).down({ to: '0004-incident-timeline' });
      expect(await exists()).toBeNull();
      await createMigrator(db.sequelize).up();
      expect(await exists()).toBe('incident_events');
      await db.sequelize.query('INSERT INTO incident_events SELECT * FROM incident_events_keep; DROP TABLE incident_events_keep');
      const before = (await store.list()).length;
      await expect(store.record([{ step: 'escalated' as never, actor: 'x', occurredAt: at(1) }])).rejects.toThrow(/incident_events_step_known/);
      await expect(store.record([{ step: 'action', action: 'reboot' as never, actor: 'x', occurredAt: at(1) }])).rejects.toThrow(/incident_events_action_known/);
      await expect(store.record([{ step: 'acknowledged', actor: '', occurredAt: at(1) }])).rejects.toThrow(/incident_events_actor_not_empty/);
      // All or nothing: a batch with one bad event stores none of it.
      await expect(
        store.record([
          { step: 'acknowledged', actor: 'primary', occurredAt: at(2) },
          { step: 'action', actor: 'x', occurredAt: at(2) },
        ]),
      ).rejects.toThrow(/incident_events_action_iff_step/);
      expect((await store.list()).length).toBe(before);
    } finally {
      await db.close();
    }
  });

  test('the admin caller is named by X-Actor when well-formed, else the token holder', () => {
    const ctx = (value: string) => ({ get: () => value });
    expect(actorOf(ctx('primary'))).toBe('primary');
    expect(actorOf(ctx('담당자 1'))).toBe('담당자 1');
    expect(actorOf(ctx(''))).toBe('admin-token');
    expect(actorOf(ctx('x'.repeat(65)))).toBe('admin-token');
    expect(actorOf(ctx('a\nb'))).toBe('admin-token');
  });
});
