/**
 * Alertmanager high availability, as compose runs it: two instances clustered by gossip, each receiving every alert
 * (Prometheus sends to both). Two real Alertmanager processes (Debian's binary) with the project configuration on
 * localhost, and a stand-in Slack. One is stopped in the middle of an incident: every alert group is still paged
 * exactly once, an alert that starts while only one runs is paged, and the resolves arrive.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { freePort, SLACK_PATHS, startAlertmanager } from '../../alerting/test/support/alertmanager';
import { ROOT } from '../../alerting/test/support/tools';
import { startWebhookReceiver, type Delivery } from '../../alerting/test/support/webhook-receiver';

type Alertmanager = Awaited<ReturnType<typeof startAlertmanager>>;
interface Rule { alert?: string; labels?: Record<string, string>; annotations?: Record<string, string> }

const rules: Rule[] = parse(readFileSync(path.join(ROOT, 'alerting/rules/orders.rules.yml'), 'utf8')).groups.flatMap((g: { rules: Rule[] }) => g.rules);
// Major alerts only: no critical one to inhibit them, each its own group (group_by alertname, service, http_route).
const majors = rules.filter((r) => r.alert && r.labels?.severity === 'major').slice(0, 3);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function alertOf(rule: Rule, startsAt: Date, endsAt?: Date) {
  return {
    labels: { alertname: rule.alert!, ...rule.labels, http_route: '/ha-test' },
    annotations: rule.annotations,
    startsAt: startsAt.toISOString(),
    ...(endsAt ? { endsAt: endsAt.toISOString() } : {}),
    generatorURL: 'http://localhost:9090/graph',
  };
}

/** The pages of one alert group at the major channel: firing and resolved, by the title the templates render. */
function pagesOf(deliveries: Delivery[], alertname: string) {
  const titles = deliveries.map((d) => String(d.body.attachments[0].title)).filter((t) => t.endsWith(`· ${alertname}`));
  return { firing: titles.filter((t) => t.startsWith('[장애 발생]')).length, resolved: titles.filter((t) => t.startsWith('[복구]')).length };
}

describe('two clustered Alertmanagers with the project configuration', () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let instances: Alertmanager[] = [];

  beforeAll(async () => {
    expect(majors).toHaveLength(3);
    receiver = await startWebhookReceiver();
    const gossip = [await freePort(), await freePort()];
    instances = await Promise.all(
      gossip.map((listenPort, i) =>
        startAlertmanager(receiver.url, {
          cluster: { listenPort, peers: [`127.0.0.1:${gossip[1 - i]}`], peerTimeout: '2s' },
        }),
      ),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(instances.map((am) => am.stop().catch(() => undefined)));
    await receiver?.close();
  });

  test('one instance stops mid-incident: one page per alert group, none lost, and the resolves arrive', async () => {
    // Both see each other before the incident starts.
    const statuses = await waitFor('a cluster of two', async () => {
      const all = await Promise.all(instances.map((am) => fetch(`${am.url}/api/v2/status`).then((r) => r.json() as Promise<any>)));
      return all.every((s) => s.cluster.status === 'ready' && s.cluster.peers.length === 2) ? all : undefined;
    });
    // The instance at position 0 (first peer name in order) notifies first; the other waits a peer timeout and only
    // sends what the first has not. Stopping the first is the case that matters.
    const names: string[] = statuses.map((s) => s.cluster.name);
    const first = names.indexOf([...names].sort()[0]!);
    const [stopped, survivor] = [instances[first]!, instances[1 - first]!];

    const startsAt = new Date();
    const [a, b, c] = majors as [Rule, Rule, Rule];
    // Prometheus re-sends firing alerts to every Alertmanager each evaluation; here every 500 ms.
    let live: Alertmanager[] = [...instances];
    let firing = [alertOf(a, startsAt), alertOf(b, startsAt)];
    let sending = true;
    const resend = (async () => {
      while (sending) {
        await Promise.all(live.map((am) => am.post(firing).catch(() => undefined)));
        await sleep(500);
      }
    })();

    const major = () => receiver.to(SLACK_PATHS.major);
    await waitFor('the first pages of both groups', () =>
      pagesOf(major(), a.alert!).firing >= 1 && pagesOf(major(), b.alert!).firing >= 1 ? true : undefined,
    );
    // Long enough for the second instance's own turn (peer timeout 2s): it must find the first's notifications.
    await sleep(4_000);

    live = [survivor];
    await stopped.stop();
    instances = [survivor];
    // A new alert group while one instance is down: it must still be paged.
    firing = [...firing, alertOf(c, new Date())];
    await waitFor('the page of an alert that started after the stop', () => (pagesOf(major(), c.alert!).firing >= 1 ? true : undefined));
    await sleep(3_000);

    // Resolve everything on the survivor.
    sending = false;
    await resend;
    const endsAt = new Date();
    await survivor.post([a, b, c].map((rule) => alertOf(rule, startsAt, endsAt)));
    await waitFor(
      'the resolves of every group',
      () => ([a, b, c].every((rule) => pagesOf(major(), rule.alert!).resolved >= 1) ? true : undefined),
    );
    await sleep(3_000); // any duplicate would arrive within a few group intervals (1s in the test configuration)

    const pages = Object.fromEntries([a, b, c].map((rule) => [rule.alert!, pagesOf(major(), rule.alert!)]));
    expect(pages).toEqual(Object.fromEntries([a, b, c].map((rule) => [rule.alert!, { firing: 1, resolved: 1 }])));
  }, 120_000);
});
