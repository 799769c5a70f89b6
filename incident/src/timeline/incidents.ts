import { FAULT_ACTIONS, FAULTS_CLEARED_BY, INCIDENT_PHASES, type IncidentPhase } from '../../../contract/incident';
import type { StoredEvent } from './store';

/** One alert of an incident, as Alertmanager delivered it. */
export interface IncidentAlert {
  name: string;
  severity: string;
  fingerprint: string;
  startsAt: Date;
  endsAt?: Date;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * An incident as derived from the timeline: from the first service alert firing while none was, to the moment every
 * alert of it resolved. Times are instants (Date); optional ones are steps not reached (yet).
 */
export interface Incident {
  /** `INC-YYYYMMDD-HHMMSS` of detectedAt in UTC: stable, since the timeline is append-only. */
  id: string;
  /** 발생: the fault that started it (a drill or injected fault before detection), else detection minus the alert's `for`. */
  onsetAt: Date;
  onsetSource: 'fault' | 'alert-pending';
  detectedAt: Date;
  pagedAt?: Date;
  acknowledgedAt?: Date;
  acknowledgedBy?: string;
  mitigatedAt?: Date;
  recoveredAt?: Date;
  verifiedAt?: Date;
  reportedAt?: Date;
  severity: string;
  alerts: IncidentAlert[];
  /** Every event attached to it, oldest first. */
  events: StoredEvent[];
}

export interface DeriveOptions {
  /** Seconds from an alert's symptom to its firing (`for` + condition lag), for the onset when no fault was recorded. */
  pendingSeconds(alertName: string): number;
  /** A fault recorded at most this long before detection is the incident's onset; ms, default 15 min. */
  faultLookbackMs?: number;
  /** Acks, actions, verifications and reports up to this long after recovery belong to it; ms, default 1 h. */
  afterRecoveryMs?: number;
}

const SEVERITY_RANK: Record<string, number> = { critical: 3, major: 2, minor: 1 };
const ALERT_STEPS = new Set(['detected', 'paged', 'resolved']);

const labelsOf = (e: StoredEvent) => (e.details.labels ?? {}) as Record<string, string>;
const startsAtOf = (e: StoredEvent) => String(e.details.startsAt ?? '');
const keyOf = (e: StoredEvent) => `${e.fingerprint}@${startsAtOf(e)}`;

/** Alerts that open incidents: the service's own, not the monitoring pipeline's (Watchdog, targets down). */
export function isServiceAlert(e: StoredEvent): boolean {
  return labelsOf(e).service === 'orders' && e.alertName !== 'Watchdog';
}

function incidentId(at: Date): string {
  return `INC-${at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
}

/**
 * Groups the timeline into incidents. Pure: the same events give the same incidents, so the receiver's metrics, the
 * report and the game day agree, and nothing about an incident is state that a restart could lose.
 */
export function deriveIncidents(events: StoredEvent[], options: DeriveOptions): Incident[] {
  const lookback = options.faultLookbackMs ?? 15 * 60_000;
  const after = options.afterRecoveryMs ?? 60 * 60_000;
  // At one instant an alert firing comes before another resolving: the service was never seen healthy in between.
  const rank = (e: StoredEvent) => (e.step === 'detected' ? 0 : e.step === 'resolved' ? 2 : 1);
  const sorted = [...events].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || rank(a) - rank(b) || a.id - b.id);
  const incidents: Incident[] = [];
  const byAlertKey = new Map<string, Incident>();
  const alertByKey = new Map<string, IncidentAlert>();
  let current: { incident: Incident; open: Set<string> } | undefined;
  let buffered: StoredEvent[] = [];

  const lastClosed = () => {
    const last = incidents.at(-1);
    return last && last !== current?.incident ? last : undefined;
  };

  for (const e of sorted) {
    if (ALERT_STEPS.has(e.step)) {
      if (!isServiceAlert(e) || !e.fingerprint) continue;
      const key = keyOf(e);
      if (e.step === 'detected') {
        if (byAlertKey.has(key)) continue;
        if (!current) {
          const earlier = buffered.filter((b) => e.occurredAt.getTime() - b.occurredAt.getTime() <= lookback);
          const incident: Incident = {
            id: incidentId(e.occurredAt),
            onsetAt: e.occurredAt,
            onsetSource: 'alert-pending',
            detectedAt: e.occurredAt,
            severity: e.severity ?? 'minor',
            alerts: [],
            events: [...earlier],
          };
          current = { incident, open: new Set() };
          incidents.push(incident);
          buffered = [];
        }
        const { incident } = current;
        incident.events.push(e);
        const alert: IncidentAlert = {
          name: e.alertName ?? 'unknown',
          severity: e.severity ?? 'minor',
          fingerprint: e.fingerprint,
          startsAt: e.occurredAt,
          labels: labelsOf(e),
          annotations: (e.details.annotations ?? {}) as Record<string, string>,
        };
        incident.alerts.push(alert);
        alertByKey.set(key, alert);
        if ((SEVERITY_RANK[e.severity ?? ''] ?? 0) > (SEVERITY_RANK[incident.severity] ?? 0)) incident.severity = e.severity!;
        current.open.add(key);
        byAlertKey.set(key, incident);
        continue;
      }
      const incident = byAlertKey.get(key);
      if (!incident) continue;
      incident.events.push(e);
      if (e.step === 'paged') {
        if (!incident.pagedAt || e.occurredAt < incident.pagedAt) incident.pagedAt = e.occurredAt;
      } else {
        const alert = alertByKey.get(key);
        if (alert && !alert.endsAt) alert.endsAt = e.occurredAt;
        if (current?.incident === incident) {
          current.open.delete(key);
          if (current.open.size === 0) {
            incident.recoveredAt = e.occurredAt;
            current = undefined;
          }
        }
      }
      continue;
    }
    const isFault = e.step === 'action' && FAULT_ACTIONS.includes(e.action!);
    if (current) current.incident.events.push(e);
    else {
      // Faults cleared before any alert fired caused nothing: they are not the onset of a later incident.
      const ended = e.step === 'action' ? FAULTS_CLEARED_BY[e.action!] : undefined;
      if (ended) buffered = buffered.filter((b) => !(b.step === 'action' && ended.includes(b.action!)));
      const closed = lastClosed();
      if (!isFault && closed?.recoveredAt && e.occurredAt.getTime() - closed.recoveredAt.getTime() <= after) closed.events.push(e);
      else buffered.push(e);
    }
  }

  for (const incident of incidents) settle(incident, options);
  return incidents;
}

function settle(incident: Incident, options: DeriveOptions) {
  const faults = incident.events.filter((e) => e.step === 'action' && FAULT_ACTIONS.includes(e.action!) && e.occurredAt <= incident.detectedAt);
  if (faults.length > 0) {
    incident.onsetAt = faults[0]!.occurredAt;
    incident.onsetSource = 'fault';
  } else {
    const first = incident.alerts[0];
    incident.onsetAt = new Date(incident.detectedAt.getTime() - (first ? options.pendingSeconds(first.name) * 1000 : 0));
  }
  // An ack before anything was detected (say, of the previous incident, late) is not this incident's.
  const ack = incident.events.find((e) => e.step === 'acknowledged' && e.occurredAt >= incident.detectedAt);
  incident.acknowledgedAt = ack?.occurredAt;
  incident.acknowledgedBy = ack?.actor;
  incident.mitigatedAt = incident.events.find(
    (e) => e.step === 'action' && !FAULT_ACTIONS.includes(e.action!) && e.occurredAt >= incident.onsetAt,
  )?.occurredAt;
  incident.verifiedAt = incident.events.find((e) => e.step === 'verified' && e.details.passed === true && (!incident.recoveredAt || e.occurredAt >= incident.recoveredAt))?.occurredAt;
  incident.reportedAt = incident.events.filter((e) => e.step === 'reported').at(-1)?.occurredAt;
}

/** Seconds of each phase the incident has reached (contract/incident.ts defines them). */
export function phaseDurations(incident: Incident): Partial<Record<IncidentPhase, number>> {
  const seconds = (from?: Date, to?: Date) => (from && to ? (to.getTime() - from.getTime()) / 1000 : undefined);
  const values: Record<IncidentPhase, number | undefined> = {
    detect: seconds(incident.onsetAt, incident.detectedAt),
    acknowledge: seconds(incident.pagedAt ?? incident.detectedAt, incident.acknowledgedAt),
    mitigate: seconds(incident.onsetAt, incident.mitigatedAt),
    recover: seconds(incident.onsetAt, incident.recoveredAt),
  };
  return Object.fromEntries(INCIDENT_PHASES.filter((p) => values[p] !== undefined).map((p) => [p, values[p]])) as Partial<
    Record<IncidentPhase, number>
  >;
}

/** Parses a Prometheus duration such as `90s`, `2m`, `1h30m` into seconds; 0 for empty. Throws on anything else. */
export function durationSeconds(text: string | undefined): number {
  if (!text) return 0;
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.map((p) => p[0]).join('') !== text) throw new Error(`not a Prometheus duration: ${text}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}
