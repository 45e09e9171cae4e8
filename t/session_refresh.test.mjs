// Refresh at the real oidc-provider, whose access and ID tokens live a few
// seconds: requests go on past expiry with fresh tokens upstream, one
// refresh per session however many requests arrive at once (across the
// workers of one nginx, and across two nginx sharing Redis), rotated
// refresh tokens used next time, a revoked grant ends the session, a
// provider that is down keeps the session until its tokens expire (one
// log line), then the session refreshes again once it is back (the
// provider is frozen with SIGSTOP: its grants live in its memory).
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  assertLoginRedirect, login, logMark, NAV, protectedLocation, providerBlock, step, withSession, XHR,
} from './lib/login.mjs';
import { redisStore, secretFile, startRedis } from './lib/redis.mjs';
import { pastExpiry, REFRESHING, seen, shortTokens } from './lib/refresh.mjs';
import { sleep } from './lib/util.mjs';

function conf(port, idp, upstream, { store = '', provider = {} } = {}) {
  return `
${store}
${providerBlock('idp', idp.issuer, { ...REFRESHING, ...provider })}
${basicServer(port, protectedLocation('/app', 'idp', upstream.url))}`;
}

for (const kind of ['shm', 'redis']) {
  itest(`refresh (${kind}): past expiry with fresh tokens, 20 at once cause one refresh, rotation, revocation ends the session`, async (h, t) => {
    const idp = await shortTokens(h, { rotateRefreshToken: true });
    const upstream = await h.echo();
    let store = '';
    let provider = {};
    if (kind === 'redis') {
      const redis = await startRedis(h);
      store = redisStore('r', redis.addr, { secret_file: secretFile(h.dir, 's.secret') });
      provider = { session_store: 'r' };
    }
    const ngx = h.nginx(conf(await h.port(), idp, upstream, { store, provider }), { workers: 2 });
    await ngx.start();
    await ngx.waitProvider('idp', 'ready');

    const ua = new UserAgent();
    let cookie;
    let since;
    let first;
    await step(t, h, 'login: a refresh token is kept, the app sees the access token', async () => {
      ({ cookie } = await login(ua, ngx.url, '/app/', { op: 'real' }));
      since = Date.now();
      first = await seen(ngx, cookie);
      assert.ok(first['x-access-token'], 'the app gets an access token');
      await idp.settled();
      assert.equal(idp.grantCount('refresh_token'), 0);
    });

    await step(t, h, 'past expiry the request is refreshed: a new access token upstream, the same cookie', async () => {
      await pastExpiry(since);
      const res = await ngx.get('/app/x', { headers: withSession(cookie) });
      assert.equal(res.status, 200, `after expiry: ${res.status} ${res.headers.location || ''}`);
      assert.equal(res.headers['set-cookie'], undefined, 'the session keeps its cookie');
      const after = res.json().headers;
      since = Date.now();
      assert.notEqual(after['x-access-token'], first['x-access-token'], 'a fresh access token upstream');
      assert.equal(after['x-user-sub'], 'demo');
      await idp.settled();
      assert.equal(idp.grantCount('refresh_token'), 1, 'one refresh at the provider');
      first = after;
    });

    await step(t, h, '20 concurrent requests at expiry: exactly one refresh, none fails', async () => {
      await pastExpiry(since);
      const before = idp.grantCount('refresh_token');
      const all = await Promise.all(Array.from({ length: 20 }, (_, i) => ngx.get(`/app/c${i}`, {
        headers: withSession(cookie, i % 2 ? XHR : NAV),
      })));
      since = Date.now();
      const statuses = all.map((r) => r.status);
      assert.deepEqual(statuses, Array(20).fill(200), `statuses: ${statuses}`);
      const tokens = new Set(all.map((r) => r.json().headers['x-access-token']));
      assert.equal(tokens.size, 1, `one new access token for all: ${tokens.size}`);
      assert.ok(!tokens.has(first['x-access-token']), 'and not the expired one');
      await idp.settled();
      assert.equal(idp.grantCount('refresh_token') - before, 1, 'exactly one refresh');
    });

    await step(t, h, 'rotation: the rotated refresh token is the one used next (else invalid_grant ends it)', async () => {
      for (let i = 0; i < 2; i++) {
        await pastExpiry(since);
        const h1 = await seen(ngx, cookie, XHR);
        since = Date.now();
        assert.equal(h1['x-user-sub'], 'demo');
      }
      await idp.settled();
      assert.equal(idp.grantCount('refresh_token'), 4, 'four refreshes in all, each accepted');
    });

    await step(t, h, 'a revoked grant ends the session at the next refresh: 401 for a script, then a new login', async () => {
      assert.ok(await idp.adminRevoke('demo') >= 1, 'the provider revoked the grant');
      await pastExpiry(since);
      const mark = logMark(ngx);
      const api = await ngx.get('/app/api', { headers: withSession(cookie, XHR) });
      assert.equal(api.status, 401, `after revocation: ${api.status}`);
      await sleep(100);
      assert.match(mark.since(), /refresh refused, session of "demo" ended: .*invalid_grant/);
      const nav = await ngx.get('/app/page', { headers: withSession(cookie) });
      assertLoginRedirect(nav, `${idp.issuer}/auth`);
    });
  });
}

itest('refresh: two nginx sharing Redis, concurrent requests on both hosts cause one refresh', async (h) => {
  const idp = await shortTokens(h);
  const upstream = await h.echo();
  const redis = await startRedis(h);
  const store = redisStore('r', redis.addr, { secret_file: secretFile(h.dir, 's.secret') });
  const a = h.nginx(conf(await h.port(), idp, upstream, { store, provider: { session_store: 'r' } }), { workers: 2 });
  const b = h.nginx(conf(await h.port(), idp, upstream, { store, provider: { session_store: 'r' } }), { workers: 2 });
  await a.start();
  await b.start();
  await a.waitProvider('idp', 'ready');
  await b.waitProvider('idp', 'ready');

  const { cookie } = await login(new UserAgent(), a.url, '/app/', { op: 'real' });
  const since = Date.now();
  await seen(b, cookie);
  await pastExpiry(since);
  const all = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).get(`/app/c${i}`, {
    headers: withSession(cookie, XHR),
  })));
  assert.deepEqual(all.map((r) => r.status), Array(20).fill(200));
  assert.equal(new Set(all.map((r) => r.json().headers['x-access-token'])).size, 1, 'one access token on both hosts');
  await idp.settled();
  assert.equal(idp.grantCount('refresh_token'), 1, 'one refresh for both hosts');
});

itest('refresh: provider down keeps the session while its tokens are valid, one log line, and it refreshes once back', async (h, t) => {
  const ttl = 8;
  const idp = await shortTokens(h, { tokenTtl: ttl });
  const upstream = await h.echo();
  const ngx = h.nginx(conf(await h.port(), idp, upstream, { provider: { refresh_margin: '6s', read_timeout: '1s', metadata_retry: '2s' } }), { workers: 2 });
  await ngx.start();
  await ngx.waitProvider('idp', 'ready');
  const { cookie } = await login(new UserAgent(), ngx.url, '/app/', { op: 'real' });
  const since = Date.now();

  await step(t, h, 'within the margin, the provider down: the tokens still serve, one timeout and one log line for the incident', async () => {
    idp.child.kill('SIGSTOP');
    // due at half the tokens' lifetime (the margin's cap)
    await sleep(Math.max(0, since + (ttl / 2) * 1000 + 300 - Date.now()));
    const mark = logMark(ngx);
    for (let i = 0; i < 4; i++) {
      await seen(ngx, cookie, XHR);
    }
    await sleep(100);
    const lines = mark.since().split('\n').filter((l) => /refresh (failed|timed out)/.test(l));
    assert.equal(lines.length, 1, `one line per incident:\n${mark.since()}`);
    assert.match(lines[0], /\[error\].*provider "idp": refresh timed out: .*sessions go on until their tokens expire/);
  });

  await step(t, h, 'past expiry with the provider down: no session for the request (401), the session is kept', async () => {
    await pastExpiry(since, ttl);
    const res = await ngx.get('/app/x', { headers: withSession(cookie, XHR) });
    assert.equal(res.status, 401);
    assert.equal(res.headers['set-cookie'], undefined, 'the cookie is not cleared');
  });

  await step(t, h, 'the provider back: after the retry period (metadata_retry), the same session refreshes and serves again', async () => {
    idp.child.kill('SIGCONT');
    // what nginx gave up on reaches the provider now: not counted
    await sleep(2000);
    const before = idp.grantCount('refresh_token');
    const mark = logMark(ngx);
    const after = await seen(ngx, cookie, XHR);
    assert.equal(after['x-user-sub'], 'demo');
    await idp.settled();
    assert.equal(idp.grantCount('refresh_token') - before, 1, 'one refresh');
    await sleep(100);
    assert.match(mark.since(), /provider "idp": refreshes work again/);
  });
});

itest('refresh: a client that goes away mid-refresh releases the lock: the next request refreshes at once', async (h) => {
  const idp = await shortTokens(h);
  const upstream = await h.echo();
  const ngx = h.nginx(conf(await h.port(), idp, upstream, { provider: { read_timeout: '20s' } }), { workers: 1 });
  await ngx.start();
  await ngx.waitProvider('idp', 'ready');
  const { cookie } = await login(new UserAgent(), ngx.url, '/app/', { op: 'real' });
  await pastExpiry(Date.now());

  idp.child.kill('SIGSTOP');
  await assert.rejects(ngx.get('/app/gone', { headers: withSession(cookie, XHR), timeout: 400 }), /timed out/);
  await sleep(200);
  idp.child.kill('SIGCONT');
  const start = Date.now();
  const res = await ngx.get('/app/next', { headers: withSession(cookie, XHR), timeout: 10000 });
  assert.equal(res.status, 200, `${res.status}`);
  assert.ok(Date.now() - start < 3000, `refreshed at once, not after the abandoned lock: ${Date.now() - start} ms`);
});
