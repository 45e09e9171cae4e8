// A real oidc-provider over plain http: the module fetches discovery + JWKS
// and the status location reports the provider ready with its metadata/keys.
import assert from 'node:assert/strict';
import { basicServer, oidcProvider } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { request } from './lib/http.mjs';

itest('discovery over http: provider becomes ready with metadata and keys', async (h) => {
  const idp = await h.provider();
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('test', {
    issuer: idp.issuer, client_id: 'test-client', client_secret: 'test-secret', metadata_retry: '1s',
  })}
${basicServer(port)}`).start();

  const before = Math.floor(Date.now() / 1000) - 1;
  const p = await ngx.waitProvider('test', 'ready', { timeout: 10000 });
  const after = Math.floor(Date.now() / 1000) + 1;
  const expected = (await request(idp.discoveryUrl)).json();

  assert.equal(p.issuer, idp.issuer);
  assert.equal(p.config_url, `${idp.issuer}/.well-known/openid-configuration`);
  assert.ok(p.metadata, 'metadata present');
  assert.equal(p.metadata.issuer, idp.issuer);
  for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
    assert.equal(p.metadata[k], expected[k], k);
  }
  assert.equal(p.metadata.jwks_uri, `${idp.issuer}/jwks`);

  assert.ok(Array.isArray(p.keys) && p.keys.length > 0, `keys: ${JSON.stringify(p.keys)}`);
  assert.deepEqual(p.keys.map((k) => k.kid), idp.kids);
  const [key] = p.keys;
  assert.equal(key.kty, 'RSA');
  assert.equal(key.alg, 'RS256');
  assert.equal(key.use, 'sig');
  assert.equal(key.bits, 2048);

  assert.ok(p.discovery_fetched > 0 && p.discovery_fetched >= before - 10 && p.discovery_fetched <= after,
    `discovery_fetched ${p.discovery_fetched}`);
  assert.ok(p.jwks_fetched >= p.discovery_fetched, `jwks_fetched ${p.jwks_fetched}`);
  assert.equal(p.last_error, null);
  assert.equal(p.last_error_time, 0);
  assert.ok(p.fetches >= 1);
  assert.equal(p.failures, 0);

  assert.ok(idp.hits('/.well-known/openid-configuration') >= 1, 'provider saw the discovery request');
  assert.ok(idp.hits('/jwks') >= 1, 'provider saw the JWKS request');
  assert.doesNotMatch(ngx.errorLog(), /\[error\].*auth_oidc: provider "test"/);

  // the status endpoint is cheap and stable once ready
  const again = await ngx.providerStatus('test');
  assert.equal(again.state, 'ready');
  assert.equal(again.discovery_fetched, p.discovery_fetched, 'no refetch within metadata_refresh (default 1h)');
});
