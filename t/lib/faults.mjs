// In-process fault servers on 127.0.0.1 for provider failure tests.
import http from 'node:http';
import net from 'node:net';
import { listen } from './echo.mjs';
import { sleep, waitFor } from './util.mjs';

/**
 * Accepts TCP connections, reads whatever arrives, never answers.
 * Resolves {port, url, connections: [{at, bytes}], waitConnection(), close()}.
 */
export function hangServer({ port = 0 } = {}) {
  const sockets = new Set();
  const connections = [];
  const server = net.createServer((sock) => {
    const conn = { at: Date.now(), bytes: 0 };
    connections.push(conn);
    sockets.add(sock);
    sock.on('data', (d) => { conn.bytes += d.length; });
    sock.on('error', () => {});
    sock.on('close', () => { conn.closedAt = Date.now(); sockets.delete(sock); });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const actual = server.address().port;
      resolve({
        port: actual,
        url: `http://127.0.0.1:${actual}`,
        connections,
        waitConnection(n = 1, timeout = 5000) {
          return waitFor(() => connections.length >= n && connections[n - 1],
            { timeout, interval: 20, what: `${n} connection(s) to the hang server` });
        },
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

/** Bytes that are certainly not JSON. */
export const GARBAGE = Buffer.concat([
  Buffer.from('<html><body>502 Bad Gateway, this is not JSON {"issuer":'),
  Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x22, 0x0a]),
  Buffer.from('}}}]]] garbage\n'),
]);

function bodyOf(spec) {
  if (spec.garbage) return GARBAGE;
  if (spec.json !== undefined) return Buffer.from(JSON.stringify(spec.json));
  const b = spec.body;
  if (b === undefined || b === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(b)) return b;
  if (typeof b === 'string') return Buffer.from(b);
  return Buffer.from(JSON.stringify(b));
}

function defaultType(spec) {
  if (spec.json !== undefined || (spec.body && typeof spec.body === 'object' && !Buffer.isBuffer(spec.body))) {
    return 'application/json';
  }
  return spec.garbage ? 'text/html' : 'application/json';
}

// Stream `size` bytes of `fill` without building the whole body in memory.
async function writeLazy(res, size, fill) {
  const block = Buffer.alloc(64 * 1024, fill);
  let left = size;
  while (left > 0 && !res.destroyed) {
    const n = Math.min(left, block.length);
    left -= n;
    if (!res.write(n === block.length ? block : block.subarray(0, n))) {
      await new Promise((r) => {
        const done = () => { res.off('drain', done); res.off('close', done); r(); };
        res.once('drain', done);
        res.once('close', done);
      });
    }
  }
  res.end();
}

async function writeChunked(res, body, chunkSize, chunkDelay) {
  for (let off = 0; off < body.length && !res.destroyed; off += chunkSize) {
    res.write(body.subarray(off, off + chunkSize));
    if (chunkDelay) await sleep(chunkDelay);
  }
  res.end();
}

export async function respond(req, res, spec) {
  if (spec.delay) await sleep(spec.delay);
  if (spec.hang) return; // keep the request open forever (until close())
  const headers = { 'content-type': defaultType(spec), ...(spec.headers || {}) };
  const status = spec.status ?? 200;
  if (spec.size !== undefined) { // huge lazily generated body
    if (spec.chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(spec.size);
    res.writeHead(status, headers);
    await writeLazy(res, spec.size, spec.fill ?? 'a');
    return;
  }
  const body = bodyOf(spec);
  if (spec.chunked) {
    // Explicit header: node then frames chunked even for HTTP/1.0 requests.
    headers['transfer-encoding'] = 'chunked';
    res.writeHead(status, headers);
    await writeChunked(res, body, spec.chunkSize ?? 97, spec.chunkDelay ?? 2);
    return;
  }
  headers['content-length'] = String(body.length);
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * HTTP server answering per path. `routes` is {path: spec} or a function
 * (base) => {path: spec}, called once the port is known (base =
 * "http://127.0.0.1:PORT"). A spec may also be a function (req, base) => spec.
 * spec: {status, headers, body, json, garbage, chunked, chunkSize, chunkDelay,
 *        size, fill, delay, hang}. Unknown paths answer 404.
 * Resolves {port, url, requests: [{method, path, httpVersion, headers}],
 *           hits(path), set(path, spec), close()}.
 */
export async function staticServer(routes = {}, { port = 0 } = {}) {
  let table = {};
  let base;
  const requests = [];
  const server = http.createServer((req, res) => {
    const path = req.url.split('?')[0];
    requests.push({ method: req.method, path, url: req.url, httpVersion: req.httpVersion, headers: req.headers, at: Date.now() });
    let spec = table[path];
    if (typeof spec === 'function') spec = spec(req, base);
    if (!spec) spec = { status: 404, body: 'not found\n', headers: { 'content-type': 'text/plain' } };
    res.on('error', () => {});
    respond(req, res, spec).catch(() => res.destroy());
  });
  const srv = await listen(server, port);
  base = srv.url;
  table = typeof routes === 'function' ? routes(base) : { ...routes };
  return {
    ...srv,
    requests,
    hits: (path) => requests.filter((r) => r.path === path).length,
    set(path, spec) { table[path] = spec; },
  };
}
