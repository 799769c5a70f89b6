import { INCIDENT_ACTIONS, INCIDENT_EVENTS_TABLE } from '../../../../contract/incident';
import type { Migration } from '../migrator';

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');
const ADDED = 'cache_purged';
/** The contract's constant names, as SQL literals (never input: the lists are fixed at build time). */
const ACTION_VALUES = list(INCIDENT_ACTIONS);
const ACTION_VALUES_BEFORE = list(INCIDENT_ACTIONS.filter((action) => action !== ADDED));

/**
 * The timeline accepts `cache_purged` (DELETE /admin/cache/popular). Sets the action check to the contract's list,
 * so it is a no-op on a database that 0004 created after the action was added. Down refuses while such rows exist.
 */
export const incidentActionCachePurged: Migration = {
  name: '0005-incident-action-cache-purged',
  async up({ context: sequelize }) {
    await sequelize.query(`
      ALTER TABLE ${INCIDENT_EVENTS_TABLE} DROP CONSTRAINT incident_events_action_known;
      ALTER TABLE ${INCIDENT_EVENTS_TABLE} ADD CONSTRAINT incident_events_action_known CHECK (action IN (${ACTION_VALUES}));
    `);
  },
  async down({ context: sequelize }) {
    await sequelize.query(`
      ALTER TABLE ${INCIDENT_EVENTS_TABLE} DROP CONSTRAINT incident_events_action_known;
      ALTER TABLE ${INCIDENT_EVENTS_TABLE} ADD CONSTRAINT incident_events_action_known CHECK (action IN (${ACTION_VALUES_BEFORE}));
    `);
  },
};
