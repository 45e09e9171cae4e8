// The provider is down when nginx starts: nginx still starts, reports the
// error, keeps retrying every metadata_retry, and becomes ready as soon as
// the provider comes up. A failed refresh keeps the old metadata.
import assert from 'node:assert/strict';
import { basicServer, oidcProvider } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { sleep } from './lib/util.mjs';

const REFUSED = /refused|connect/i;

itest('provider down at start: error, retries, then ready when it comes up', async (h) => {
  const idp = await h.provider({ start: false, port: await h.port() });
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('down', {
    issuer: idp.issuer, client_id: 'test-client', client_secret: 'test-secret',
    metadata_retry: '1s', connect_timeout: '1s', read_timeout: '2s',
  })}
${basicServer(port)}`).start();

  assert.equal((await ngx.get('/plain')).status, 200, 'nginx serves while the provider is down');
  const p1 = await ngx.waitProvider('down', (s) => s.state === 'error', { timeout: 5000 });
  assert.match(p1.last_error, REFUSED);
  assert.equal(p1.metadata, null);
  assert.equal(p1.keys, null);
  assert.ok(p1.failures >= 1);
  assert.ok(p1.last_error_time > 0);
  await ngx.waitForLog(/\[error\].*auth_oidc: provider "down".*(refused|connect)/i);

  // metadata_retry 1s: more failures pile up
  const p2 = await ngx.waitProvider('down', (s) => s.failures >= p1.failures + 2, { timeout: 5000 });
  assert.equal(p2.state, 'error');
  assert.ok(p2.fetches >= p2.failures);

  await idp.start();
  const p3 = await ngx.waitProvider('down', 'ready', { timeout: 5000 });
  assert.equal(p3.metadata.issuer, idp.issuer);
  assert.deepEqual(p3.keys.map((k) => k.kid), idp.kids);
  assert.ok(p3.discovery_fetched > 0);
  assert.ok(p3.fetches > p3.failures);
});

itest('provider goes away after ready: refresh fails, state stays ready with last_error', async (h) => {
  const idp = await h.provider();
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('flaky', {
    issuer: idp.issuer, client_id: 'test-client', client_secret: 'test-secret',
    metadata_refresh: '1s', metadata_retry: '1s', connect_timeout: '1s', read_timeout: '2s',
  })}
${basicServer(port)}`).start();

  const ready = await ngx.waitProvider('flaky', 'ready');
  assert.equal(ready.failures, 0);
  // a refresh happens at metadata_refresh (1s)
  await ngx.waitProvider('flaky', (s) => s.fetches >= ready.fetches + 1, { timeout: 5000 });

  await idp.stop();
  const failed = await ngx.waitProvider('flaky', (s) => s.failures >= 1, { timeout: 5000 });
  assert.equal(failed.state, 'ready', 'a failed refresh keeps the provider ready');
  assert.match(failed.last_error, REFUSED);
  assert.ok(failed.last_error_time > 0);
  assert.equal(failed.metadata.issuer, idp.issuer, 'old metadata kept');
  assert.deepEqual(failed.keys.map((k) => k.kid), idp.kids, 'old keys kept');
  await ngx.waitForLog(/\[error\].*auth_oidc: provider "flaky".*(refused|connect)/i);

  await sleep(1500);
  const still = await ngx.providerStatus('flaky');
  assert.equal(still.state, 'ready');
  assert.ok(still.failures >= failed.failures);
});
