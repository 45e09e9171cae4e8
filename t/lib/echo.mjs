import http from 'node:http';

/**
 * Upstream echo app on 127.0.0.1: answers every request with
 * JSON {method, url, headers, body}. Resolves {port, url, requests, close()}.
 */
export function echoServer({ port = 0 } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const info = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(info);
      const out = JSON.stringify(info);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  return listen(server, port, { requests });
}

export function listen(server, port, extra = {}) {
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const actual = server.address().port;
      resolve({
        ...extra,
        server,
        port: actual,
        url: `http://127.0.0.1:${actual}`,
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}
