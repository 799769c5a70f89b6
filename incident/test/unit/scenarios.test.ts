import { ALERTS } from '../../../alerting/catalog';
import { SCENARIOS } from '../../src/gameday/scenarios';

const byName = new Map(ALERTS.map((a) => [a.name, a]));

describe.each(Object.values(SCENARIOS))('game day scenario $name', (scenario) => {
  test('names only alerts of the catalog (a typo would make the run wait for a page that never comes, or abort)', () => {
    expect(scenario.expectedAlerts.filter((name) => !byName.has(name))).toEqual([]);
  });

  test('waits for a page of the severity it is scored against', () => {
    expect(byName.get(scenario.expectedAlerts[0]!)?.severity).toBe(scenario.severity);
  });

  test('clears what it injects', () => {
    const undo: Record<string, string> = { drill: 'drill-clear', stop: 'start' };
    for (const step of scenario.inject) {
      const wanted = undo[step.kind];
      expect([...scenario.mitigate, ...scenario.clear].some((s) => s.kind === wanted && ('service' in step ? 'service' in s && s.service === step.service : true))).toBe(true);
    }
  });
});
