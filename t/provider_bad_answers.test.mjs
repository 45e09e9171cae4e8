// Providers that answer badly: oversized, garbage, bad JWKS, wrong issuer,
// non-200; and a chunked but valid answer that must work.
import assert from 'node:assert/strict';
import { basicServer, oidcProvider } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { discoveryDoc, makeRsaKey } from './lib/jwks.mjs';

const DISCOVERY = '/.well-known/openid-configuration';
const MB10 = 10 * 1024 * 1024;

async function setup(h, name, routes, extra = {}) {
  const srv = await h.static(routes);
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider(name, {
    issuer: srv.url, client_id: 'test-client', client_secret: 'test-secret',
    metadata_retry: '1s', connect_timeout: '2s', read_timeout: '3s', ...extra,
  })}
${basicServer(port)}`).start();
  return { srv, ngx };
}

async function expectError(ngx, name, re, { noMetadata = true } = {}) {
  const p = await ngx.waitProvider(name, (s) => s.state === 'error', { timeout: 8000 });
  assert.match(p.last_error || '', re);
  if (noMetadata) {
    assert.equal(p.metadata, null, 'no metadata from a bad discovery answer');
    assert.equal(p.keys, null);
  }
  assert.ok(p.failures >= 1);
  assert.ok(p.last_error_time > 0);
  await ngx.waitForLog(new RegExp(`\\[error\\].*auth_oidc: provider "${name}".*(${re.source})`, 'i'));
  assert.equal((await ngx.get('/plain')).status, 200);
  return p;
}

itest('discovery of 10 MB with Content-Length over max_response_size 64k: too large', async (h) => {
  const { ngx } = await setup(h, 'big', { [DISCOVERY]: { size: MB10 } }, { max_response_size: '64k' });
  await expectError(ngx, 'big', /too large/i);
});

itest('discovery of 10 MB chunked (no Content-Length) over max_response_size 64k: too large', async (h) => {
  const { ngx } = await setup(h, 'bigchunked', { [DISCOVERY]: { size: MB10, chunked: true } },
    { max_response_size: '64k' });
  await expectError(ngx, 'bigchunked', /too large/i);
});

itest('garbage discovery body: invalid JSON', async (h) => {
  const { ngx } = await setup(h, 'garbage', { [DISCOVERY]: { garbage: true } });
  await expectError(ngx, 'garbage', /invalid JSON/i);
});

itest('valid discovery, garbage JWKS: invalid JSON / JWKS error', async (h) => {
  const { ngx, srv } = await setup(h, 'badjwks', (base) => ({
    [DISCOVERY]: { json: discoveryDoc(base) },
    '/jwks': { garbage: true },
  }));
  await expectError(ngx, 'badjwks', /invalid JSON|JWKS/i, { noMetadata: false });
  assert.ok(srv.hits('/jwks') >= 1, 'the module fetched jwks_uri');
});

itest('discovery with a different issuer: issuer mismatch', async (h) => {
  const { ngx, srv } = await setup(h, 'mismatch', (base) => ({
    [DISCOVERY]: { json: discoveryDoc(`${base}/evil`, { jwks_uri: `${base}/jwks` }) },
    '/jwks': { json: { keys: [makeRsaKey().publicJwk] } },
  }));
  await expectError(ngx, 'mismatch', /issuer mismatch/i);
  assert.equal(srv.hits('/jwks'), 0, 'JWKS not fetched for a mismatching issuer');
});

itest('discovery answers 404: status error', async (h) => {
  const { ngx } = await setup(h, 'notfound', {});
  await expectError(ngx, 'notfound', /status/i);
});

itest('discovery answers 500 with a JSON body: status error', async (h) => {
  const { ngx } = await setup(h, 'fivehundred', (base) => ({
    [DISCOVERY]: { status: 500, json: discoveryDoc(base) },
  }));
  await expectError(ngx, 'fivehundred', /status/i);
});

itest('chunked valid discovery and JWKS: ready', async (h) => {
  const key = makeRsaKey();
  const { ngx, srv } = await setup(h, 'chunked', (base) => ({
    [DISCOVERY]: { json: discoveryDoc(base), chunked: true },
    '/jwks': { json: { keys: [key.publicJwk] }, chunked: true },
  }));
  const p = await ngx.waitProvider('chunked', 'ready', { timeout: 8000 });
  assert.equal(p.metadata.issuer, srv.url);
  assert.equal(p.metadata.jwks_uri, `${srv.url}/jwks`);
  assert.deepEqual(p.keys.map(({ kid, kty, alg, use, bits }) => ({ kid, kty, alg, use, bits })),
    [{ kid: key.kid, kty: 'RSA', alg: 'RS256', use: 'sig', bits: 2048 }]);
  assert.equal(p.last_error, null);
  assert.equal(srv.hits('/jwks'), 1);
});
