// Provider over https: the certificate is verified against
// ssl_trusted_certificate (or the system CA bundle by default).
import assert from 'node:assert/strict';
import { basicServer, oidcProvider } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';

async function setup(h, trusted) {
  const { server } = h.pki();
  const idp = await h.provider({ https: { key: server.key, cert: server.cert } });
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('tls', {
    issuer: idp.issuer, client_id: 'test-client', client_secret: 'test-secret',
    ssl_trusted_certificate: trusted, metadata_retry: '1s', connect_timeout: '2s', read_timeout: '3s',
  })}
${basicServer(port)}`).start();
  return { idp, ngx };
}

itest('https: ready when the issuer certificate is signed by ssl_trusted_certificate', async (h) => {
  const { idp, ngx } = await setup(h, h.pki().ca.cert);
  assert.match(idp.issuer, /^https:\/\/localhost:\d+$/);
  const p = await ngx.waitProvider('tls', 'ready');
  assert.equal(p.metadata.issuer, idp.issuer);
  assert.equal(p.metadata.jwks_uri, `${idp.issuer}/jwks`);
  assert.deepEqual(p.keys.map((k) => k.kid), idp.kids);
  assert.equal(p.last_error, null);
});

itest('https: certificate from another CA is refused', async (h) => {
  const { idp, ngx } = await setup(h, h.pki().otherCa.cert);
  const p = await ngx.waitProvider('tls', (s) => s.state === 'error');
  assert.match(p.last_error, /certificate/i);
  assert.equal(p.metadata, null);
  assert.equal(p.keys, null);
  assert.ok(p.failures >= 1);
  assert.ok(p.last_error_time > 0);
  await ngx.waitForLog(/\[error\].*auth_oidc: provider "tls".*certificate/i);
  assert.equal(idp.hits('/.well-known/openid-configuration'), 0, 'no HTTP request after a failed handshake');
});

itest('https: default trust (system CA bundle) refuses the test CA', async (h) => {
  const { ngx } = await setup(h, undefined);
  const p = await ngx.waitProvider('tls', (s) => s.state === 'error');
  assert.match(p.last_error, /certificate/i);
  await ngx.waitForLog(/\[error\].*auth_oidc: provider "tls".*certificate/i);
});
