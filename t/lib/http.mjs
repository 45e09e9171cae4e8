import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';

/**
 * Minimal HTTP(S) client for tests: one fresh connection per request, never
 * follows redirects. Resolves {status, headers, body, ms}; `json()` parses.
 * opts: method, headers, body (string|Buffer|object → JSON), timeout (ms),
 *       ca (PEM for https), servername.
 */
function testLookup(hostname, options, callback) {
  if (options?.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
}

export function request(url, opts = {}) {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  let body = opts.body;
  const headers = { ...(opts.headers || {}) };
  if (body !== undefined && typeof body === 'object' && !Buffer.isBuffer(body)) {
    body = JSON.stringify(body);
    headers['content-type'] ??= 'application/json';
  }
  const timeout = opts.timeout ?? 5000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = lib.request(u, {
      method: opts.method || 'GET',
      headers,
      agent: false,
      ca: opts.ca,
      servername: opts.servername,
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
      // names under ".test" (RFC 6761) are this machine: sibling hosts
      // without touching /etc/hosts
      ...(u.hostname.endsWith('.test') ? { lookup: testLookup } : {}),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const result = {
          status: res.statusCode,
          headers: res.headers,
          raw: buf,
          body: buf.toString('utf8'),
          ms: performance.now() - started,
          json() { return JSON.parse(this.body); },
        };
        resolve(result);
      });
    });
    req.setTimeout(timeout, () => {
      req.destroy(new Error(`request to ${url} timed out after ${timeout} ms`));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
