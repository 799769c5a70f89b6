import type http from 'node:http';
import { Writable } from 'node:stream';
import { createService } from '../../service/src/app';
import { loadConfig } from '../../service/src/config';
import { close, listen } from '../../service/src/lib/http-server';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';

/**
 * The real service in this process, on fixed ports so Prometheus finds it again after it is taken down
 * ("service down") and brought back. Drills and traffic limiting are driven through its real admin API.
 */
export async function startService(options: { databaseUrl: string; redisUrl: string; apiPort: number; opsPort: number }) {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    ADMIN_TOKEN,
    FAULTS_ENABLED: 'true',
    SHUTDOWN_DRAIN_MS: '0',
    LOG_LEVEL: 'warn',
  });
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  const app = createService(config, { logStream: quiet, databaseCheckIntervalMs: 2_000 });
  let servers: http.Server[] = [];

  const service = {
    api: `http://127.0.0.1:${options.apiPort}`,
    ops: `http://127.0.0.1:${options.opsPort}`,
    async up() {
      servers = [
        await listen(app.api, options.apiPort, '127.0.0.1', app.apiEdge),
        await listen(app.ops, options.opsPort, '127.0.0.1', app.opsEdge),
      ];
    },
    /** The process stays, its ports stop answering: to Prometheus and shoppers the service is down. */
    async down() {
      await Promise.all(servers.map((server) => close(server, 0)));
      servers = [];
    },
    async admin(method: string, path: string, json?: unknown) {
      const response = await fetch(`${service.ops}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(json ? { 'content-type': 'application/json' } : {}) },
        body: json ? JSON.stringify(json) : undefined,
      });
      if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
      return response.json();
    },
    async close() {
      await service.down();
      await app.close();
    },
  };
  await service.up();
  return service;
}

export type Service = Awaited<ReturnType<typeof startService>>;
