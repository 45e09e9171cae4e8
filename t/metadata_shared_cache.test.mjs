// Discovery and keys are cached in shared memory: several workers fetch them
// once between them, the cache survives a reload, and a protected location
// fails closed (503 without metadata, login or 401 without a session).
import assert from 'node:assert/strict';
import { basicServer, oidcProvider } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { discoveryDoc, makeRsaKey } from './lib/jwks.mjs';
import { sleep } from './lib/util.mjs';

const DISCOVERY = '/.well-known/openid-configuration';

async function setup(h, { workers, extra = '' }) {
  const key = makeRsaKey({ kid: 'shared-1' });
  const srv = await h.static((base) => ({
    [DISCOVERY]: { json: discoveryDoc(base) },
    '/jwks': { json: { keys: [key.publicJwk] } },
  }));
  const port = await h.port();
  const http = `
${oidcProvider('shared', { issuer: srv.url, client_id: 'test-client', metadata_retry: '1s' })}
${basicServer(port, extra)}`;
  const ngx = await h.nginx(http, { workers }).start();
  return { srv, ngx, http };
}

itest('four workers fetch discovery and JWKS once between them', async (h) => {
  const { srv, ngx } = await setup(h, { workers: 4 });
  const p = await ngx.waitProvider('shared', 'ready', { timeout: 8000 });
  assert.deepEqual(p.keys.map((k) => k.kid), ['shared-1']);

  // every worker ticks several times; none may fetch again
  await sleep(2500);
  assert.equal(srv.hits(DISCOVERY), 1, 'one discovery fetch for all workers');
  assert.equal(srv.hits('/jwks'), 1, 'one JWKS fetch for all workers');

  // whichever worker answers, it has its own parsed copy of the cache
  for (let i = 0; i < 12; i += 1) {
    const st = await ngx.status();
    assert.equal(st.providers.shared.state, 'ready');
    assert.equal(st.providers.shared.keys[0].kid, 'shared-1');
  }
  assert.equal(ngx.workerPids().length, 4);
});

itest('the metadata cache survives nginx -s reload', async (h) => {
  const { srv, ngx } = await setup(h, { workers: 2 });
  const before = await ngx.waitProvider('shared', 'ready', { timeout: 8000 });
  await ngx.reload();

  // the new workers answer from the cache at once, without refetching
  const after = (await ngx.status()).providers.shared;
  assert.equal(after.state, 'ready');
  assert.equal(after.discovery_fetched, before.discovery_fetched);
  assert.equal(after.keys[0].kid, 'shared-1');
  await sleep(1500);
  assert.equal(srv.hits(DISCOVERY), 1);
  assert.equal(srv.hits('/jwks'), 1);
});

itest('a protected location fails closed: 503 without metadata, 401 with it', async (h) => {
  const upstream = await h.echo();
  const hang = await h.hang();
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('down', { issuer: `http://127.0.0.1:${hang.port}`, client_id: 'c', connect_timeout: '1s', read_timeout: '1s' })}
${basicServer(port, `
        location /down { auth_oidc down; proxy_pass ${upstream.url}; }`)}`).start();
  // the navigation waits for the fetch under way (at most connect_timeout +
  // read_timeout), which fails: 503, saying when to come back
  const down = await ngx.get('/down');
  assert.equal(down.status, 503);
  assert.match(String(down.headers['retry-after']), /^[1-9]\d*$/, `Retry-After: ${down.headers['retry-after']}`);
  assert.equal(upstream.requests?.length ?? 0, 0, 'nothing reached the app');
  await ngx.waitForLog(/provider "down" is not ready/);
});

itest('a ready provider never lets an unauthenticated request through', async (h) => {
  const upstream = await h.echo();
  const key = makeRsaKey({ kid: 'k' });
  const srv = await h.static((base) => ({
    [DISCOVERY]: { json: discoveryDoc(base) },
    '/jwks': { json: { keys: [key.publicJwk] } },
  }));
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('up', { issuer: srv.url, client_id: 'c' })}
    map $arg_p $which { default up; none off; bogus nope; }
${basicServer(port, `
        location /app { auth_oidc up; proxy_pass ${upstream.url}; }
        location /var { auth_oidc $which; proxy_pass ${upstream.url}; }
        location /app/open { auth_oidc off; proxy_pass ${upstream.url}; }`)}`).start();
  await ngx.waitProvider('up', 'ready', { timeout: 8000 });

  for (const path of ['/app', '/var']) {
    const res = await ngx.get(path);
    assert.equal(res.status, 302, `${path}: a page load is sent to the login`);
    assert.ok(res.headers.location.startsWith(`${srv.url}/auth?`), res.headers.location);
    const api = await ngx.get(path, { headers: { accept: 'application/json' } });
    assert.equal(api.status, 401, `${path}: an API call gets a 401`);
  }
  assert.equal((await ngx.get('/app/open')).status, 200, 'auth_oidc off in a nested location');
  assert.equal((await ngx.get('/var?p=none')).status, 200, 'a variable that says "off"');
  assert.equal((await ngx.get('/var?p=bogus')).status, 500, 'a variable naming no provider');
  await ngx.waitForLog(/unknown oidc_provider "nope"/);
  assert.deepEqual(upstream.requests.map((r) => r.url), ['/app/open', '/var?p=none']);
});
