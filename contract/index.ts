/**
 * The observability contract: every name and number that the service, the alert rules, the dashboards and the load
 * tests share. Each is defined here once; service/, alerting/, monitoring/ and loadtest/ import it and never copy it.
 */
export * from './dashboards';
export * from './edge';
export * from './metrics';
export * from './queries';
export * from './routes';
export * from './slo';
export * from './thresholds';
export * from './severity';
