/**
 * The Kubernetes manifests (deploy/k8s/*.yaml): generated from the rules, dashboards and service settings, committed,
 * valid against the Kubernetes and prometheus-operator schemas, and consistent with each other.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { k8sFiles, ruleGroups } from '../k8s/manifests';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const files = k8sFiles();
const docs = (file: string) => parseAllDocuments(readFileSync(path.join(ROOT, file), 'utf8')).map((d) => d.toJS());
const all = files.flatMap(({ file }) => docs(file));
const one = (kind: string, name?: string) => {
  const found = all.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  expect(found).toHaveLength(1);
  return found[0];
};

function validate(paths: string[]) {
  const result = spawnSync(TSX, [path.join(ROOT, 'deploy/k8s/validate.mts'), ...paths], { cwd: ROOT, encoding: 'utf8' });
  return { code: result.status, lines: `${result.stdout}${result.stderr}`.trim().split('\n') };
}

describe('deploy/k8s', () => {
  test('the committed files are what deploy/k8s/manifests.ts generates now (npm run generate)', () => {
    const committed = readdirSync(path.join(ROOT, 'deploy/k8s')).filter((f) => f.endsWith('.yaml')).sort();
    expect(committed).toEqual(files.map((f) => path.basename(f.file)).sort());
    for (const { file, text } of files) expect({ file, text: readFileSync(path.join(ROOT, file), 'utf8') }).toEqual({ file, text });
  });

  test('every resource is valid against the Kubernetes and prometheus-operator schemas', () => {
    const { code, lines } = validate(files.map((f) => f.file));
    expect(lines.filter((l) => !l.endsWith(': valid'))).toEqual([]);
    expect(lines).toHaveLength(all.length);
    expect(code).toBe(0);
  }, 60_000);

  test('the validation rejects what the schemas forbid: a non-numeric port, a missing selector, a malformed rule duration, an unknown kind', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'k8s-invalid-'));
    try {
      const deployment = structuredClone(one('Deployment', 'orders'));
      deployment.spec.template.spec.containers[0].ports[0].containerPort = 'http';
      const noSelector = structuredClone(one('Deployment', 'orders'));
      delete noSelector.spec.selector;
      const rule = structuredClone(one('PrometheusRule', 'orders'));
      rule.spec.groups[0].rules[0].for = 'a while';
      const unknown = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };
      const broken = [deployment, noSelector, rule, unknown].map((d, i) => {
        const file = path.join(dir, `${i}.yaml`);
        writeFileSync(file, stringify(d));
        return file;
      });
      const { code, lines } = validate(broken);
      expect(code).toBe(1);
      expect(lines.map((l) => l.replace(/^.*: (valid|INVALID).*$/, '$1'))).toEqual(['INVALID', 'INVALID', 'INVALID', 'INVALID']);
      expect(lines.join('\n')).toMatch(/containerPort must be integer/);
      expect(lines.join('\n')).toMatch(/required property 'selector'|required property selector/);
      expect(lines.join('\n')).toMatch(/for must match pattern/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('the PrometheusRule holds exactly the rules of alerting/rules/*.yml, labelled for kube-prometheus\' rule selector', () => {
    const rule = one('PrometheusRule');
    expect(rule.spec.groups).toEqual(ruleGroups());
    expect(rule.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules).length).toBeGreaterThan(0);
    expect(rule.metadata.labels).toMatchObject({ role: 'alert-rules', prometheus: 'k8s' });
  });

  test('the ServiceMonitor scrapes the Service\'s ops port, whose name is the job the rules select', () => {
    const monitor = one('ServiceMonitor');
    const service = one('Service');
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    const opsPort = service.spec.ports.find((p: { name: string }) => p.name === monitor.spec.endpoints[0].port);
    expect(opsPort).toBeDefined();
    expect(monitor.spec.endpoints[0].path).toBe('/metrics');
    const jobs = new Set(ruleGroups().flatMap((g) => g.rules.map((r) => String(r.expr)).flatMap((e) => [...e.matchAll(/job="([^"]+)"/g)].map((m) => m[1]))));
    expect(jobs).toContain(service.metadata.name);
  });

  test('the Deployment probes readiness (/readyz) and liveness (/healthz) on the ops port; Service, PDB and HPA select and target it', () => {
    const deployment = one('Deployment');
    const container = deployment.spec.template.spec.containers[0];
    const ops = container.ports.find((p: { name: string }) => p.name === 'ops');
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'ops' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'ops' });
    expect(one('ConfigMap', 'orders-config').data.OPS_PORT).toBe(String(ops.containerPort));
    const podLabels = deployment.spec.template.metadata.labels;
    expect(podLabels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(podLabels).toMatchObject(one('Service').spec.selector);
    expect(podLabels).toMatchObject(one('PodDisruptionBudget').spec.selector.matchLabels);
    // The migration Job's pods are not API pods: no Service traffic, no PDB, no Deployment ownership.
    expect(one('Job').spec.template.metadata.labels).not.toMatchObject(one('Service').spec.selector);
    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThan(one('PodDisruptionBudget').spec.maxUnavailable);
  });

  test('every dashboard is a ConfigMap for Grafana\'s sidecar (grafana_dashboard: "1"), small enough for kubectl apply', () => {
    const dir = path.join(ROOT, 'monitoring/grafana/dashboards');
    const dashboards = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    const maps = all.filter((d) => d.kind === 'ConfigMap' && d.metadata.labels?.grafana_dashboard === '1');
    expect(maps.map((m) => Object.keys(m.data)).flat().sort()).toEqual(dashboards);
    for (const map of maps) {
      const [file, json] = Object.entries<string>(map.data)[0]!;
      expect(json).toBe(readFileSync(path.join(dir, file), 'utf8'));
      // kubectl's client-side apply keeps the whole object in an annotation limited to 256 KiB.
      expect(Buffer.byteLength(JSON.stringify(map))).toBeLessThan(256 * 1024);
    }
  });
});
