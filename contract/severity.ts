/**
 * The incident guide's levels, as the `severity` label of every alert: critical (the whole service is down or every
 * user is hit), major (a key feature is broken), minor (a non-core feature is degraded).
 */
export const SEVERITIES = ['critical', 'major', 'minor'] as const;
export type Severity = (typeof SEVERITIES)[number];
