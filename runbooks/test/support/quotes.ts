import MarkdownIt from 'markdown-it';

/**
 * What a runbook quotes that must agree with the alert rules, and the commands a responder pastes.
 */

/** A fenced code block (`lang` as written after the fence, '' when none) or an inline code span of a Markdown text. */
export interface Quote {
  kind: 'block' | 'inline';
  lang: string;
  text: string;
}

/** Every code block and code span, including those inside lists and tables. */
export function quotes(markdown: string): Quote[] {
  const found: Quote[] = [];
  for (const token of new MarkdownIt({ html: true }).parse(markdown, {})) {
    if (token.type === 'fence') found.push({ kind: 'block', lang: token.info.trim().split(/\s+/)[0] ?? '', text: token.content.replace(/\n$/, '') });
    for (const child of token.children ?? []) {
      if (child.type === 'code_inline') found.push({ kind: 'inline', lang: '', text: child.content });
    }
  }
  return found;
}

export const SHELL_LANGS = ['bash', 'sh', 'shell', 'console', ''];

/** Placeholders a responder would have to fill in before a pasted command works (or that would mislead if not). */
const PLACEHOLDERS: [RegExp, string][] = [
  [/<[^<>'"\s=&|][^<>]*>/, '<…>'],
  [/[‹›]/, '‹…›'],
  [/\bXXX\b/, 'XXX'],
  [/\bTODO\b/, 'TODO'],
  [/\{\{/, '{{'],
];

/** The placeholders found in one shell command text, e.g. `['<…>']` for `pg_cancel_backend(<pid>)`. */
export function placeholdersIn(command: string): string[] {
  return PLACEHOLDERS.filter(([pattern]) => pattern.test(command)).map(([, name]) => name);
}

// ---------------------------------------------------------------------------------------------------------------
// Rule expressions

const NUMBER = /(?<![\w.])\d+(?:\.\d+)?(?![\w])/g;
const WINDOW = /\[\d+[smhd](?::\d+[smhd])?\]/g;
const OPS = ['==', '!=', '>=', '<=', '>', '<'] as const;
const COMPLEMENT: Record<string, string> = { '>': '<=', '<': '>=', '>=': '<', '<=': '>', '==': '!=', '!=': '==' };
const LOOSE: Record<string, string> = { '>': '<', '<': '>', '>=': '<=', '<=': '>=' };

export const normalize = (promql: string) => promql.replace(/\s+/g, ' ').replace(/\(\s+/g, '(').replace(/\s+\)/g, ')').trim();

/** One comparison of a rule: `lhs op value`, e.g. `nodejs_eventloop_lag_p99_seconds{job="orders"} > 0.2`. */
export interface Comparison {
  lhs: string;
  op: string;
  value: string;
}

/** The comparisons of a rule expression, split at its top-level `and`/`or`/`unless`. */
export function comparisons(expr: string): Comparison[] {
  return normalize(expr)
    .split(/\s(?:and|or|unless)\s/)
    .map((clause) => /^(.*?)\s*(==|!=|>=|<=|>|<)\s*(\d+(?:\.\d+)?)$/.exec(clause.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ lhs: m[1]!, op: m[2]!, value: m[3]! }));
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A pattern that finds the comparison's left side in a quote with any numbers and range windows (captured, to be
 * compared), followed by an optional comparison.
 */
function shapeOf(lhs: string) {
  const parts: { literal: string; variable?: string }[] = [];
  const variables = new RegExp(`${WINDOW.source}|${NUMBER.source}`, 'g');
  let last = 0;
  for (const match of lhs.matchAll(variables)) {
    parts.push({ literal: lhs.slice(last, match.index), variable: match[0] });
    last = match.index + match[0].length;
  }
  parts.push({ literal: lhs.slice(last) });
  const source = parts
    .map((p) => escapeRegExp(p.literal) + (p.variable === undefined ? '' : p.variable.startsWith('[') ? '(\\[[^\\]]+\\])' : '(\\d+(?:\\.\\d+)?)'))
    .join('');
  return {
    pattern: new RegExp(`${source}(?:\\s*(${OPS.map(escapeRegExp).join('|')})\\s*(\\d+(?:\\.\\d+)?))?`, 'g'),
    expected: parts.filter((p) => p.variable !== undefined).map((p) => p.variable!),
  };
}

/**
 * Where a quote restates a rule's comparison differently: another window, quantile or threshold, or another
 * operator (its complement, a recovery check such as `< 1` for `> 1`, is allowed). A rule may compare the same
 * quantity twice (a long and a short window); a quote agrees when it equals either. Empty when it agrees.
 */
export function disagreements(quote: string, rule: Comparison[]): string[] {
  let text = normalize(quote);
  const found: string[] = [];
  const groups = new Map<string, Comparison[]>();
  for (const comparison of rule) {
    const key = shapeOf(comparison.lhs).pattern.source;
    groups.set(key, [...(groups.get(key) ?? []), comparison]);
  }
  // Longest first, and each match blanked out: a clause's left side can sit inside another's (a ratio's denominator).
  for (const group of [...groups.values()].sort((a, b) => b[0]!.lhs.length - a[0]!.lhs.length)) {
    const { pattern } = shapeOf(group[0]!.lhs);
    const matches = [...text.matchAll(pattern)];
    text = text.replace(pattern, '§');
    for (const match of matches) {
      const agrees = group.some((comparison) => {
        const { expected } = shapeOf(comparison.lhs);
        const got = match.slice(1, 1 + expected.length);
        const [op, value] = [match[1 + expected.length], match[2 + expected.length]];
        const sameOp = op === undefined || op === comparison.op || op === COMPLEMENT[comparison.op] || op === LOOSE[comparison.op];
        return got.every((v, i) => v === expected[i]) && sameOp && (value === undefined || Number(value) === Number(comparison.value));
      });
      if (!agrees) found.push(`quoted \`${match[0]}\`, rule has ${group.map((c) => `\`${c.lhs} ${c.op} ${c.value}\``).join(' or ')}`);
    }
  }
  return found;
}
