import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { parse, stringify } from 'yaml';
import { ROOT } from '../test/support/tools';
import { testAlertmanagerConfig } from '../test/support/alertmanager';

/**
 * The monitoring half of the stack, in containers on the host network so they reach the in-process service and
 * the stand-in Slack on 127.0.0.1. Official images by default (the versions compose pins); with
 * MONITORING_IMAGE set (a stand-in built from Debian packages, .ci/images) every component runs from it.
 */
const STANDIN = process.env.MONITORING_IMAGE;
const OFFICIAL = {
  prometheus: 'prom/prometheus:v3.5.0',
  alertmanager: 'prom/alertmanager:v0.28.1',
  postgres_exporter: 'quay.io/prometheuscommunity/postgres-exporter:v0.17.1',
  redis_exporter: 'oliver006/redis_exporter:v1.74.0',
  blackbox_exporter: 'prom/blackbox-exporter:v0.27.0',
} as const;
type Binary = keyof typeof OFFICIAL;

function component(binary: Binary, args: string[], ready: RegExp) {
  // Official images run their binary as the entrypoint; the stand-in runs whatever command it is given.
  const container = new GenericContainer(STANDIN ?? OFFICIAL[binary])
    .withNetworkMode('host')
    .withCommand(STANDIN ? [`/bin/${binary}`, ...args] : args)
    .withLabels({ 'orders.test': 'true' })
    .withWaitStrategy(Wait.forLogMessage(ready))
    .withStartupTimeout(60_000);
  return container;
}

export interface Ports {
  api: number;
  ops: number;
  postgres: number;
  redis: number;
  prometheus: number;
  alertmanager: number;
  postgresExporter: number;
  redisExporter: number;
  blackbox: number;
}

/**
 * The project's prometheus.yml with compose host names replaced by this machine's ports, at the project's own scrape
 * and evaluation interval (15 s) unless told otherwise: the detection times measured are the ones a responder gets.
 */
export function testPrometheusConfig(ports: Ports, intervals?: { scrape: string; evaluation: string }): string {
  const hosts: Record<string, string> = {
    'http://host.docker.internal:3000': `http://127.0.0.1:${ports.api}`,
    'postgres-exporter:9187': `127.0.0.1:${ports.postgresExporter}`,
    'redis-exporter:9121': `127.0.0.1:${ports.redisExporter}`,
    'blackbox-exporter:9115': `127.0.0.1:${ports.blackbox}`,
    'localhost:9090': `127.0.0.1:${ports.prometheus}`,
    'alertmanager:9093': `127.0.0.1:${ports.alertmanager}`,
  };
  // Parts of the compose stack this suite does not run (one service instance, one Alertmanager, no balancer, timeline
  // receiver or Pushgateway): left in, they would be down targets and page MonitoringTargetDown for no fault.
  const notRun = new Set(['orders-lb', 'incident-timeline', 'pushgateway']);
  const config = parse(readFileSync(path.join(ROOT, 'monitoring/prometheus/prometheus.yml'), 'utf8'));
  const local = (targets: string[]) => targets.filter((t) => hosts[t] || t.startsWith('http://host.docker.internal:')).map((t) => {
    const prefix = Object.keys(hosts).find((from) => t.startsWith(from))!;
    return hosts[prefix]! + t.slice(prefix.length);
  });
  for (const am of config.alerting.alertmanagers) for (const sc of am.static_configs) sc.targets = local(sc.targets);
  config.scrape_configs = config.scrape_configs.filter((job: { job_name: string }) => !notRun.has(job.job_name));
  for (const job of config.scrape_configs) {
    for (const sc of job.static_configs ?? []) sc.targets = local(sc.targets);
    if (job.job_name === 'orders') {
      // The replicas' DNS discovery becomes the one in-process instance's ops port.
      delete job.dns_sd_configs;
      job.static_configs = [{ targets: [`127.0.0.1:${ports.ops}`] }];
    }
    for (const relabel of job.relabel_configs ?? []) if (relabel.replacement && hosts[relabel.replacement]) relabel.replacement = hosts[relabel.replacement];
  }
  if (intervals) {
    config.global.scrape_interval = intervals.scrape;
    config.global.evaluation_interval = intervals.evaluation;
  }
  config.rule_files = ['/etc/prometheus/rules/*.yml'];
  return stringify(config);
}

export function startPrometheus(ports: Ports): Promise<StartedTestContainer> {
  return component(
    'prometheus',
    [
      '--config.file=/etc/prometheus/prometheus.yml',
      '--storage.tsdb.path=/tmp/prometheus',
      `--web.listen-address=127.0.0.1:${ports.prometheus}`,
      '--web.external-url=http://localhost:9090',
    ],
    /Server is ready to receive web requests/,
  )
    .withCopyContentToContainer([
      { content: testPrometheusConfig(ports), target: '/etc/prometheus/prometheus.yml' },
      { content: readFileSync(path.join(ROOT, 'alerting/rules/orders.rules.yml'), 'utf8'), target: '/etc/prometheus/rules/orders.rules.yml' },
    ])
    .start();
}

/** Alertmanager with the project's alertmanager.yml and templates (real group_wait and group_interval). */
export function startAlertmanagerContainer(ports: Ports, receiverUrl: string): Promise<StartedTestContainer> {
  const { yaml, secrets } = testAlertmanagerConfig({
    receiverUrl,
    secretsDir: '/tmp/secrets',
    templatesGlob: '/etc/alertmanager/templates/*.tmpl',
    timers: {},
  });
  return component(
    'alertmanager',
    [
      '--config.file=/etc/alertmanager/alertmanager.yml',
      '--storage.path=/tmp/alertmanager',
      `--web.listen-address=127.0.0.1:${ports.alertmanager}`,
      '--web.external-url=http://localhost:9093',
      '--cluster.listen-address=',
    ],
    /Listening/,
  )
    .withCopyContentToContainer([
      { content: yaml, target: '/etc/alertmanager/alertmanager.yml' },
      { content: readFileSync(path.join(ROOT, 'alerting/templates/slack.tmpl'), 'utf8'), target: '/etc/alertmanager/templates/slack.tmpl' },
      { content: readFileSync(path.join(ROOT, 'alerting/templates/generated.tmpl'), 'utf8'), target: '/etc/alertmanager/templates/generated.tmpl' },
      ...secrets.map((secret) => ({ content: secret.content, target: secret.file })),
    ])
    .start();
}

export function startExporters(ports: Ports, postgresPassword: string): Promise<StartedTestContainer[]> {
  return Promise.all([
    component('postgres_exporter', [`--web.listen-address=127.0.0.1:${ports.postgresExporter}`], /Listening on/)
      .withEnvironment({ DATA_SOURCE_NAME: `postgresql://orders:${postgresPassword}@127.0.0.1:${ports.postgres}/orders?sslmode=disable` })
      .start(),
    component(
      'redis_exporter',
      [`--redis.addr=redis://127.0.0.1:${ports.redis}`, `--web.listen-address=127.0.0.1:${ports.redisExporter}`],
      /Providing metrics at/,
    ).start(),
    component(
      'blackbox_exporter',
      ['--config.file=/etc/blackbox/blackbox.yml', `--web.listen-address=127.0.0.1:${ports.blackbox}`],
      /Listening on/,
    )
      .withCopyContentToContainer([
        { content: readFileSync(path.join(ROOT, 'monitoring/blackbox/blackbox.yml'), 'utf8'), target: '/etc/blackbox/blackbox.yml' },
      ])
      .start(),
  ]);
}
