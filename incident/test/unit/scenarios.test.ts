import { ALERTS } from '../../../alerting/catalog';
import { pageBoundSeconds } from '../../../alerting/readme-table';
import { DETECT_MARGIN_SECONDS, RESPONSE_TARGETS_SECONDS } from '../../../contract/incident';
import { SCENARIOS } from '../../src/gameday/scenarios';

const byName = new Map(ALERTS.map((a) => [a.name, a]));

describe.each(Object.values(SCENARIOS))('game day scenario $name', (scenario) => {
  test('names only alerts of the catalog (a typo would make the run wait for a page that never comes, or abort)', () => {
    expect(scenario.expectedAlerts.filter((name) => !byName.has(name))).toEqual([]);
  });

  test('waits for a page of the severity it is scored against', () => {
    expect(byName.get(scenario.expectedAlerts[0]!)?.severity).toBe(scenario.severity);
  });

  test('the page it waits for can meet its detection target: the pipeline\'s timers leave the margin for observation and delivery', () => {
    const target = (RESPONSE_TARGETS_SECONDS.detect as Record<string, number | undefined>)[scenario.severity];
    const alert = byName.get(scenario.expectedAlerts[0]!)!;
    if (target === undefined) return; // Minor pages have no detection target
    const needed = pageBoundSeconds(alert) + DETECT_MARGIN_SECONDS;
    expect({ alert: alert.name, needed, fits: needed <= target }).toEqual({ alert: alert.name, needed, fits: true });
  });

  test('clears what it injects', () => {
    const undo: Record<string, string> = { drill: 'drill-clear', stop: 'start' };
    for (const step of scenario.inject) {
      const wanted = undo[step.kind];
      expect([...scenario.mitigate, ...scenario.clear].some((s) => s.kind === wanted && ('service' in step ? 'service' in s && s.service === step.service : true))).toBe(true);
    }
  });
});
