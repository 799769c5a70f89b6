import { copyFileSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { SCRAPE_SECONDS } from '../../alerting/catalog';
import { binary, ROOT, run } from '../../alerting/test/support/tools';

describe('prometheus.yml', () => {
  test('promtool accepts it, with the generated rules laid out as compose mounts them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prometheus-config-'));
    copyFileSync(path.join(ROOT, 'monitoring/prometheus/prometheus.yml'), path.join(dir, 'prometheus.yml'));
    symlinkSync(path.join(ROOT, 'alerting/rules'), path.join(dir, 'rules'));
    const { code, output } = run(binary('promtool'), ['check', 'config', path.join(dir, 'prometheus.yml')]);
    expect(output).toContain('SUCCESS: 1 rule files found');
    expect(code).toBe(0);
  });

  test('scrapes and evaluates at the interval the alert catalog and the incident tools count with (SCRAPE_SECONDS)', () => {
    const config = parse(readFileSync(path.join(ROOT, 'monitoring/prometheus/prometheus.yml'), 'utf8'));
    expect(config.global).toMatchObject({ scrape_interval: `${SCRAPE_SECONDS}s`, evaluation_interval: `${SCRAPE_SECONDS}s` });
    const overridden = config.scrape_configs.filter((job: { scrape_interval?: string }) => job.scrape_interval !== undefined && job.scrape_interval !== `${SCRAPE_SECONDS}s`);
    expect(overridden.map((job: { job_name: string }) => job.job_name)).toEqual([]);
  });

  test('scrapes every service replica, the load balancer, both exporters, the blackbox probes of the public API, Prometheus, both Alertmanagers, the incident timeline and the Pushgateway', () => {
    const config = parse(readFileSync(path.join(ROOT, 'monitoring/prometheus/prometheus.yml'), 'utf8'));
    const jobs = config.scrape_configs.map((job: { job_name: string }) => job.job_name);
    expect(jobs).toEqual(['orders', 'orders-lb', 'postgres-exporter', 'redis-exporter', 'blackbox-api', 'prometheus', 'alertmanager', 'incident-timeline', 'pushgateway']);
    expect(config.scrape_configs[0].dns_sd_configs).toEqual([{ names: ['orders'], type: 'A', port: 9464, refresh_interval: '15s' }]);
    // The load tests' pushed job="loadtest" and scenario labels survive the scrape.
    expect(config.scrape_configs.find((job: { job_name: string }) => job.job_name === 'pushgateway')).toMatchObject({ honor_labels: true });
    const probe = config.scrape_configs.find((job: { job_name: string }) => job.job_name === 'blackbox-api');
    expect(probe.static_configs[0].targets.every((t: string) => t.startsWith('http://host.docker.internal:3000/api/'))).toBe(true);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));

  test('publishes Grafana on :9999 and sets external URLs so the links in pages work', () => {
    expect(compose.services.grafana.ports).toContain('127.0.0.1:9999:3000');
    expect(compose.services.prometheus.command).toContain('--web.external-url=http://localhost:9090');
    expect(compose.services.alertmanager.command.join(' ')).toContain('--web.external-url=http://localhost:9093');
  });

  test('Grafana has no default admin password and no anonymous access', () => {
    const grafana = compose.services.grafana;
    expect(grafana.environment.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(grafana.environment).not.toHaveProperty('GF_SECURITY_ADMIN_PASSWORD');
    expect(grafana.command.join(' ')).toContain('GF_SECURITY_ADMIN_PASSWORD__FILE');
  });

  test('Slack webhooks reach Alertmanager only through files, never inline', () => {
    const config = readFileSync(path.join(ROOT, 'alerting/alertmanager.yml'), 'utf8');
    expect(config).not.toMatch(/api_url:/);
    expect(config).not.toMatch(/hooks\.slack\.com/);
    expect(compose.services.alertmanager.command.join(' ')).toContain('/etc/alertmanager/secrets/slack-$$severity-url');
  });

  test('pins every image to a version', () => {
    for (const [name, service] of Object.entries<{ image?: string }>(compose.services)) {
      if (service.image && !service.image.endsWith(':local')) expect({ name, image: service.image }).toEqual({ name, image: expect.stringMatching(/:[\w.-]*\d[\w.-]*$/) });
    }
  });
});
