import { ALERTS } from '../../../alerting/catalog';
import { durationSeconds, type DeriveOptions } from './incidents';

/** The alert catalog's `for` per alert name, seconds: how long a condition held before its alert fired. */
export const catalogPendingSeconds: DeriveOptions['pendingSeconds'] = (alertName) =>
  durationSeconds(ALERTS.find((a) => a.name === alertName)?.for);

/** The catalog entry of an alert (summary, severity, dashboard panel), or undefined for a name it does not have. */
export const catalogAlert = (alertName: string) => ALERTS.find((a) => a.name === alertName);
