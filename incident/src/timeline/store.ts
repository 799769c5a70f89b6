import pg from 'pg';
import {
  INCIDENT_EVENTS_TABLE,
  insertIncidentEvent,
  type IncidentAction,
  type IncidentEventInput,
  type IncidentStep,
} from '../../../contract/incident';

/** An event as stored: the input plus its row id and the time the row was written. */
export interface StoredEvent extends IncidentEventInput {
  id: number;
  recordedAt: Date;
  details: Record<string, unknown>;
}

interface Row {
  id: string;
  occurred_at: Date;
  recorded_at: Date;
  step: IncidentStep;
  action: IncidentAction | null;
  actor: string;
  alert_name: string | null;
  fingerprint: string | null;
  severity: string | null;
  details: Record<string, unknown>;
  dedupe_key: string | null;
}

const fromRow = (r: Row): StoredEvent => ({
  id: Number(r.id),
  occurredAt: r.occurred_at,
  recordedAt: r.recorded_at,
  step: r.step,
  action: r.action ?? undefined,
  actor: r.actor,
  alertName: r.alert_name ?? undefined,
  fingerprint: r.fingerprint ?? undefined,
  severity: r.severity ?? undefined,
  details: r.details,
  dedupeKey: r.dedupe_key ?? undefined,
});

/**
 * The incident timeline in the service's PostgreSQL (table incident_events, migration 0004). Writers: the
 * Alertmanager receiver, the CLI (ack, verify, report) and the game day runner; the service writes its own actions
 * through the same INSERT (contract/incident.ts). Errors are pg's, unchanged (the receiver answers them with 503).
 */
export function createTimelineStore(databaseUrl: string, options: { max?: number } = {}) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 4, application_name: 'incident-timeline' });
  // An idle client losing its server (PostgreSQL restarting) must not crash the process; the next query reconnects.
  pool.on('error', () => {});

  return {
    /** Stores events atomically (all or none); an event whose dedupe key is already stored is skipped. */
    async record(events: IncidentEventInput[]): Promise<void> {
      if (events.length === 0) return;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const event of events) await client.query(...insertIncidentEvent(event));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    /** Events with occurred_at in [from, to), oldest first (ties by id). */
    async list(range: { from?: Date; to?: Date } = {}): Promise<StoredEvent[]> {
      const { rows } = await pool.query<Row>(
        `SELECT * FROM ${INCIDENT_EVENTS_TABLE}
          WHERE ($1::timestamptz IS NULL OR occurred_at >= $1) AND ($2::timestamptz IS NULL OR occurred_at < $2)
          ORDER BY occurred_at, id`,
        [range.from?.toISOString() ?? null, range.to?.toISOString() ?? null],
      );
      return rows.map(fromRow);
    },
    close: () => pool.end(),
  };
}

export type TimelineStore = ReturnType<typeof createTimelineStore>;
