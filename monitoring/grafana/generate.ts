/**
 * Writes every dashboard built by dashboards/index.ts to monitoring/grafana/dashboards/<uid>.json (2-space indent,
 * trailing newline), where Grafana's file provisioning reads them. Run with `npm run generate`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDashboards } from './dashboards';

export const DASHBOARDS_DIR = join(__dirname, 'dashboards');

/** The exact text committed for one dashboard model. */
export function serialize(json: object): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}

function main(): void {
  for (const { file, json } of buildDashboards()) {
    const path = join(DASHBOARDS_DIR, file);
    writeFileSync(path, serialize(json));
    console.log(`wrote ${path}`);
  }
}

if (require.main === module) main();
