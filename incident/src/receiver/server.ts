import http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import {
  INCIDENT_DURATION_BUCKETS_SECONDS,
  INCIDENT_METRICS,
  INCIDENT_PHASES,
  type IncidentEventInput,
} from '../../../contract/incident';
import { catalogPendingSeconds } from '../timeline/catalog';
import { deriveIncidents, phaseDurations, type DeriveOptions } from '../timeline/incidents';
import type { TimelineStore } from '../timeline/store';

/** Alertmanager's webhook payload (version 4), the fields the timeline uses; unknown fields are ignored. */
const notification = z.object({
  version: z.literal('4'),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(200),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved']),
        labels: z.record(z.string(), z.string()).refine((l) => typeof l.alertname === 'string' && l.alertname.length > 0, 'labels.alertname is required'),
        annotations: z.record(z.string(), z.string()).default({}),
        startsAt: z.iso.datetime({ offset: true }),
        endsAt: z.iso.datetime({ offset: true }),
        generatorURL: z.string().max(4000).optional(),
        fingerprint: z.string().regex(/^[0-9a-f]{1,64}$/),
      }),
    )
    .min(1)
    .max(1000),
});
export type AlertmanagerNotification = z.input<typeof notification>;

const MAX_BODY_BYTES = 1 << 20;

/**
 * One notification as timeline events: per alert, 감지 at its startsAt; per firing alert, 신고 at the delivery time
 * (the first delivery wins: re-notifications repeat the dedupe key); per resolved alert, 복구 at its endsAt.
 */
export function notificationEvents(body: z.output<typeof notification>, deliveredAt: Date): IncidentEventInput[] {
  const events: IncidentEventInput[] = [];
  for (const alert of body.alerts) {
    const startsAt = new Date(alert.startsAt);
    const base = {
      actor: 'alertmanager',
      alertName: alert.labels.alertname,
      fingerprint: alert.fingerprint,
      severity: alert.labels.severity,
      details: {
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt: startsAt.toISOString(),
        receiver: body.receiver,
        generatorURL: alert.generatorURL,
      },
    };
    const id = `${alert.fingerprint}:${startsAt.toISOString()}`;
    events.push({ ...base, step: 'detected', occurredAt: startsAt, dedupeKey: `detected:${id}` });
    if (alert.status === 'firing') events.push({ ...base, step: 'paged', occurredAt: deliveredAt, dedupeKey: `paged:${id}` });
    else {
      // endsAt is when Prometheus saw it end; deliveredAt is when the [복구] notification reached people.
      const details = { ...base.details, deliveredAt: deliveredAt.toISOString() };
      events.push({ ...base, details, step: 'resolved', occurredAt: new Date(alert.endsAt), dedupeKey: `resolved:${id}` });
    }
  }
  return events;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The phase metrics, computed from the whole timeline at each scrape (so a restart of the receiver loses nothing). */
export async function renderMetrics(store: TimelineStore, options: Pick<DeriveOptions, 'pendingSeconds'>): Promise<{ type: string; body: string }> {
  const registry = new Registry();
  const histogram = new Histogram({
    name: INCIDENT_METRICS.responseDuration,
    help: 'Incident response phases over every recorded incident: detect (onset to alert), acknowledge (page to ack), mitigate (onset to first action), recover (onset to resolved), seconds',
    labelNames: ['phase'],
    buckets: INCIDENT_DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });
  const last = new Gauge({
    name: INCIDENT_METRICS.lastResponseDuration,
    help: 'The latest incident\'s response phases, seconds (absent for a phase not reached yet)',
    labelNames: ['phase'],
    registers: [registry],
  });
  const open = new Gauge({ name: INCIDENT_METRICS.open, help: '1 while an incident is open (a service alert firing)', registers: [registry] });
  const total = new Counter({ name: INCIDENT_METRICS.incidents, help: 'Incidents recorded on the timeline', registers: [registry] });

  const incidents = deriveIncidents(await store.list(), options);
  for (const phase of INCIDENT_PHASES) histogram.zero({ phase });
  for (const incident of incidents) {
    for (const [phase, seconds] of Object.entries(phaseDurations(incident))) histogram.observe({ phase }, seconds);
  }
  const latest = incidents.at(-1);
  if (latest) for (const [phase, seconds] of Object.entries(phaseDurations(latest))) last.set({ phase }, seconds);
  open.set(latest && !latest.recoveredAt ? 1 : 0);
  total.inc(incidents.length);
  return { type: registry.contentType, body: await registry.metrics() };
}

/**
 * The timeline receiver: `POST /alertmanager` (Alertmanager webhook, every notification), `GET /metrics`, `GET /healthz`.
 * Answers 400 to a payload that is not Alertmanager's (nothing stored), 503 when PostgreSQL cannot take it, so
 * Alertmanager retries the delivery.
 */
export function createReceiver(deps: { store: TimelineStore; now?: () => Date; log?: (line: Record<string, unknown>) => void }) {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? ((line) => console.log(JSON.stringify({ timestamp: new Date().toISOString(), ...line })));
  const send = (res: http.ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  return http.createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    try {
      if (req.method === 'GET' && path === '/healthz') return send(res, 200, { status: 'ok' });
      if (req.method === 'GET' && path === '/metrics') {
        const metrics = await renderMetrics(deps.store, { pendingSeconds: catalogPendingSeconds });
        return send(res, 200, metrics.body, metrics.type);
      }
      if (path === '/alertmanager') {
        if (req.method !== 'POST') return send(res, 405, { error: 'METHOD_NOT_ALLOWED', message: 'POST an Alertmanager notification' });
        const deliveredAt = now();
        let json: unknown;
        try {
          json = JSON.parse(await readBody(req));
        } catch (error) {
          const status = (error as { status?: number }).status ?? 400;
          return send(res, status, { error: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_JSON', message: (error as Error).message });
        }
        const parsed = notification.safeParse(json);
        if (!parsed.success) {
          return send(res, 400, { error: 'INVALID_NOTIFICATION', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
        }
        const events = notificationEvents(parsed.data, deliveredAt);
        await deps.store.record(events);
        log({ level: 'info', message: 'notification recorded', status: parsed.data.status, alerts: parsed.data.alerts.length });
        return send(res, 200, { recorded: events.length });
      }
      return send(res, 404, { error: 'NOT_FOUND' });
    } catch (error) {
      log({ level: 'error', message: 'timeline unavailable', error: (error as Error).message });
      return send(res, 503, { error: 'TIMELINE_UNAVAILABLE', message: 'The timeline database is unavailable; retry.' });
    }
  });
}
