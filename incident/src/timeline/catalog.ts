import { ALERTS, onsetLagSeconds } from '../../../alerting/catalog';
import type { DeriveOptions } from './incidents';

/**
 * How long before an alert fired its symptom began, per alert name, seconds: the catalog's `for` plus the lag of its
 * condition (onsetLagSeconds, the same figure the Slack page's 발생 시간 subtracts). 0 for a name it does not have.
 */
export const catalogPendingSeconds: DeriveOptions['pendingSeconds'] = (alertName) => {
  const alert = ALERTS.find((a) => a.name === alertName);
  return alert ? onsetLagSeconds(alert) : 0;
};

/** The catalog entry of an alert (summary, severity, dashboard panel), or undefined for a name it does not have. */
export const catalogAlert = (alertName: string) => ALERTS.find((a) => a.name === alertName);
