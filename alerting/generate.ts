import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { README_FILE, readmeWithAlertTable } from './readme-table';
import { longRuleTestsYaml, RULE_TESTS_FILE, RULE_TESTS_LONG_FILE, ruleTestsYaml } from './rule-tests';
import { RULES_FILE, rulesYaml } from './rules-yaml';
import { GENERATED_TEMPLATE_FILE, generatedTemplate } from './slack-templates';

/** `npm run generate`: writes the Prometheus rules, their promtool tests, the data-driven Slack templates and the README's alert table. */
const root = path.resolve(__dirname, '..');
for (const [file, text] of [
  [RULES_FILE, rulesYaml()],
  [RULE_TESTS_FILE, ruleTestsYaml()],
  [RULE_TESTS_LONG_FILE, longRuleTestsYaml()],
  [GENERATED_TEMPLATE_FILE, generatedTemplate()],
  [README_FILE, readmeWithAlertTable()],
] as const) {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
  console.log(`wrote ${file}`);
}
