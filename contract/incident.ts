/**
 * The incident timeline's shape: the steps of the incident guide's procedure as recorded events, the table they are
 * stored in, and the metrics the timeline receiver exports. The service (admin actions, restarts), the Alertmanager
 * receiver, the `incident` CLI, the game day runner and the dashboard row all use these names.
 */

/** PostgreSQL table of the timeline (migration 0004-incident-timeline). */
export const INCIDENT_EVENTS_TABLE = 'incident_events';

/**
 * The guide's steps, in order. `detected` = 장애 감지 (an alert started firing), `paged` = 장애 신고 (its notification
 * reached us), `acknowledged` = 장애 대응팀 소집, `action` = 임시 조치 (or a fault injected by a drill), `resolved` = 복구
 * (the alert resolved), `verified` = 복구 확인 (a verification ran; details.passed says how it went), `reported` = 장애 보고.
 */
export const INCIDENT_STEPS = ['detected', 'paged', 'acknowledged', 'action', 'resolved', 'verified', 'reported'] as const;
export type IncidentStep = (typeof INCIDENT_STEPS)[number];

/**
 * What an `action` event did. `*_set` of a drill and `fault_injected` start a fault (they mark 발생 in drills and game
 * days); every other action after detection counts as mitigation.
 */
export const INCIDENT_ACTIONS = [
  'rate_limit_set',
  'rate_limit_cleared',
  'drill_set',
  'drill_cleared',
  'cache_purged',
  'service_started',
  'fault_injected',
  'fault_cleared',
] as const;
export type IncidentAction = (typeof INCIDENT_ACTIONS)[number];

/** Actions that cause a fault rather than mitigate one. */
export const FAULT_ACTIONS: readonly IncidentAction[] = ['drill_set', 'fault_injected'];
/**
 * Which faults each clearing action ends: drills off (one call clears them all) ends drills; a game day's fault
 * removed ends everything it injected (a container stop as well as its drills).
 */
export const FAULTS_CLEARED_BY: Readonly<Partial<Record<IncidentAction, readonly IncidentAction[]>>> = {
  drill_cleared: ['drill_set'],
  fault_cleared: ['drill_set', 'fault_injected'],
};

/** One recorded event. Times are Date (UTC instants); `dedupeKey` makes a repeated delivery a no-op. */
export interface IncidentEventInput {
  occurredAt: Date;
  step: IncidentStep;
  action?: IncidentAction;
  /** Who or what: a responder id from the roster, the admin caller's X-Actor, `alertmanager`, `orders`, `gameday`. */
  actor: string;
  alertName?: string;
  fingerprint?: string;
  severity?: string;
  details?: Record<string, unknown>;
  dedupeKey?: string;
}

/**
 * The one INSERT of the timeline: a repeated dedupe key changes nothing. Returns `[sql, bind]` for PostgreSQL's
 * positional parameters ($1..$9), usable with `pg` and with Sequelize's `bind`.
 */
export function insertIncidentEvent(event: IncidentEventInput): [string, unknown[]] {
  return [
    `INSERT INTO ${INCIDENT_EVENTS_TABLE}
       (occurred_at, step, action, actor, alert_name, fingerprint, severity, details, dedupe_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [
      event.occurredAt.toISOString(),
      event.step,
      event.action ?? null,
      event.actor,
      event.alertName ?? null,
      event.fingerprint ?? null,
      event.severity ?? null,
      JSON.stringify(event.details ?? {}),
      event.dedupeKey ?? null,
    ],
  ];
}

/** Prometheus job of the timeline receiver, and the metrics it exports (computed from the table at each scrape). */
export const INCIDENT_JOB = 'incident-timeline';
export const INCIDENT_METRICS = {
  /** Histogram over every incident in the table, label `phase`; seconds. */
  responseDuration: 'incident_response_duration_seconds',
  /** Gauge: the latest incident's value per `phase`; seconds. Absent for a phase the incident has not reached. */
  lastResponseDuration: 'incident_last_response_duration_seconds',
  /** Gauge: 1 while an incident is open (some service alert firing), else 0. */
  open: 'incident_open',
  /** Counter: incidents opened since the table began. */
  incidents: 'incidents_total',
} as const;

/**
 * The measured phases. detect: 발생 → 감지; acknowledge: 신고 → 소집; mitigate: 발생 → first 임시 조치;
 * recover: 발생 → 복구 (every alert of the incident resolved).
 */
export const INCIDENT_PHASES = ['detect', 'acknowledge', 'mitigate', 'recover'] as const;
export type IncidentPhase = (typeof INCIDENT_PHASES)[number];

/** Histogram buckets for the phases, seconds: the detection targets (75 s, 90 s, 2 min) fall on bucket bounds. */
export const INCIDENT_DURATION_BUCKETS_SECONDS = [15, 30, 45, 60, 75, 90, 120, 180, 300, 600, 1200, 1800, 3600];

/**
 * The alerting issue's targets: fault start → page by severity, and fault cleared → `[복구]` notification; seconds.
 * The game day scores its runs against these and the dashboard row draws them. They are the targets of the incidents
 * the game day drills (a named route over 1 s → Major, the service down → Critical), checked for each scenario's page
 * in incident/test/unit/scenarios.test.ts; other alerts state their own bound in the README's alert table.
 */
export const RESPONSE_TARGETS_SECONDS = {
  detect: { critical: 75, major: 90 },
  resolveNotice: 120,
} as const;

/**
 * What the pipeline's timers must leave of a detection target, seconds: a slow request is observed only when it ends
 * (the game day's drills take 1.5 s), and the page still has to be delivered. (The time a p95 needs to cross the line
 * is in the alert's condition lag.) Measured: a Major page 91 s after its fault when the timers added up to its 90 s
 * target, and 89 s when they added up to 85 s without counting the p95's 6 s.
 */
export const DETECT_MARGIN_SECONDS = 4;
