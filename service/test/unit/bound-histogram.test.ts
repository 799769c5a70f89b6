import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { BoundHistogram } from '../../src/telemetry/bound-histogram';
import { HTTP_DURATION_BUCKETS_SECONDS } from '../../../contract';

/** Samples of an exposition text as "name{sorted labels} value" lines, so label order does not matter. */
function samples(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([^{ ]+)(?:\{(.*)\})? (.+)$/.exec(line)!;
      const labels = (match[2] ?? '').split(/,(?=[a-z_]+=")/).filter(Boolean).sort().join(',');
      return `${match[1]}{${labels}} ${Number(match[3])}`;
    })
    .sort();
}

const LABELS = ['method', 'route', 'status'] as const;
const labelSets = [
  ['GET', '/api/orders/popular', '200'],
  ['GET', '/api/orders/status', '404'],
  ['POST', '/api/orders', '201'],
] as const;

describe('BoundHistogram', () => {
  test('exposes exactly the samples prom-client’s Histogram exposes for the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: labelSets.length - 1 }),
            fc.oneof(fc.constantFrom(...HTTP_DURATION_BUCKETS_SECONDS, 0), fc.double({ min: 0, max: 30, noNaN: true })),
          ),
          { maxLength: 200 },
        ),
        async (observations) => {
          const [ours, theirs] = [new Registry(), new Registry()];
          const bound = new BoundHistogram('duration_seconds', 'Durations.', LABELS, HTTP_DURATION_BUCKETS_SECONDS, ours);
          const reference = new Histogram({ name: 'duration_seconds', help: 'Durations.', labelNames: LABELS, buckets: HTTP_DURATION_BUCKETS_SECONDS, registers: [theirs] });
          const observers = labelSets.map((set) => bound.labels(...set));
          for (const [which, value] of observations) {
            observers[which]!.observe(value);
            reference.labels(...labelSets[which]!).observe(value);
          }
          // prom-client prints series only once observed; so does BoundHistogram once labels() bound them.
          for (const set of labelSets) reference.labels(...set).observe(0);
          for (const observer of observers) observer.observe(0);

          expect(samples(await ours.metrics())).toEqual(samples(await theirs.metrics()));
          expect(await ours.metrics()).toContain('# TYPE duration_seconds histogram');
        },
      ),
      { numRuns: 100 },
    );
  });

  test('reset zeroes every series and keeps handed-out observers working', async () => {
    const registry = new Registry();
    const histogram = new BoundHistogram('d_seconds', 'D.', ['route'], [0.1, 1], registry);
    const observer = histogram.labels('/a');
    observer.observe(0.5);
    registry.resetMetrics();
    observer.observe(2);

    expect(samples(await registry.metrics())).toEqual(
      ['d_seconds_bucket{le="+Inf",route="/a"} 1', 'd_seconds_bucket{le="0.1",route="/a"} 0', 'd_seconds_bucket{le="1",route="/a"} 0', 'd_seconds_count{route="/a"} 1', 'd_seconds_sum{route="/a"} 2'].sort(),
    );
  });

  test('refuses buckets that do not increase and a wrong number of label values', () => {
    expect(() => new BoundHistogram('x_seconds', 'X.', ['a'], [1, 1], new Registry())).toThrow(/increase/);
    expect(() => new BoundHistogram('y_seconds', 'Y.', ['a', 'b'], [1], new Registry()).labels('only-one')).toThrow(/2 label values/);
  });
});
