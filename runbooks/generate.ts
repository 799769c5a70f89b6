import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ALERTS } from '../alerting/catalog';
import { newRunbook, readRoster, regeneratedRunbooks, ROOT, runbookFile, SITE_DIR, sitePages } from './runbooks';

/**
 * `npm run generate` (after the alert rules): brings every runbook's generated header and report block up to date
 * with alerting/catalog.ts and alerting/oncall-roster.yml, writes a skeleton runbook for a new alert, and renders
 * runbooks/site/*.html, the pages the runbook server sends.
 */
const roster = readRoster();
const rel = (file: string) => path.relative(ROOT, file);

for (const alert of ALERTS) {
  if (!existsSync(runbookFile(alert.name))) {
    writeFileSync(runbookFile(alert.name), newRunbook(alert, roster));
    console.log(`wrote ${rel(runbookFile(alert.name))} (new: fill in every "(작성 필요)")`);
  }
}
for (const { file, current, generated } of regeneratedRunbooks(ALERTS, roster)) {
  if (generated !== undefined && generated !== current) {
    writeFileSync(path.join(ROOT, 'runbooks', file), generated);
    console.log(`wrote runbooks/${file}`);
  }
}

mkdirSync(SITE_DIR, { recursive: true });
const pages = sitePages();
for (const stale of readdirSync(SITE_DIR).filter((file) => file.endsWith('.html') && !pages.has(file))) {
  rmSync(path.join(SITE_DIR, stale));
}
for (const [file, html] of pages) writeFileSync(path.join(SITE_DIR, file), html);
console.log(`wrote ${rel(SITE_DIR)}/ (${pages.size} pages)`);
