// The worker's Redis session cache (oidc_session_store ... cache=SIZE|off,
// cache_max_age=): a worker answers a session it read from its own memory,
// and Redis keeps it exact: the store's connection reads with CLIENT
// TRACKING (REDIRECT to a second connection subscribed to
// __redis__:invalidate, NOLOOP), so a write or delete anywhere else reaches
// every worker. What is asserted: repeat requests send Redis no GET
// (INFO commandstats), a logout on host B is refused on host A within a
// measured bound, a record changed behind nginx's back is never served, a
// lost subscriber or a restarted Redis drops the cache (no stale session),
// DEBUG SLEEP blocks nothing, an idle timeout is checked once per interval
// rather than per request, and a Redis that refuses CLIENT is used without
// the cache after one warning.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  assertLoginRedirect, login, logMark, NAV, protectedLocation, providerBlock, step, withSession, XHR,
} from './lib/login.mjs';
import { redisStore, secretFile, startRedis } from './lib/redis.mjs';
import { sleep, waitFor } from './lib/util.mjs';

const SAME_ORIGIN_NAV = { ...NAV, 'sec-fetch-site': 'same-origin' };

/** Calls of one Redis command so far (INFO commandstats), 0 if never called. */
async function calls(redis, command) {
  const info = await redis.cli('INFO', 'commandstats');
  const m = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

/** The store's cache figures in oidc_status (one worker: exact). */
async function cacheStatus(ngx, store) {
  return (await ngx.status()).stores?.[store]?.cache;
}

function conf(op, upstream, port, redis, secret, storeParams = {}, provider = {}) {
  return `
${redisStore('r', redis.addr, { secret_file: secret, ...storeParams })}
${providerBlock('fake', op.issuer, { session_store: 'r', logout_uri: '/logout', ...provider })}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`;
}

async function tracking(ngx) {
  await waitFor(async () => (await cacheStatus(ngx, 'r'))?.tracking === true, {
    timeout: 5000, interval: 50, what: 'the session cache tracking keys', describe: () => ngx.errorLog().slice(-2000),
  });
}

/** The session's key in Redis: the only "oidc:s:" key that appeared since `before`. */
async function newSessionKey(redis, before) {
  const keys = (await redis.keys('oidc:s:*')).filter((k) => !before.includes(k));
  assert.equal(keys.length, 1, `one new session key: ${keys.join(' ')}`);
  return keys[0];
}

itest('Redis session cache: repeat requests answered from memory, a logout on host B refused on host A', async (h, t) => {
  const redis = await startRedis(h);
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const secret = secretFile(h.dir, 'secret');
  const a = h.nginx(conf(op, upstream, await h.port(), redis, secret), { workers: 1 });
  const b = h.nginx(conf(op, upstream, await h.port(), redis, secret), { workers: 1 });
  await a.start();
  await b.start();
  await a.waitProvider('fake', 'ready');
  await b.waitProvider('fake', 'ready');
  await tracking(a);
  await tracking(b);
  const ua = new UserAgent();
  const { cookie } = await login(ua, a.url, '/app');

  await step(t, h, 'after the first read, host A sends Redis no GET for the session', async () => {
    assert.equal((await a.get('/app/warm', { headers: withSession(cookie) })).status, 200);
    const gets = await calls(redis, 'get');
    const before = await cacheStatus(a, 'r');
    for (let i = 0; i < 20; i++) {
      const res = await a.get(`/app/${i}`, { headers: withSession(cookie) });
      assert.equal(res.status, 200);
      assert.equal(res.json().headers['x-user-sub'], op.user.sub);
    }
    assert.equal(await calls(redis, 'get'), gets, 'no GET for 20 requests with a cached session');
    const after = await cacheStatus(a, 'r');
    assert.equal(after.hits - before.hits, 20, JSON.stringify(after));
    assert.equal(after.entries, 1);
    assert.ok(after.bytes > 0 && after.bytes <= after.max_bytes, JSON.stringify(after));
    // the subscriber: one per worker and host
    const subs = (await redis.cli('CLIENT', 'LIST', 'TYPE', 'pubsub')).trim().split('\n').filter(Boolean);
    assert.equal(subs.length, 2, subs.join('\n'));
  });

  await step(t, h, 'a logout on host B: host A refuses the session within 500 ms (measured)', async () => {
    const res = await ua.fetch(`${b.url}/logout`, {
      method: 'POST', headers: { ...SAME_ORIGIN_NAV, origin: b.url, 'content-type': 'application/x-www-form-urlencoded' }, body: '',
    });
    assert.equal(res.status, 302, `logout on B: ${res.status}`);
    const t0 = performance.now();
    let refused;
    for (;;) {
      refused = await a.get('/app/after-logout', { headers: withSession(cookie) });
      if (refused.status !== 200 || performance.now() - t0 > 2000) break;
      await sleep(2);
    }
    const ms = performance.now() - t0;
    t.diagnostic(`session refused on host A ${ms.toFixed(1)} ms after the logout on host B answered`);
    assertLoginRedirect(refused, `${op.issuer}/auth`);
    assert.ok(ms <= 500, `refused after ${ms.toFixed(1)} ms`);
    assert.equal((await a.get('/app/x', { headers: withSession(cookie, XHR) })).status, 401);
    assert.ok((await cacheStatus(a, 'r')).invalidations >= 1);
  });

  await step(t, h, 'a record changed behind nginx\'s back (another Redis client) is never served from the cache', async () => {
    const before = await redis.keys('oidc:s:*');
    const { cookie: other } = await login(new UserAgent(), a.url, '/app');
    const key = await newSessionKey(redis, before);
    assert.equal((await a.get('/app/1', { headers: withSession(other) })).status, 200);
    assert.equal((await a.get('/app/2', { headers: withSession(other) })).status, 200);
    await redis.cli('SET', key, 'not a sealed record', 'EX', '600');
    const res = await a.get('/app/3', { headers: withSession(other) });
    assertLoginRedirect(res, `${op.issuer}/auth`);
  });
});

itest('Redis session cache: a lost subscriber or a restarted Redis drops the cache; no stale session is accepted', async (h, t) => {
  const redis = await startRedis(h);
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const ngx = await h.nginx(conf(op, upstream, await h.port(), redis, secretFile(h.dir, 's')), { workers: 1 }).start();
  await ngx.waitProvider('fake', 'ready');
  await tracking(ngx);
  const auth = `${op.issuer}/auth`;
  const warm = async (cookie) => {
    for (let i = 0; i < 3; i++) assert.equal((await ngx.get(`/app/w${i}`, { headers: withSession(cookie) })).status, 200);
  };

  await step(t, h, 'subscriber killed (CLIENT KILL TYPE pubsub), then the session deleted: refused, never served', async () => {
    const before = await redis.keys('oidc:s:*');
    const { cookie } = await login(new UserAgent(), ngx.url, '/app');
    const key = await newSessionKey(redis, before);
    await warm(cookie);
    assert.equal((await cacheStatus(ngx, 'r')).entries, 1);
    const mark = logMark(ngx);
    assert.equal(await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub'), '1');
    // nobody can tell this worker now: only dropping its cache keeps it exact
    assert.equal(await redis.cli('DEL', key), '1');
    assertLoginRedirect(await ngx.get('/app/after-kill', { headers: withSession(cookie) }), auth);
    await waitFor(() => /\[notice\].*oidc_session_store "r": the connection that hears invalidations is lost: sessions are read from Redis until it is back/.test(mark.since()), {
      timeout: 2000, interval: 50, what: 'the [notice] line of the lost subscriber', describe: () => mark.since(),
    });
    assert.ok(!/\[error\]/.test(mark.since()), `a lost subscriber is no [error]:\n${mark.since()}`);
  });

  await step(t, h, 'the subscriber comes back: tracking again, and it hears deletes', async () => {
    await tracking(ngx);
    const before = await redis.keys('oidc:s:*');
    const { cookie } = await login(new UserAgent(), ngx.url, '/app');
    const key = await newSessionKey(redis, before);
    await warm(cookie);
    const hits = (await cacheStatus(ngx, 'r')).hits;
    assert.equal((await ngx.get('/app/cached', { headers: withSession(cookie) })).status, 200);
    assert.equal((await cacheStatus(ngx, 'r')).hits, hits + 1, 'served from the cache again');
    assert.equal(await redis.cli('DEL', key), '1');
    assertLoginRedirect(await ngx.get('/app/deleted', { headers: withSession(cookie) }), auth);
  });

  await step(t, h, 'Redis restarted (no persistence): the cached session is not accepted', async () => {
    const { cookie } = await login(new UserAgent(), ngx.url, '/app');
    await warm(cookie);
    await redis.restart();
    for (let i = 0; i < 10; i++) {
      const res = await ngx.get(`/app/restart${i}`, { headers: withSession(cookie) });
      assert.notEqual(res.status, 200, `request #${i} after the restart: a session Redis no longer has`);
      await sleep(30);
    }
    await tracking(ngx);
    assertLoginRedirect(await ngx.get('/app/later', { headers: withSession(cookie) }), auth);
  });
});

itest('Redis session cache: DEBUG SLEEP blocks nothing; a cached session answers, an uncached one gets 503 in time', async (h, t) => {
  const redis = await startRedis(h, { debug: true });
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const ngx = await h.nginx(conf(op, upstream, await h.port(), redis, secretFile(h.dir, 's'), { timeout: '500ms' }), { workers: 1 }).start();
  await ngx.waitProvider('fake', 'ready');
  await tracking(ngx);
  const before = await redis.keys('oidc:s:*');
  const { cookie: cached } = await login(new UserAgent(), ngx.url, '/app');
  const { cookie: uncached } = await login(new UserAgent(), ngx.url, '/app');
  const keys = (await redis.keys('oidc:s:*')).filter((k) => !before.includes(k));
  assert.equal(keys.length, 2);
  for (const c of [cached, uncached]) assert.equal((await ngx.get('/app/warm', { headers: withSession(c) })).status, 200);
  // another client's write takes the second one out of the cache
  for (const k of keys) await redis.cli('EXPIRE', k, '3600');
  assert.equal((await ngx.get('/app/warm', { headers: withSession(cached) })).status, 200);
  assert.equal((await cacheStatus(ngx, 'r')).entries, 1);

  const sleeper = redis.cli('DEBUG', 'SLEEP', '2');
  await sleep(100);
  const [hit, plain, miss] = await Promise.all([
    ngx.get('/app/during', { headers: withSession(cached), timeout: 5000 }),
    ngx.get('/plain', { timeout: 5000 }),
    ngx.get('/app/during-miss', { headers: withSession(uncached, XHR), timeout: 5000 }),
  ]);
  assert.equal(hit.status, 200, 'the cached session: Redis cannot change anything while it sleeps');
  assert.ok(hit.ms < 300, `cached session answered in ${Math.round(hit.ms)} ms`);
  assert.equal(plain.status, 200);
  assert.ok(plain.ms < 300, `/plain answered in ${Math.round(plain.ms)} ms`);
  assert.equal(miss.status, 503, `the uncached session: ${miss.status}`);
  assert.ok(miss.ms >= 450 && miss.ms <= 1500, `503 after ${Math.round(miss.ms)} ms (timeout=500ms)`);
  await sleeper;
  await waitFor(async () => (await ngx.get('/app/back', { headers: withSession(uncached) })).status === 200, {
    timeout: 8000, interval: 100, what: 'the uncached session accepted after the sleep',
  });
});

itest('Redis session cache: session_idle_timeout is checked in Redis once per interval, not per request', async (h, t) => {
  const redis = await startRedis(h);
  const op = await h.fakeOp();
  const upstream = await h.echo();
  // 32 s: the expiry is checked every 2 s (1/16)
  const ngx = await h.nginx(conf(op, upstream, await h.port(), redis, secretFile(h.dir, 's'), {}, { session_idle_timeout: '32s' }), { workers: 1 }).start();
  await ngx.waitProvider('fake', 'ready');
  await tracking(ngx);
  const before = await redis.keys('oidc:s:*');
  const { cookie } = await login(new UserAgent(), ngx.url, '/app');
  const key = await newSessionKey(redis, before);
  const [gets, evals, getexs] = [await calls(redis, 'get'), await calls(redis, 'eval'), await calls(redis, 'getex')];
  const start = Date.now();
  let n = 0;
  while (Date.now() - start < 3000) {
    assert.equal((await ngx.get(`/app/${n}`, { headers: withSession(cookie) })).status, 200);
    n += 1;
    await sleep(50);
  }
  const evalsNow = await calls(redis, 'eval');
  t.diagnostic(`${n} requests in 3 s: ${evalsNow - evals} expiry checks in Redis`);
  assert.ok(n >= 20, `${n} requests`);
  assert.ok(evalsNow - evals >= 1 && evalsNow - evals <= 3, `${evalsNow - evals} checks for ${n} requests`);
  // commandstats counts the GET inside each check's script too
  assert.equal(await calls(redis, 'get'), gets + (evalsNow - evals), 'no GET but those of the checks');
  assert.equal(await calls(redis, 'getex'), getexs);
  const ttl = Number(await redis.cli('TTL', key));
  assert.ok(ttl > 24 && ttl <= 32, `TTL ${ttl}: kept near the idle timeout by the checks`);
  // a check that moved the expiry leaves the key tracked: a delete by
  // another client still reaches this worker
  assert.equal((await cacheStatus(ngx, 'r')).entries, 1);
  assert.equal(await redis.cli('DEL', key), '1');
  const res = await ngx.get('/app/deleted', { headers: withSession(cookie, XHR) });
  assert.equal(res.status, 401, 'the deleted session is not served from the cache');
});

itest('Redis session cache: cache=off, and a Redis that refuses CLIENT: every request reads Redis, one warning', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();

  await step(t, h, 'cache=off: no subscriber, no cache in oidc_status, a GET per request', async () => {
    const redis = await startRedis(h);
    const ngx = await h.nginx(conf(op, upstream, await h.port(), redis, secretFile(h.dir, 's'), { cache: 'off' }), { workers: 1 }).start();
    await ngx.waitProvider('fake', 'ready');
    const { cookie } = await login(new UserAgent(), ngx.url, '/app');
    const gets = await calls(redis, 'get');
    for (let i = 0; i < 5; i++) assert.equal((await ngx.get(`/app/${i}`, { headers: withSession(cookie) })).status, 200);
    assert.equal(await calls(redis, 'get'), gets + 5);
    assert.equal((await ngx.status()).stores.r.cache, null);
    assert.equal((await redis.cli('CLIENT', 'LIST', 'TYPE', 'pubsub')).trim(), '');
    await ngx.stop();
  });

  await step(t, h, 'an ACL user without CLIENT: one [warn], sessions work, read from Redis each time', async () => {
    const redis = await startRedis(h, { users: [{ name: 'app', password: 'app-pw' }] });
    await redis.cli('ACL', 'SETUSER', 'app', '-client');
    const ngx = await h.nginx(conf(op, upstream, await h.port(), redis, secretFile(h.dir, 's2'), { user: 'app', password: 'app-pw' }), { workers: 1 }).start();
    await ngx.waitProvider('fake', 'ready');
    await waitFor(() => /\[warn\].*oidc_session_store "r": Redis .* does not track keys for this worker \(NOPERM/.test(ngx.errorLog()), {
      timeout: 3000, interval: 50, what: 'the [warn] line', describe: () => ngx.errorLog().slice(-1500),
    });
    const { cookie } = await login(new UserAgent(), ngx.url, '/app');
    const gets = await calls(redis, 'get');
    for (let i = 0; i < 5; i++) assert.equal((await ngx.get(`/app/${i}`, { headers: withSession(cookie) })).status, 200);
    assert.equal(await calls(redis, 'get'), gets + 5);
    assert.equal((await cacheStatus(ngx, 'r')).tracking, false);
    assert.equal(ngx.errorLog().split('\n').filter((l) => /does not track keys/.test(l)).length, 1, 'said once');
    assert.ok(!/\[error\]/.test(ngx.errorLog()), ngx.errorLog().slice(-1500));
    await ngx.stop();
  });

  await step(t, h, 'an ACL user without channels (resetchannels): SUBSCRIBE refused, one [warn], no reconnection loop', async () => {
    const redis = await startRedis(h, { args: ['--acl-pubsub-default', 'resetchannels'] });
    await redis.cli('ACL', 'SETUSER', 'nochan', 'on', '>nochan-pw', '~*', '+@all', 'resetchannels');
    const ngx = await h.nginx(conf(op, upstream, await h.port(), redis, secretFile(h.dir, 's3'), { user: 'nochan', password: 'nochan-pw' }), { workers: 1 }).start();
    await ngx.waitProvider('fake', 'ready');
    await waitFor(() => /\[warn\].*oidc_session_store "r": Redis .* does not track keys for this worker \(NOPERM/.test(ngx.errorLog()), {
      timeout: 3000, interval: 50, what: 'the [warn] line', describe: () => ngx.errorLog().slice(-1500),
    });
    const connections = async () => Number(/total_connections_received:(\d+)/.exec(await redis.cli('INFO', 'stats'))[1]);
    const before = await connections();
    await sleep(1500);
    assert.ok(await connections() - before <= 1, 'nginx does not reconnect again and again');
    const { cookie } = await login(new UserAgent(), ngx.url, '/app');
    assert.equal((await ngx.get('/app/x', { headers: withSession(cookie) })).status, 200);
    assert.equal(ngx.errorLog().split('\n').filter((l) => /does not track keys/.test(l)).length, 1, 'said once');
  });
});

itest('Redis session cache: nginx -t refuses a bad cache parameter', async (h) => {
  const port = await h.port();
  const base = (params) => `
    oidc_session_store r ${params};
${providerBlock('fake', 'https://127.0.0.1', { session_store: 'r' })}
${basicServer(port, '')}`;
  const cases = [
    ['redis=127.0.0.1:6379 cache=1k', /invalid cache size "1k" of oidc_session_store "r": "off" or at least 64k/],
    ['redis=127.0.0.1:6379 cache_max_age=0', /invalid parameter "cache_max_age=0" of oidc_session_store/],
    ['redis=127.0.0.1:6379 cache_max_age=soon', /invalid parameter "cache_max_age=soon" of oidc_session_store/],
    ['size=1m cache=8m', /oidc_session_store "r": Redis parameters without "redis="/],
  ];
  for (const [params, re] of cases) {
    const res = await h.nginx(base(params)).test();
    assert.equal(res.ok, false, params);
    assert.match(res.stderr, re, params);
  }
  const ok = await h.nginx(base('redis=127.0.0.1:6379 cache=16m cache_max_age=10s')).test();
  assert.equal(ok.ok, true, ok.stderr);
});
