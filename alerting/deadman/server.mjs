// The dead man's switch, outside Prometheus and Alertmanager: Alertmanager posts the always-firing Watchdog alert
// here (webhook, every minute). When no heartbeat has arrived for DEADMAN_SILENCE_SECONDS, this posts a page
// straight to the critical Slack webhook; when heartbeats come back, it posts the [복구]. Plain Node, no packages.
//
// Environment:
//   PORT                       listen port (default 8080)
//   DEADMAN_SILENCE_SECONDS    N: seconds without a heartbeat before it pages (default 180: three missed beats)
//   DEADMAN_CHECK_SECONDS      how often it looks (default 5)
//   SLACK_WEBHOOK_URL_CRITICAL, else SLACK_WEBHOOK_URL, else DEADMAN_FALLBACK_URL: where the page goes
//   RUNBOOK_URL                the runbook linked from the page
// Endpoints: POST /heartbeat (Alertmanager webhook payload with a firing Watchdog alert), GET /status (JSON).
import http from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const silenceMs = Number(process.env.DEADMAN_SILENCE_SECONDS ?? 180) * 1000;
const checkMs = Number(process.env.DEADMAN_CHECK_SECONDS ?? 5) * 1000;
const webhook = process.env.SLACK_WEBHOOK_URL_CRITICAL || process.env.SLACK_WEBHOOK_URL || process.env.DEADMAN_FALLBACK_URL || '';
const runbook = process.env.RUNBOOK_URL ?? 'http://localhost:9998/Watchdog.html';
const startedAt = Date.now();

/** lastBeat: ms of the last heartbeat (null before the first); down: ms when the silence was paged (null when not). */
const state = { lastBeat: null, down: null, pages: 0 };

const log = (message, extra = {}) => console.log(JSON.stringify({ at: new Date().toISOString(), message, ...extra }));
// KST is UTC+9 all year (no daylight saving time).
const kst = (ms) => `${new Date(ms + 9 * 3600_000).toISOString().replace('T', ' ').slice(0, 19)} KST`;

async function post(title, color, lines) {
  const body = {
    channel: '#orders-critical',
    link_names: true,
    attachments: [{ title, color, text: lines.join('\n'), ...(color === 'danger' ? { pretext: '<!channel> 알림 파이프라인이 멈췄습니다. 장애가 나도 알림이 오지 않습니다.' } : {}) }],
  };
  if (!webhook) return log('no webhook configured; page not sent', { title });
  try {
    const response = await fetch(webhook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    log('page sent', { title, status: response.status });
  } catch (error) {
    log('page failed', { title, error: String(error) });
  }
}

async function check() {
  const now = Date.now();
  const since = state.lastBeat ?? startedAt;
  if (state.down === null && now - since >= silenceMs) {
    state.down = now;
    state.pages++;
    await post('[장애 발생] Critical (감시 중단) · WatchdogHeartbeatMissing', 'danger', [
      `*알림 파이프라인 하트비트가 ${Math.round(silenceMs / 1000)}초 넘게 오지 않습니다*`,
      '• 장애 수준: Critical (서비스 전체 장애 여부를 알 수 없음)',
      '• 상태: 진행 중',
      `• 발생 시간: ${kst(since)} (${state.lastBeat === null ? '데드맨 스위치 시작, 하트비트 없음' : '마지막 하트비트'})`,
      `• 감지 시간: ${kst(now)}`,
      '• 증상: Prometheus → Alertmanager → 데드맨 스위치로 매분 오던 Watchdog 하트비트가 끊겼습니다. Prometheus나 Alertmanager가 죽었거나 서로 연결되지 않습니다.',
      '• 영향 범위: 사용자 영향은 알 수 없습니다. 이 동안 다른 어떤 장애 알림도 오지 않습니다.',
      `• 링크: <${runbook}|런북>`,
    ]);
  }
}

function heartbeat(payload) {
  const alerts = Array.isArray(payload?.alerts) ? payload.alerts : [];
  if (!alerts.some((a) => a?.labels?.alertname === 'Watchdog' && a?.status === 'firing')) return false;
  const now = Date.now();
  state.lastBeat = now;
  if (state.down !== null) {
    const down = state.down;
    state.down = null;
    void post('[복구] Critical (감시 중단) · WatchdogHeartbeatMissing', 'good', [
      '*알림 파이프라인 하트비트가 다시 들어옵니다*',
      '• 상태: 복구됨',
      `• 감지 시간: ${kst(down)}`,
      `• 복구 시간: ${kst(now)}`,
      '• 증상: 하트비트가 끊긴 동안의 장애는 알림으로 오지 않았습니다. Grafana와 Prometheus에서 그 시간대를 확인하세요.',
      `• 링크: <${runbook}|런북>`,
    ]);
  }
  return true;
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/status') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...state, silenceSeconds: silenceMs / 1000 }));
    return;
  }
  if (req.method !== 'POST' || req.url !== '/heartbeat') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    if (body.length < 1_000_000) body += chunk;
  });
  req.on('end', () => {
    let payload;
    try {
      payload = JSON.parse(body);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('body must be an Alertmanager webhook payload (JSON)');
      return;
    }
    if (!heartbeat(payload)) {
      res.writeHead(422, { 'content-type': 'text/plain' }).end('no firing Watchdog alert in the payload');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});

setInterval(() => void check(), checkMs).unref();
server.listen(port, () => log(`dead man's switch on :${port}, pages after ${silenceMs / 1000} s without a heartbeat`, { webhook: webhook ? 'set' : 'none' }));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
