// Where pages go when no Slack webhook is configured, and where the Watchdog heartbeat lands: every payload is
// written to stdout as one JSON line (docker compose logs alert-log).
import http from 'node:http';

const port = Number(process.env.PORT ?? 8080);
http
  .createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      if (body.length < 1_000_000) body += chunk;
    });
    req.on('end', () => {
      let payload = body;
      try {
        payload = JSON.parse(body);
      } catch {}
      console.log(JSON.stringify({ at: new Date().toISOString(), path: req.url, payload }));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  })
  .listen(port, () => console.log(JSON.stringify({ at: new Date().toISOString(), message: `alert log receiver on :${port}` })));
