/**
 * Orders · Load tests: the runs of `npm run loadtest`, pushed to the Pushgateway (job "loadtest", one group per
 * scenario, names in contract LOADTEST_METRICS), next to the service's own view of the same routes. The latest run of
 * each scenario stays in the Pushgateway, so the verdict panels show it until the next run replaces it.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { LABELS, LOADTEST_JOB, LOADTEST_METRICS as M, PANELS, POPULAR_ROUTE, STATUS_ROUTE, THRESHOLDS } from '../../../contract';
import { baseDashboard, COLORS, defaultStat, defaultTimeseries, latencyTimeseries, percentile, promQuery, quantile, ratioTimeseries, SERVICE, thresholds, upDownMappings } from './common';

const P = PANELS.loadtest;
const JOB = `job="${LOADTEST_JOB}"`;
/** Pushes every 5 s, scraped every 15 s: a minute holds several scrapes of a running test. */
const WINDOW = '1m';
const Q = THRESHOLDS.latencyQuantile;

export function runVerdictPanel(): stat.PanelBuilder {
  return defaultStat()
    .id(P.runVerdict)
    .title('Latest run per scenario')
    .description(`PASS when every endpoint kept its ${percentile(Q)} within ${THRESHOLDS.latencySeconds} s and its 5xx + no-answer share within the route threshold (contract THRESHOLDS); the same verdict as the exit status of npm run loadtest.`)
    .mappings(upDownMappings('PASS', 'FAIL'))
    .thresholds(thresholds(COLORS.critical, [{ value: 1, color: COLORS.ok }]))
    .withTarget(promQuery(`${M.runPassed}{${JOB}}`, { legend: '{{scenario}}', instant: true }))
    .span(12);
}

export function lastRunPanel(): stat.PanelBuilder {
  return defaultStat()
    .id(P.lastRun)
    .title('Last push per scenario')
    .description('When each scenario last pushed its results (push_time_seconds, set by the Pushgateway). A running test pushes every 5 s.')
    .unit('dateTimeFromNow')
    .colorMode(common.BigValueColorMode.None)
    .withTarget(promQuery(`max by (scenario) (push_time_seconds{${JOB}}) * 1000`, { legend: '{{scenario}}', instant: true }))
    .span(12);
}

export function latencyPanel(): timeseries.PanelBuilder {
  return latencyTimeseries()
    .id(P.latency)
    .title(`Load test ${percentile(Q)} latency per endpoint`)
    .description(`As the load generator measures it (queueing on its side included), over ${WINDOW}, with the incident line at ${THRESHOLDS.latencySeconds} s.`)
    .withTarget(promQuery(quantile(Q, M.requestDuration, JOB, WINDOW, ['scenario', 'endpoint']), { legend: '{{scenario}} {{endpoint}}' }))
    .span(12);
}

export function serviceLatencyPanel(): timeseries.PanelBuilder {
  const routes = `${LABELS.route}=~"${POPULAR_ROUTE}|${STATUS_ROUTE}"`;
  return latencyTimeseries()
    .id(P.serviceLatency)
    .title(`Service ${percentile(Q)} latency, the guide's endpoints`)
    .description('The same window as the service measures itself (job orders): a gap to the load test panel is time spent outside the service (network, queueing in the generator).')
    .withTarget(promQuery(quantile(Q, 'http_server_request_duration_seconds', `${SERVICE},${routes}`, WINDOW, [LABELS.route]), { legend: `{{${LABELS.route}}}` }))
    .span(12);
}

export function arrivalRatePanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(P.arrivalRate)
    .title('Answers per second vs the planned arrival rate')
    .description('Answers per second per endpoint, and the planned rate (dashed). Answers below the plan while the test runs: the service did not keep up.')
    .unit('reqps')
    .min(0)
    .withTarget(promQuery(`sum by (scenario, endpoint) (rate(${M.requestDuration}_count{${JOB}}[${WINDOW}]))`, { legend: '{{scenario}} {{endpoint}}' }))
    .withTarget(promQuery(`${M.targetRate}{${JOB}} and on (scenario) (${M.runActive}{${JOB}} == 1)`, { legend: 'planned {{scenario}} {{endpoint}}', refId: 'B' }))
    .overrides([{ matcher: { id: 'byRegexp', options: '^planned.*' }, properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }] }])
    .span(12);
}

export function failuresPanel(): timeseries.PanelBuilder {
  // Answered + unanswered; an endpoint that never answered has no duration series, so that side counts as 0.
  const unanswered = `sum by (scenario, endpoint) (rate(${M.unanswered}{${JOB}}[${WINDOW}]))`;
  const attempts = `(sum by (scenario, endpoint) (rate(${M.requestDuration}_count{${JOB}}[${WINDOW}])) or ${unanswered} * 0) + ${unanswered}`;
  const failures = `sum by (scenario, endpoint) (rate(${M.responses}{${JOB},${LABELS.status}=~"5.."}[${WINDOW}]) or rate(${M.unanswered}{${JOB}}[${WINDOW}]))`;
  return ratioTimeseries()
    .id(P.failures)
    .title('5xx + no answer, share of requests')
    .description(`Fails an endpoint over ${THRESHOLDS.routeErrorRatio * 100} % (contract THRESHOLDS.routeErrorRatio).`)
    .thresholds(thresholds(COLORS.ok, [{ value: THRESHOLDS.routeErrorRatio, color: COLORS.critical }]))
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Line))
    .withTarget(promQuery(`(${failures}) / (${attempts})`, { legend: '{{scenario}} {{endpoint}}' }))
    .span(12);
}

export function judgedLatencyPanel(): stat.PanelBuilder {
  return defaultStat()
    .id(P.judgedLatency)
    .title(`Latest run: ${percentile(Q)} per endpoint (what the verdict judges)`)
    .description('Exact over every answer of the run (HdrHistogram in the generator), not estimated from buckets.')
    .unit('s')
    .thresholds(thresholds(COLORS.ok, [{ value: THRESHOLDS.latencySeconds, color: COLORS.critical }]))
    .withTarget(promQuery(`${M.judgedLatency}{${JOB}}`, { legend: '{{scenario}} {{endpoint}}', instant: true }))
    .span(12);
}

export function loadtestDashboard(): dashboard.DashboardBuilder {
  return baseDashboard('loadtest', 'npm run loadtest runs pushed to the Pushgateway: verdicts, latency and rate over time, next to the service.')
    .time({ from: 'now-6h', to: 'now' })
    .withPanel(runVerdictPanel())
    .withPanel(lastRunPanel())
    .withPanel(latencyPanel())
    .withPanel(serviceLatencyPanel())
    .withPanel(arrivalRatePanel())
    .withPanel(failuresPanel())
    .withPanel(judgedLatencyPanel());
}
