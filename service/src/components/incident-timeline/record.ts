import type { Context } from 'koa';
import { insertIncidentEvent, type IncidentAction } from '../../../../contract/incident';
import type { Database } from '../../infra/database';
import { serializeError, type Logger } from '../../lib/logger';

/** What the recorders need: the service's database (the timeline table lives there) and its logger. */
export interface IncidentTimelineDeps {
  db: Database;
  logger: Logger;
}

/** Header an admin caller names themself with (a roster id such as `primary`, or a person's handle). */
export const ACTOR_HEADER = 'x-actor';
const ACTOR_PATTERN = /^[\p{L}\p{N}@._:-][\p{L}\p{N}@._: -]{0,63}$/u;
/** Who an admin call is attributed to when it names nobody: the holder of the admin token. */
export const DEFAULT_ADMIN_ACTOR = 'admin-token';

/** The caller of an admin request: its `X-Actor` header when well-formed (1-64 letters, digits, `@._:- `), else the token holder. */
export function actorOf(ctx: Pick<Context, 'get'>): string {
  const named = ctx.get(ACTOR_HEADER).trim();
  return ACTOR_PATTERN.test(named) ? named : DEFAULT_ADMIN_ACTOR;
}

/**
 * Records one responder action (traffic limit on/off, drill on/off) on the incident timeline, at the moment it took
 * effect. Call it at the end of the admin handler, after the action succeeded. It never throws: the action has
 * already happened, so a timeline write that fails is logged at error level (`incident timeline write failed`) and
 * the admin call still answers with its result.
 */
export async function recordIncidentAction(
  deps: IncidentTimelineDeps,
  event: { action: IncidentAction; actor: string; details?: Record<string, unknown>; occurredAt?: Date },
): Promise<void> {
  const [sql, bind] = insertIncidentEvent({
    occurredAt: event.occurredAt ?? new Date(),
    step: 'action',
    action: event.action,
    actor: event.actor,
    details: event.details,
  });
  try {
    await deps.db.sequelize.query(sql, { bind });
  } catch (error) {
    deps.logger.error('incident timeline write failed', { action: event.action, actor: event.actor, error: serializeError(error) });
  }
}

/**
 * Records this process's start (a restart, during an incident) as `service_started`, at the time the process began.
 * Retries in the background every `retryMs` until PostgreSQL takes it, so a start while the database is down is
 * recorded once it is back; the dedupe key (pid and start time) keeps a retry from recording it twice.
 */
export function recordServiceStart(
  deps: IncidentTimelineDeps,
  options: { startedAt?: Date; retryMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const startedAt = options.startedAt ?? new Date(Date.now() - process.uptime() * 1000);
  const retryMs = options.retryMs ?? 5_000;
  const [sql, bind] = insertIncidentEvent({
    occurredAt: startedAt,
    step: 'action',
    action: 'service_started',
    actor: 'orders',
    details: { pid: process.pid },
    dedupeKey: `service_started:${process.pid}:${startedAt.toISOString()}`,
  });
  return (async () => {
    for (;;) {
      try {
        await deps.db.sequelize.query(sql, { bind });
        return;
      } catch (error) {
        if (options.signal?.aborted) return;
        deps.logger.warn('incident timeline: start not recorded yet; retrying', { error: serializeError(error).message });
        await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
        if (options.signal?.aborted) return;
      }
    }
  })();
}
