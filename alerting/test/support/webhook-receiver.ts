import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  path: string;
  at: number;
  body: any;
}

/** Stands in for Slack's incoming webhooks (and the heartbeat endpoint): records every payload by path. */
export async function startWebhookReceiver() {
  const deliveries: Delivery[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      deliveries.push({ path: req.url ?? '/', at: Date.now(), body: text ? JSON.parse(text) : undefined });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    deliveries,
    to: (path: string) => deliveries.filter((d) => d.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
