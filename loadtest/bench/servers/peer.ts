import Fastify from 'fastify';
import { createClient } from 'redis';

/**
 * The peer a team would otherwise write: Fastify, one node-redis GET per request of the cached ranking
 * (BENCH_PEER_KEY holds the same bytes the service caches), the string sent as is. No metrics, no logs.
 */
async function main() {
  const key = process.env.BENCH_PEER_KEY ?? '';
  const redis = createClient({ url: process.env.REDIS_URL });
  redis.on('error', () => undefined);
  await redis.connect();
  const app = Fastify({ logger: false });
  app.get('/api/orders/popular', async (_request, reply) => {
    const cached = await redis.get(key);
    if (cached === null) return reply.code(503).send('cache miss');
    return reply.type('application/json; charset=utf-8').send(cached);
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.once('SIGTERM', () => process.exit(0));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
