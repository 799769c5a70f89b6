import { POPULAR_ROUTE, ROUTES, STATUS_ROUTE, type Severity } from '../../../contract';
import { RESPONSE_TARGETS_SECONDS } from '../../../contract/incident';

/** One fault or remedy the runner can apply. Drills go through the admin API; containers through docker compose. */
export type Step =
  | { kind: 'drill'; body: { queryLatencyMs?: { popular?: number; status?: number }; cacheBypass?: string[]; failingRoutes?: string[] } }
  | { kind: 'drill-clear' }
  | { kind: 'rate-limit'; requestsPerSecond: number }
  | { kind: 'rate-limit-clear' }
  | { kind: 'stop'; service: 'redis' | 'orders' }
  | { kind: 'start'; service: 'redis' | 'orders' };

export interface Scenario {
  name: string;
  /** Korean, for the game day record. */
  hypothesis: string;
  steadyState: string;
  abortCondition: string;
  /** The alerts this fault is expected to cause (the first is the page it waits for); any other service page aborts. */
  expectedAlerts: string[];
  /** Severity of the page it waits for: selects the detection target. */
  severity: Severity;
  inject: Step[];
  /** The runbook's temporary action (임시 조치), applied after the page. */
  mitigate: Step[];
  /** Removes the fault and the temporary action (완전 복구). */
  clear: Step[];
  /** Paths the steady traffic requests (GET) during the run. */
  traffic: string[];
}

const SLOW_MS = 1_500;
const DETECT = RESPONSE_TARGETS_SECONDS.detect;
const RESOLVED = `${RESPONSE_TARGETS_SECONDS.resolveNotice}초 안에 [복구]가 옵니다`;
const ABORT = '이 훈련이 일으키지 않은 서비스 알림이 신고되면 5초 안에 장애 주입을 되돌리고 중단합니다.';
const STEADY = '서비스 알림이 하나도 발생하지 않은 상태, 두 주요 API p95가 1초 미만';
/** The guide's two named routes, as a client calls them. */
const TRAFFIC = [POPULAR_ROUTE, `${STATUS_ROUTE}?userId=1`];
const popularDrill = { queryLatencyMs: { popular: SLOW_MS }, cacheBypass: ['popular_products'] };

/** The game day scenarios (`npm run gameday -- <name>`), each the guide's incident or a dependency failure. */
export const SCENARIOS: Record<string, Scenario> = {
  'popular-slow': {
    name: 'popular-slow',
    hypothesis: `인기 상품 조회 쿼리가 ${SLOW_MS}ms 느려지고 캐시가 적용되지 않으면, ${DETECT.major}초 안에 OrdersPopularLatencyHigh(Major)가 신고되고, 트래픽 제한 후 장애를 제거하면 ${RESOLVED}.`,
    steadyState: STEADY,
    abortCondition: ABORT,
    expectedAlerts: ['OrdersPopularLatencyHigh', 'OrdersPopularCacheHitRatioLow', 'OrdersDatabaseQuerySlow', 'OrdersDatabasePoolSaturated', 'OrdersEndpointErrorRateHigh'],
    severity: 'major',
    inject: [{ kind: 'drill', body: popularDrill }],
    mitigate: [{ kind: 'rate-limit', requestsPerSecond: 20 }],
    clear: [{ kind: 'drill-clear' }, { kind: 'rate-limit-clear' }],
    traffic: TRAFFIC,
  },
  'status-slow': {
    name: 'status-slow',
    hypothesis: `주문 상태 조회 쿼리가 ${SLOW_MS}ms 느려지면, ${DETECT.major}초 안에 OrdersStatusLatencyHigh(Major)가 신고되고, 장애를 제거하면 ${RESOLVED}.`,
    steadyState: STEADY,
    abortCondition: ABORT,
    expectedAlerts: ['OrdersStatusLatencyHigh', 'OrdersDatabaseQuerySlow', 'OrdersDatabasePoolSaturated', 'OrdersEndpointErrorRateHigh'],
    severity: 'major',
    inject: [{ kind: 'drill', body: { queryLatencyMs: { status: SLOW_MS } } }],
    mitigate: [{ kind: 'rate-limit', requestsPerSecond: 20 }],
    clear: [{ kind: 'drill-clear' }, { kind: 'rate-limit-clear' }],
    traffic: TRAFFIC,
  },
  'redis-down': {
    name: 'redis-down',
    hypothesis: 'Redis가 멈추면 OrdersCacheUnavailable(Minor)가 신고되고 서비스는 캐시 없이 응답하며, Redis를 다시 시작하면 [복구]가 옵니다.',
    steadyState: STEADY,
    abortCondition: ABORT,
    expectedAlerts: ['OrdersCacheUnavailable', 'OrdersPopularCacheHitRatioLow', 'OrdersDatabaseQuerySlow', 'MonitoringTargetDown'],
    severity: 'minor',
    inject: [{ kind: 'stop', service: 'redis' }],
    mitigate: [],
    clear: [{ kind: 'start', service: 'redis' }],
    traffic: TRAFFIC,
  },
  'service-down': {
    name: 'service-down',
    hypothesis: `주문 서비스 프로세스가 멈추면 ${DETECT.critical}초 안에 OrdersServiceDown(Critical)이 신고되고, 재시작하면 ${RESOLVED}.`,
    steadyState: STEADY,
    abortCondition: ABORT,
    expectedAlerts: ['OrdersServiceDown', 'OrdersApiProbeFailing'],
    severity: 'critical',
    inject: [{ kind: 'stop', service: 'orders' }],
    mitigate: [{ kind: 'start', service: 'orders' }],
    clear: [],
    traffic: TRAFFIC,
  },
  mixed: {
    name: 'mixed',
    hypothesis: `인기 상품 조회가 느려지는 동시에 주문 상태 조회(GET ${STATUS_ROUTE})가 5xx로 실패하면, 두 알림(지연, 오류)이 각각 신고되고 두 장애를 모두 제거하면 [복구]가 옵니다.`,
    steadyState: STEADY,
    abortCondition: ABORT,
    // On a stack up for more than an hour, half the status requests failing also burns the availability budget fast.
    expectedAlerts: ['OrdersPopularLatencyHigh', 'OrdersEndpointErrorRateHigh', 'OrdersPopularCacheHitRatioLow', 'OrdersDatabaseQuerySlow', 'OrdersDatabasePoolSaturated', 'OrdersHighErrorRate', 'OrdersAvailabilityBudgetBurn'],
    severity: 'major',
    inject: [{ kind: 'drill', body: { ...popularDrill, failingRoutes: [`${ROUTES.orderStatus.method} ${STATUS_ROUTE}`] } }],
    mitigate: [{ kind: 'rate-limit', requestsPerSecond: 20 }],
    clear: [{ kind: 'drill-clear' }, { kind: 'rate-limit-clear' }],
    traffic: TRAFFIC,
  },
};
