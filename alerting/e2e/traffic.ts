export interface Outcome {
  path: string;
  status: number;
  ms: number;
  at: number;
}

/**
 * Steady shopper traffic in an open model: each path is requested at its own fixed rate whether or not earlier
 * requests have answered, so a slow service is not hidden by the load generator waiting for it.
 */
export function steadyTraffic(baseUrl: string, perSecond: Record<string, number>) {
  const outcomes: Outcome[] = [];
  const timers = Object.entries(perSecond).map(([path, rate]) =>
    setInterval(() => {
      const started = performance.now();
      const at = Date.now();
      fetch(`${baseUrl}${path}`)
        .then(async (response) => {
          await response.arrayBuffer();
          outcomes.push({ path, status: response.status, ms: performance.now() - started, at });
        })
        .catch(() => outcomes.push({ path, status: 0, ms: performance.now() - started, at }));
    }, 1000 / rate),
  );
  return {
    outcomes,
    between: (from: number, to = Date.now()) => outcomes.filter((o) => o.at >= from && o.at <= to),
    stop: () => timers.forEach(clearInterval),
  };
}
