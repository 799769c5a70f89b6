/**
 * Validates Kubernetes manifests against the Kubernetes and prometheus-operator JSON schemas that kubernetes-models
 * and @kubernetes-models/prometheus-operator ship (offline). Those packages are ES modules only, so this runs under
 * tsx (the tests call it as a process). Prints one line per resource; exits 1 on the first file with an invalid or
 * unknown resource, saying which and why.
 * Usage: tsx deploy/k8s/validate.ts FILE.yaml...
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

let failed = false;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length) {
      console.log(`${file}: YAML error: ${doc.errors[0]!.message}`);
      failed = true;
      continue;
    }
    const manifest = doc.toJS();
    const type = `${manifest.apiVersion}/${manifest.kind}`;
    const where = `${file}: ${type} ${manifest.metadata?.name}`;
    const Model = MODELS[type];
    if (!Model) {
      console.log(`${where}: INVALID: no schema for ${type}`);
      failed = true;
      continue;
    }
    try {
      new Model(manifest).validate();
      console.log(`${where}: valid`);
    } catch (error) {
      console.log(`${where}: INVALID: ${(error as Error).message}`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
