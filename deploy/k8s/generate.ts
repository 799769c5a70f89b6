import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { k8sFiles } from './manifests';

/** `npm run generate` (after the rules and dashboards): writes deploy/k8s/*.yaml. */
for (const { file, text } of k8sFiles()) {
  writeFileSync(path.resolve(__dirname, '../..', file), text);
  console.log(`wrote ${file}`);
}
