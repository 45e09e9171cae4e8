// Answers that are well-formed but must still be refused: keys over plain
// http when discovery came over https, and a provider that trickles its
// answer so slowly that only the total deadline ends the request.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { basicServer, oidcProvider } from './lib/conf.mjs';
import { listen } from './lib/echo.mjs';
import { itest } from './lib/harness.mjs';
import { discoveryDoc, makeRsaKey } from './lib/jwks.mjs';

const DISCOVERY = '/.well-known/openid-configuration';

itest('jwks_uri over http is refused when discovery came over https', async (h) => {
  const { ca, server } = h.pki();
  const key = makeRsaKey({ kid: 'k' });
  const plain = await h.static({ '/jwks': { json: { keys: [key.publicJwk] } } });
  let issuer;
  const tls = await listen(https.createServer({ key: fs.readFileSync(server.key), cert: fs.readFileSync(server.cert) }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(discoveryDoc(issuer, { jwks_uri: `${plain.url}/jwks` })));
  }), 0);
  h.defer(() => tls.close());
  issuer = `https://localhost:${tls.port}`;

  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('downgrade', { issuer, client_id: 'c', ssl_trusted_certificate: ca.cert, metadata_retry: '1s' })}
${basicServer(port)}`).start();

  const p = await ngx.waitProvider('downgrade', (s) => s.state === 'error', { timeout: 8000 });
  assert.match(p.last_error, /jwks_uri .* is not https/);
  assert.equal(p.keys, null);
  assert.equal(plain.hits('/jwks'), 0, 'the keys were never requested over http');
  await ngx.waitForLog(/\[error\].*provider "downgrade".*not https/);
});

itest('a provider trickling its answer is cut by the total deadline', async (h) => {
  const body = JSON.stringify(discoveryDoc('http://127.0.0.1:1'));
  // one byte every 300 ms: every read_timeout (1s) is met, the answer never ends in time
  const srv = await h.static({ [DISCOVERY]: { body, chunked: true, chunkSize: 1, chunkDelay: 300 } });
  const port = await h.port();
  const started = Date.now();
  const ngx = await h.nginx(`
${oidcProvider('trickle', {
    issuer: srv.url, client_id: 'c',
    connect_timeout: '1s', send_timeout: '1s', read_timeout: '1s', metadata_retry: '30s',
  })}
${basicServer(port)}`, { workers: 1 }).start();

  const p = await ngx.waitProvider('trickle', (s) => s.last_error !== null, { timeout: 8000, interval: 50 });
  const elapsed = Date.now() - started;
  assert.match(p.last_error, /timed out after 3000 ms in all/);
  assert.ok(elapsed >= 2800, `cut after ${elapsed} ms, before the 3 s total`);
  assert.ok(elapsed < 6000, `cut after ${elapsed} ms: the deadline did not hold`);
  assert.equal((await ngx.get('/plain')).status, 200);
});
