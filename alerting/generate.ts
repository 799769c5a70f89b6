import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RULE_TESTS_FILE, ruleTestsYaml } from './rule-tests';
import { RULES_FILE, rulesYaml } from './rules-yaml';

/** `npm run generate`: writes the Prometheus rules and their promtool tests from the catalog. */
const root = path.resolve(__dirname, '..');
for (const [file, text] of [
  [RULES_FILE, rulesYaml()],
  [RULE_TESTS_FILE, ruleTestsYaml()],
] as const) {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
  console.log(`wrote ${file}`);
}
