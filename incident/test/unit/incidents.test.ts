import fc from 'fast-check';
import type { IncidentEventInput } from '../../../contract/incident';
import { deriveIncidents, durationSeconds, phaseDurations } from '../../src/timeline/incidents';
import type { StoredEvent } from '../../src/timeline/store';

const T0 = Date.parse('2026-11-30T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);
let nextId = 1;
const stored = (e: IncidentEventInput): StoredEvent => ({ ...e, id: nextId++, recordedAt: e.occurredAt, details: e.details ?? {} });

function alertEvents(name: string, fingerprint: string, start: number, end?: number, service = 'orders'): StoredEvent[] {
  const details = { labels: { alertname: name, service, severity: 'major' }, startsAt: at(start).toISOString() };
  const base = { actor: 'alertmanager', alertName: name, fingerprint, severity: 'major', details };
  const events = [
    stored({ ...base, step: 'detected', occurredAt: at(start) }),
    stored({ ...base, step: 'paged', occurredAt: at(start + 5) }),
  ];
  if (end !== undefined) events.push(stored({ ...base, step: 'resolved', occurredAt: at(end) }));
  return events;
}
const options = { pendingSeconds: () => 60 };

describe('incidents derived from the timeline', () => {
  test('for any set of alert lifetimes, incidents are the overlapping groups: first firing to last resolve', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ start: fc.integer({ min: 0, max: 5000 }), length: fc.integer({ min: 1, max: 600 }) }), { minLength: 1, maxLength: 12 }),
        (lifetimes) => {
          const events = lifetimes.flatMap((l, i) => alertEvents(`Alert${i}`, `f${i}`, l.start, l.start + l.length));
          // Expected: merge intervals sorted by start; one that starts after the open group's end opens a new one.
          const sorted = [...lifetimes].sort((a, b) => a.start - b.start);
          const groups: { start: number; end: number }[] = [];
          for (const l of sorted) {
            const last = groups.at(-1);
            if (last && l.start <= last.end) last.end = Math.max(last.end, l.start + l.length);
            else groups.push({ start: l.start, end: l.start + l.length });
          }
          const incidents = deriveIncidents(events, options);
          expect(incidents.map((i) => [i.detectedAt.getTime(), i.recoveredAt?.getTime()])).toEqual(
            groups.map((g) => [at(g.start).getTime(), at(g.end).getTime()]),
          );
        },
      ),
    );
  });

  test('a drill set after one incident closed is the onset of the next, not an action of the last', () => {
    const events = [
      ...alertEvents('OrdersPopularLatencyHigh', 'a', 100, 200),
      stored({ step: 'action', action: 'drill_set', actor: 'gameday', occurredAt: at(300) }),
      ...alertEvents('OrdersStatusLatencyHigh', 'b', 380, 500),
    ];
    const [first, second] = deriveIncidents(events, options);
    expect(first!.events.some((e) => e.action === 'drill_set')).toBe(false);
    expect(first).toMatchObject({ onsetSource: 'alert-pending', onsetAt: at(40) });
    expect(second).toMatchObject({ onsetSource: 'fault', onsetAt: at(300) });
    expect(phaseDurations(second!)).toEqual({ detect: 80, recover: 200 });
  });

  test('a drill set and cleared before any alert fired is not the onset of the next incident; a fault after it is', () => {
    for (const clearing of ['drill_cleared', 'fault_cleared'] as const) {
      const events = [
        stored({ step: 'action', action: 'drill_set', actor: 'gameday', occurredAt: at(100) }),
        stored({ step: 'action', action: clearing, actor: 'gameday', occurredAt: at(110) }),
        stored({ step: 'action', action: 'fault_injected', actor: 'gameday', occurredAt: at(200) }),
        ...alertEvents('OrdersServiceDown', 'c', 260, 400),
      ];
      expect(deriveIncidents(events, options)[0]).toMatchObject({ onsetSource: 'fault', onsetAt: at(200) });
      const unrelated = deriveIncidents(events.filter((e) => e.action !== 'fault_injected'), options);
      expect(unrelated[0]).toMatchObject({ onsetSource: 'alert-pending', onsetAt: at(200) });
    }
  });

  test('turning drills off does not end a game day\'s injected fault (a stopped container), its own fault_cleared does', () => {
    const stop = stored({ step: 'action', action: 'fault_injected', actor: 'gameday', occurredAt: at(100) });
    const drillsOff = stored({ step: 'action', action: 'drill_cleared', actor: 'primary', occurredAt: at(120) });
    const alert = alertEvents('OrdersCacheUnavailable', 'r', 200, 300);
    expect(deriveIncidents([stop, drillsOff, ...alert], options)[0]).toMatchObject({ onsetSource: 'fault', onsetAt: at(100) });
    const cleared = stored({ step: 'action', action: 'fault_cleared', actor: 'gameday', occurredAt: at(120) });
    expect(deriveIncidents([stop, cleared, ...alert], options)[0]).toMatchObject({ onsetSource: 'alert-pending' });
  });

  test('acks, mitigations, verifications and reports after recovery belong to the incident they follow', () => {
    const events = [
      ...alertEvents('OrdersServiceDown', 'c', 100, 300),
      stored({ step: 'acknowledged', actor: 'primary', occurredAt: at(120) }),
      stored({ step: 'action', action: 'service_started', actor: 'orders', occurredAt: at(150) }),
      stored({ step: 'verified', actor: 'incident-cli', occurredAt: at(250), details: { passed: true } }),
      stored({ step: 'verified', actor: 'incident-cli', occurredAt: at(900), details: { passed: true } }),
      stored({ step: 'reported', actor: 'incident-cli', occurredAt: at(1000) }),
    ];
    const [incident] = deriveIncidents(events, options);
    // A verification before the last alert resolved is not the recovery's confirmation.
    expect(incident).toMatchObject({ acknowledgedBy: 'primary', mitigatedAt: at(150), verifiedAt: at(900), reportedAt: at(1000) });
    // Onset is detection minus the alert's pending time (60 s): 40 s.
    expect(phaseDurations(incident!)).toEqual({ detect: 60, acknowledge: 15, mitigate: 110, recover: 260 });
  });

  test('an ack recorded while nothing was firing is not the next incident\'s acknowledgement', () => {
    const events = [
      stored({ step: 'acknowledged', actor: 'secondary', occurredAt: at(50) }),
      ...alertEvents('OrdersStatusLatencyHigh', 'd', 100, 200),
      stored({ step: 'acknowledged', actor: 'primary', occurredAt: at(130) }),
    ];
    const [incident] = deriveIncidents(events, options);
    expect(incident).toMatchObject({ acknowledgedBy: 'primary', acknowledgedAt: at(130) });
    expect(phaseDurations(incident!).acknowledge).toBe(25);
  });

  test('alerts of the monitoring pipeline and Watchdog open no incident', () => {
    const events = [...alertEvents('Watchdog', 'w', 0), ...alertEvents('MonitoringTargetDown', 'm', 10, 50, 'monitoring')];
    expect(deriveIncidents(events, options)).toEqual([]);
  });

  test.each([
    ['2m', 120],
    ['1h30m', 5400],
    ['90s', 90],
    ['', 0],
  ])('Prometheus duration %s is %d s', (text, seconds) => {
    expect(durationSeconds(text)).toBe(seconds);
  });
  test.each([['2 m'], ['m'], ['1x']])('%s is not a Prometheus duration', (text) => {
    expect(() => durationSeconds(text)).toThrow('not a Prometheus duration');
  });
});
