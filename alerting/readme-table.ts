import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { durationSeconds } from '../contract';
import { ALERTS, onsetLagSeconds, SCRAPE_SECONDS as EVALUATION_SECONDS, type AlertDefinition } from './catalog';

/**
 * The README's alert table, generated from the catalog and alertmanager.yml between the markers the README keeps:
 * what fires, when, after which `for`, and how long after a step-change fault the page is expected (the condition's
 * lag + `for` + the evaluation interval + the route's group_wait). Only the text between the markers is replaced.
 */
export const README_FILE = 'README.md';
export const BEGIN = '<!-- BEGIN GENERATED: alert table -->';
export const END = '<!-- END GENERATED: alert table -->';

const ROOT = path.resolve(__dirname, '..');


interface Route {
  receiver: string;
  matchers?: string[];
  group_wait?: string;
  routes?: Route[];
}

/** group_wait of the route an alert with these labels takes (first matching child, else the root). */
export function groupWaitSeconds(labels: Record<string, string>, config = parse(readFileSync(path.join(ROOT, 'alerting/alertmanager.yml'), 'utf8'))): number {
  const root = config.route as Route;
  const matches = (route: Route) =>
    (route.matchers ?? []).every((m) => {
      const [, name, value] = /^(\w+)="(.*)"$/.exec(m)!;
      return labels[name!] === value;
    });
  const child = (root.routes ?? []).find(matches);
  return durationSeconds(child?.group_wait ?? root.group_wait ?? '30s');
}

/**
 * The latest a step fault's page leaves Alertmanager, in seconds after the fault began, from the pipeline's timers:
 * the condition's lag + `for` + one evaluation interval + the route's group_wait (alertmanager.yml). Not included: how
 * long a slow request takes before it is observed, and delivery.
 */
export function pageBoundSeconds(alert: AlertDefinition): number {
  return onsetLagSeconds(alert) + EVALUATION_SECONDS + groupWaitSeconds({ alertname: alert.name, severity: alert.severity, service: alert.service });
}

const row = (alert: AlertDefinition) => {
  const expected = pageBoundSeconds(alert);
  return `| \`${alert.name}\` | ${alert.severity}${alert.service === 'monitoring' ? ' (service `monitoring`)' : ''} | ${alert.firesWhen} | ${alert.for ?? '—'} | ${alert.name === 'Watchdog' ? '—' : `≤ ${expected} s`} |`;
};

export function alertTable(): string {
  return [
    '| alert | severity | fires when | for | fault → page (step fault, at most) |',
    '|---|---|---|---|---|',
    ...ALERTS.map(row),
  ].join('\n');
}

/** The README with the table between the markers replaced; throws if the markers are missing. */
export function readmeWithAlertTable(text = readFileSync(path.join(ROOT, README_FILE), 'utf8')): string {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${README_FILE}: the markers ${BEGIN} … ${END} are missing`);
  return `${text.slice(0, begin + BEGIN.length)}\n${alertTable()}\n${text.slice(end)}`;
}
