/**
 * Orders · Service overview: RED per route, the process, and whether Prometheus and the outside world can reach the
 * service. OrdersServiceDown / MonitoringTargetDown link to "targets up", OrdersApiProbeFailing to "API probe",
 * OrdersHighErrorRate / OrdersEndpointErrorRateHigh to "5xx error ratio", OrdersEventLoopLagHigh to "event loop lag".
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { THRESHOLDS, WINDOWS } from '../../../contract';
import { PANELS } from '../../../contract';
import {
  COLORS,
  RATE_INTERVAL,
  SERVICE,
  baseDashboard,
  defaultTimeseries,
  latencyTimeseries,
  percent,
  percentile,
  promQuery,
  quantile,
  rate,
  ratioTimeseries,
  row,
  serverErrorRatio,
  thresholdLines,
  thresholds,
  upStat,
} from './common';

const P = PANELS.overview;

/** Extra panels (not linked from alerts): ids outside the contract. */
const EXTRA = {
  rowRequests: 100,
  rowRuntime: 101,
  rowReachability: 102,
  rowBusiness: 103,
  cpu: 110,
  probeDuration: 111,
  orderOutcomes: 112,
  orderRejections: 113,
} as const;

const ROUTE = ['http_request_method', 'http_route'];

export function requestRatePanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(P.requestRate)
    .title('Request rate by route')
    .description('Requests per second the service answered, per method and route template (any status).')
    .unit('reqps')
    .min(0)
    .withTarget(
      promQuery(`sum by (${ROUTE.join(', ')}) (${rate('http_server_request_duration_seconds_count', SERVICE)})`, {
        legend: '{{http_request_method}} {{http_route}}',
      }),
    )
    .span(8);
}

export function errorRatioPanel(): timeseries.PanelBuilder {
  return ratioTimeseries()
    .id(P.errorRatio)
    .title('5xx error ratio (overall and by route)')
    .description(
      `Share of requests answered with 5xx over ${WINDOWS.requests}, as the alerts compute it. ` +
        `Lines: ${percent(THRESHOLDS.routeErrorRatio)} for one key route (Major), ` +
        `${percent(THRESHOLDS.serviceErrorRatio)} for the whole service (Critical).`,
    )
    .thresholds(
      thresholds(COLORS.ok, [
        { value: THRESHOLDS.routeErrorRatio, color: COLORS.warning },
        { value: THRESHOLDS.serviceErrorRatio, color: COLORS.critical },
      ]),
    )
    .thresholdsStyle(thresholdLines())
    .withTarget(promQuery(serverErrorRatio('', WINDOWS.requests), { legend: 'all routes', refId: 'A' }))
    .withTarget(
      promQuery(serverErrorRatio('', WINDOWS.requests, ROUTE), {
        legend: '{{http_request_method}} {{http_route}}',
        refId: 'B',
      }),
    )
    .overrideByName('all routes', [{ id: 'custom.lineWidth', value: 3 }])
    .span(8);
}

export function latencyPanel(): timeseries.PanelBuilder {
  const bucket = 'http_server_request_duration_seconds';
  const q = (value: number, refId: string) =>
    promQuery(quantile(value, bucket, SERVICE, WINDOWS.requests, ROUTE), {
      legend: `${percentile(value)} {{http_request_method}} {{http_route}}`,
      refId,
    });
  return latencyTimeseries()
    .id(P.latency)
    .title('Latency p50 / p95 / p99 by route')
    .description(
      `Request duration quantiles per route over ${WINDOWS.requests}. The red line is the incident guide's ${THRESHOLDS.latencySeconds} s.`,
    )
    .withTarget(q(0.5, 'A'))
    .withTarget(q(THRESHOLDS.latencyQuantile, 'B'))
    .withTarget(q(0.99, 'C'))
    .span(8);
}

export function inFlightPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(P.inFlight)
    .title('In-flight requests')
    .description('Requests being served at scrape time. A climb with flat request rate means requests are waiting.')
    .unit('short')
    .min(0)
    .decimals(0)
    .withTarget(promQuery(`sum(http_server_active_requests{${SERVICE}})`, { legend: 'in flight' }))
    .span(6);
}

export function eventLoopLagPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(P.eventLoopLag)
    .title('Event loop lag')
    .description(`Node.js event loop lag; the alert fires when p99 stays above ${THRESHOLDS.eventLoopLagSeconds} s.`)
    .unit('s')
    .min(0)
    .thresholds(thresholds(COLORS.ok, [{ value: THRESHOLDS.eventLoopLagSeconds, color: COLORS.critical }]))
    .thresholdsStyle(thresholdLines())
    .withTarget(promQuery(`nodejs_eventloop_lag_p99_seconds{${SERVICE}}`, { legend: 'p99 {{instance}}', refId: 'A' }))
    .withTarget(promQuery(`nodejs_eventloop_lag_p50_seconds{${SERVICE}}`, { legend: 'p50 {{instance}}', refId: 'B' }))
    .span(6);
}

export function memoryPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(P.memory)
    .title('Memory')
    .description('Resident set size of the process and the V8 heap in use.')
    .unit('bytes')
    .min(0)
    .withTarget(promQuery(`process_resident_memory_bytes{${SERVICE}}`, { legend: 'resident {{instance}}', refId: 'A' }))
    .withTarget(promQuery(`nodejs_heap_size_used_bytes{${SERVICE}}`, { legend: 'heap used {{instance}}', refId: 'B' }))
    .span(6);
}

export function cpuPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(EXTRA.cpu)
    .title('CPU')
    .description('CPU time used per second (1 = one core busy). Node runs JavaScript on one core.')
    .unit('percentunit')
    .min(0)
    .withTarget(promQuery(rate('process_cpu_seconds_total', SERVICE), { legend: 'cpu {{instance}}' }))
    .span(6);
}

export function targetsUpPanel(): stat.PanelBuilder {
  return upStat()
    .id(P.targetsUp)
    .title('Targets up (by job)')
    .description(
      'Whether Prometheus can scrape each job (min of `up` over its instances). A missing tile is a job Prometheus no longer knows.',
    )
    .withTarget(promQuery('min by (job) (up)', { legend: '{{job}}', instant: true }))
    .span(10);
}

export function probePanel(): stat.PanelBuilder {
  return upStat('OK', 'FAILING')
    .id(P.probe)
    .title('API probe (blackbox)')
    .description('Whether the blackbox probe reaches the API the way users do, per probed URL (`probe_success`).')
    .withTarget(promQuery('probe_success{job="blackbox-api"}', { legend: '{{instance}}', instant: true }))
    .span(6);
}

export function probeDurationPanel(): timeseries.PanelBuilder {
  return latencyTimeseries()
    .id(EXTRA.probeDuration)
    .title('API probe duration (blackbox)')
    .description(`How long the external probe took, per URL, against the ${THRESHOLDS.latencySeconds} s line.`)
    .withTarget(promQuery('probe_duration_seconds{job="blackbox-api"}', { legend: '{{instance}}' }))
    .span(8);
}

export function orderOutcomesPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(EXTRA.orderOutcomes)
    .title('Orders created / cancelled / rejected')
    .description('Business outcomes per second.')
    .unit('ops')
    .min(0)
    .withTarget(promQuery(`sum(${rate('orders_created_total', SERVICE)})`, { legend: 'created', refId: 'A' }))
    .withTarget(promQuery(`sum(${rate('orders_cancelled_total', SERVICE)})`, { legend: 'cancelled', refId: 'B' }))
    .withTarget(promQuery(`sum(${rate('orders_rejected_total', SERVICE)})`, { legend: 'rejected', refId: 'C' }))
    .span(12);
}

export function orderRejectionsPanel(): timeseries.PanelBuilder {
  return defaultTimeseries()
    .id(EXTRA.orderRejections)
    .title('Orders rejected by reason')
    .description('Rejected orders per second by reason (out of stock, insufficient balance, …).')
    .unit('ops')
    .min(0)
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
    .withTarget(promQuery(`sum by (reason) (${rate('orders_rejected_total', SERVICE)})`, { legend: '{{reason}}' }))
    .span(12);
}

export function overviewDashboard(): dashboard.DashboardBuilder {
  return baseDashboard('overview', 'RED per route, the Node.js process, scrape targets and the external probe.')
    .withRow(row(EXTRA.rowRequests, '요청: 처리량, 오류, 지연 (RED)'))
    .withPanel(requestRatePanel())
    .withPanel(errorRatioPanel())
    .withPanel(latencyPanel())
    .withRow(row(EXTRA.rowRuntime, '프로세스 (Node.js)'))
    .withPanel(inFlightPanel())
    .withPanel(eventLoopLagPanel())
    .withPanel(memoryPanel())
    .withPanel(cpuPanel())
    .withRow(row(EXTRA.rowReachability, '수집 대상, 외부 프로브'))
    .withPanel(targetsUpPanel().height(7))
    .withPanel(probePanel().height(7))
    .withPanel(probeDurationPanel().height(7))
    .withRow(row(EXTRA.rowBusiness, '주문 처리 결과'))
    .withPanel(orderOutcomesPanel())
    .withPanel(orderRejectionsPanel());
}
