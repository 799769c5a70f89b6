import { INCIDENT_ACTIONS, INCIDENT_EVENTS_TABLE, INCIDENT_STEPS } from '../../../../contract/incident';
import type { Migration } from '../migrator';

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');
/** The contract's constant names, as SQL literals (never input: the lists are fixed at build time). */
const STEP_VALUES = list(INCIDENT_STEPS);
const ACTION_VALUES = list(INCIDENT_ACTIONS);

/**
 * The incident timeline (incident/README.md): one row per recorded step of an incident, written by the Alertmanager
 * receiver, the service's admin actions and start-ups, and the `incident` CLI. Append-only; `dedupe_key` makes a
 * repeated delivery (Alertmanager retries, re-notifications) a no-op.
 */
export const incidentTimeline: Migration = {
  name: '0004-incident-timeline',
  async up({ context: sequelize }) {
    await sequelize.query(`
      CREATE TABLE ${INCIDENT_EVENTS_TABLE} (
        id           BIGSERIAL   PRIMARY KEY,
        occurred_at  TIMESTAMPTZ NOT NULL,
        recorded_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
        step         TEXT        NOT NULL CONSTRAINT incident_events_step_known CHECK (step IN (${STEP_VALUES})),
        action       TEXT        CONSTRAINT incident_events_action_known CHECK (action IN (${ACTION_VALUES})),
        actor        TEXT        NOT NULL CONSTRAINT incident_events_actor_not_empty CHECK (length(actor) BETWEEN 1 AND 200),
        alert_name   TEXT,
        fingerprint  TEXT,
        severity     TEXT,
        details      JSONB       NOT NULL DEFAULT '{}'::jsonb,
        dedupe_key   TEXT        UNIQUE,
        CONSTRAINT incident_events_action_iff_step CHECK ((step = 'action') = (action IS NOT NULL))
      );
      CREATE INDEX incident_events_occurred_at_idx ON ${INCIDENT_EVENTS_TABLE} (occurred_at);
    `);
  },
  async down({ context: sequelize }) {
    await sequelize.query(`DROP TABLE ${INCIDENT_EVENTS_TABLE}`);
  },
};
