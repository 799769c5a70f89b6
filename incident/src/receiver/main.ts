import { createTimelineStore } from '../timeline/store';
import { createReceiver } from './server';

/** `DATABASE_URL` (the service's PostgreSQL) and `PORT` (default 9095). Stops on SIGTERM/SIGINT. */
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('DATABASE_URL is required (the orders PostgreSQL, where the incident_events table lives)');
  process.exit(1);
}
const port = Number(process.env.PORT ?? 9095);
const store = createTimelineStore(databaseUrl);
const server = createReceiver({ store });
server.listen(port, () => console.log(JSON.stringify({ level: 'info', message: 'incident timeline receiver listening', port })));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => server.close(() => void store.close()));
}
