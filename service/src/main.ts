import { setTimeout as sleep } from 'node:timers/promises';
import { createService, type ServiceOverrides } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { close, listen, portOf } from './lib/http-server';
import { recordServiceStart } from './components/incident-timeline/record';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * The only place that listens on ports and handles process signals. `overrides` are for the benchmark's variants of
 * the service (loadtest/bench/servers/), which run this same entry point with one part swapped.
 */
export async function main(overrides: ServiceOverrides = {}): Promise<void> {
  const config = readConfig();
  const service = createService(config, overrides);
  const { logger } = service;
  const api = await listen(service.api, config.http.port, undefined, service.apiEdge);
  const ops = await listen(service.ops, config.http.opsPort, undefined, service.opsEdge);
  logger.info('orders service listening', { port: portOf(api), opsPort: portOf(ops) });
  // The incident timeline: a restart during an incident is one of its actions (retried until PostgreSQL takes it).
  const startRecorded = new AbortController();
  void recordServiceStart({ db: service.db, logger }, { signal: startRecorded.signal });

  let stopping = false;
  async function shutdown(signal: string) {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    service.readiness.accepting = false;
    startRecorded.abort();
    logger.info('shutdown: readiness off, draining', { signal, drainMs: config.shutdown.drainMs });
    await sleep(config.shutdown.drainMs);
    const result = await close(api, config.shutdown.timeoutMs);
    await Promise.allSettled([service.close(), close(ops, 1_000)]);
    logger.info('shutdown complete', { result, durationMs: Date.now() - started });
    process.exitCode = result === 'drained' ? 0 : 1;
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

export function run(overrides: ServiceOverrides = {}): void {
  main(overrides).catch((error) => {
    console.error(JSON.stringify({ level: 'error', message: 'orders service failed to start', error: String(error?.stack ?? error) }));
    process.exit(1);
  });
}

if (require.main === module) run();
