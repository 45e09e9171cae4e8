// The shared-memory session store: sessions are seen by every worker and
// survive "nginx -s reload"; a session belongs to the provider that made it;
// a full store evicts its least recently used entries (with a [warn] line)
// instead of refusing new logins.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import {
  assertLoginRedirect, assertSessionCookie, login, NAV, passFakeOp, protectedLocation, providerBlock,
  startLogin, step, withSession, XHR,
} from './lib/login.mjs';

itest('sessions: shared by workers, survive reload, bound to their provider', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('pa', op.issuer)}
${providerBlock('pb', op.issuer)}
${basicServer(port, [
    protectedLocation('/a', 'pa', upstream.url),
    protectedLocation('/b', 'pb', upstream.url),
  ].join('\n'))}`, { workers: 2 }).start();
  await ngx.waitProvider('pa', 'ready');
  await ngx.waitProvider('pb', 'ready');
  const auth = `${op.issuer}/auth`;

  const ua = new UserAgent();
  const { cookie } = await login(ua, ngx.url, '/a');

  await step(t, h, 'every worker knows the session (fresh connections)', async () => {
    for (let i = 0; i < 10; i += 1) {
      const res = await ngx.get(`/a/${i}`, { headers: withSession(cookie) });
      assert.equal(res.status, 200, `request ${i}: ${res.status}`);
      assert.equal(res.json().headers['x-user-sub'], op.user.sub);
    }
  });

  await step(t, h, 'a session made with provider pa is not accepted by pb', async () => {
    const res = await ngx.get('/b/x', { headers: withSession(cookie) });
    assertLoginRedirect(res, auth);
    const xhr = await ngx.get('/b/x', { headers: withSession(cookie, XHR) });
    assert.equal(xhr.status, 401);
    assert.equal((await ngx.get('/a/x', { headers: withSession(cookie) })).status, 200, 'still fine at pa');
    // and the other way round
    const other = new UserAgent();
    const { cookie: cb } = await login(other, ngx.url, '/b');
    assert.equal((await ngx.get('/b/x', { headers: withSession(cb) })).status, 200);
    assertLoginRedirect(await ngx.get('/a/x', { headers: withSession(cb) }), auth);
  });

  await step(t, h, 'the session survives nginx -s reload', async () => {
    const before = ngx.workerPids();
    await ngx.reload();
    assert.ok(ngx.workerPids().every((p) => !before.includes(p)), 'all workers replaced');
    for (let i = 0; i < 4; i += 1) {
      const res = await ngx.get('/a/after-reload', { headers: withSession(cookie) });
      assert.equal(res.status, 200, `after reload: ${res.status} ${res.headers.location || ''}`);
      assert.equal(res.json().headers['x-user-sub'], op.user.sub);
    }
    assert.equal((await ngx.get('/a/after-reload', { headers: NAV })).status, 302, 'and still no access without it');
  });
});

itest('a full session store evicts the least recently used sessions and says so', async (h) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
    oidc_session_store small size=32k;
${providerBlock('fake', op.issuer, { session_store: 'small' })}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');
  const full = /\[warn\].*oidc_session_store "small" is full: \d+ least recently used entries evicted/;

  const cookies = [];
  let more = 3; // a few logins after the first eviction
  for (let i = 0; i < 300 && more > 0; i += 1) {
    const { cookie } = await login(new UserAgent(), ngx.url, `/app/${i}`);
    cookies.push(cookie);
    if (full.test(ngx.errorLog())) more -= 1;
  }
  assert.match(ngx.errorLog(), full, `no eviction after ${cookies.length} logins`);
  assert.ok(cookies.length >= 3, `the store held at least a couple of sessions (${cookies.length} logins)`);

  const first = await ngx.get('/app/first', { headers: withSession(cookies[0]) });
  assertLoginRedirect(first, `${op.issuer}/auth`);
  const last = await ngx.get('/app/last', { headers: withSession(cookies.at(-1)) });
  assert.equal(last.status, 200, 'the newest session works');
  assert.equal(last.json().headers['x-user-sub'], op.user.sub);
});

// The zone is a hash table with one bucket per KiB (64 at least): a 128k zone
// has 128 buckets, and a few hundred started logins put several entries in
// each, so finding, taking and evicting entries in the middle of a bucket's
// chain all happen here.
itest('a store with several entries per bucket finds, takes and evicts the right ones', async (h) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
    oidc_session_store crowded size=128k;
${providerBlock('fake', op.issuer, { session_store: 'crowded' })}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');

  const sessions = [];
  for (let i = 0; i < 12; i += 1) sessions.push((await login(new UserAgent(), ngx.url, `/app/s${i}`)).cookie);

  // logins started now finish after the store has filled up
  const pending = [];
  for (let i = 0; i < 25; i += 1) {
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, `/app/p${i}`);
    pending.push({ ua, authUrl, i });
  }

  // callbacks whose code the provider refuses each leave a small used-state
  // record (the state is recorded before the exchange), until the zone is full
  const used = [];
  for (let i = 0; i < 1500; i += 1) {
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, `/app/u${i}`);
    const cb = new URL(await passFakeOp(ua, authUrl, ngx.url));
    const cookie = ua.jar.header(cb.href);
    cb.searchParams.set('code', `bogus-${i}`);
    const res = await ua.fetch(cb.href, { headers: NAV });
    assert.equal(res.status, 401, `callback ${i} with a refused code: ${res.status}`);
    used.push({ url: cb.href, cookie });
  }
  await ngx.waitForLog(/oidc_session_store "crowded" is full/);
  const entries = (await ngx.status()).stores.crowded.entries;
  assert.ok(entries > 128 * 1.5, `several entries per bucket (${entries} entries in 128 buckets)`);

  // the newest used states are found in their chains: a replay is refused
  // before the provider is asked again ...
  for (const { url, cookie } of used.slice(-25)) {
    const tokens = op.tokenRequests.length;
    const res = await request(url, { headers: { ...NAV, cookie } });
    assert.equal(res.status, 400, `replay of a recent callback: ${res.status}`);
    assert.equal(op.tokenRequests.length, tokens, 'no exchange for a used state');
  }
  // ... the oldest were evicted first (the provider then refuses the code)
  const oldest = await request(used[0].url, { headers: { ...NAV, cookie: used[0].cookie } });
  assert.equal(oldest.status, 401, `the oldest used state was evicted: ${oldest.status}`);

  // the logins started before the flood finish, each once
  for (const { ua, authUrl, i } of pending) {
    const res = await ua.fetch(await passFakeOp(ua, authUrl, ngx.url), { headers: NAV });
    assert.equal(res.status, 302, `login ${i} finishes`);
    assert.ok(res.headers.location.endsWith(`/app/p${i}`), res.headers.location);
    sessions.push(assertSessionCookie(res));
  }
  for (const [n, cookie] of sessions.entries()) {
    const res = await ngx.get(`/app/check${n}`, { headers: withSession(cookie) });
    assert.equal(res.status, 200, `session ${n} is found`);
  }
  assert.deepEqual(ngx.problems(), []);
});

// A worker keeps the sessions it decoded and reuses one while the store
// says its record is unchanged (a version per record): no copy, no decoding.
// Any put gives a record a new version, so the copy never outlives it.
itest('decoded sessions: reused while the record is unchanged, never after it changed', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('pa', op.issuer, { logout_uri: '/logout' })}
${basicServer(port, protectedLocation('/a', 'pa', upstream.url))}`, { workers: 1 }).start();
  await ngx.waitProvider('pa', 'ready');
  const memo = async () => (await ngx.status()).session_memo;

  const ua = new UserAgent();
  const { cookie } = await login(ua, ngx.url, '/a');
  const { cookie: other } = await login(new UserAgent(), ngx.url, '/a');

  await step(t, h, 'decoded once, then reused: oidc_status session_memo', async () => {
    const before = await memo();
    for (let i = 0; i < 10; i += 1) {
      const res = await ngx.get(`/a/${i}`, { headers: withSession(i % 2 ? other : cookie) });
      assert.equal(res.status, 200);
      assert.equal(res.json().headers['x-user-sub'], op.user.sub);
    }
    const after = await memo();
    assert.equal(after.decoded - before.decoded, 2, JSON.stringify(after));
    assert.equal(after.hits - before.hits, 8, JSON.stringify(after));
    assert.equal(after.entries, 2);
    assert.ok(after.bytes > 0 && after.bytes <= after.max_bytes);
  });

  await step(t, h, 'a logout: the copy is not used; the other session still is', async () => {
    const res = await ua.fetch(`${ngx.url}/logout`, {
      method: 'POST',
      headers: { ...NAV, 'sec-fetch-site': 'same-origin', origin: ngx.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(res.status, 302);
    assertLoginRedirect(await ngx.get('/a/after', { headers: withSession(cookie) }), `${op.issuer}/auth`);
    assert.equal((await ngx.get('/a/after', { headers: withSession(cookie, XHR) })).status, 401);
    assert.equal((await ngx.get('/a/other', { headers: withSession(other) })).status, 200);
    assert.equal((await memo()).entries, 1, 'the ended session let go');
  });
});
