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

itest('a full session store evicts started logins first, then the least recently used sessions, and says so once', async (h) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  // Sessions keep everything here, so that they take the 2 KiB slab class
  // and a freed session's slot is what the next one needs: the order of
  // evictions is then the same at every run.
  const ngx = await h.nginx(`
    oidc_session_store small size=32k;
${providerBlock('fake', op.issuer, { session_store: 'small', session_tokens: 'all', session_claims: 'all' })}
${basicServer(port, `${protectedLocation('/app', 'fake', upstream.url)}
        location = /metrics { oidc_metrics; }`)}`).start();
  await ngx.waitProvider('fake', 'ready');
  assert.match(ngx.errorLog(), /\[notice\].*oidc_session_store "small" holds about \d+ sessions that keep no token \(256 bytes\), or \d+ that keep an ID, access and refresh token \(3.2 KiB\)/);
  const warned = /\[warn\].*oidc_session_store "small" is full: live sessions are evicted, their users must log in again; raise its size= \(now 32768 bytes, holding (\d+) sessions of (\d+) bytes each\)/g;
  const store = async () => (await ngx.status()).stores.small;

  const empty = await store();
  assert.equal(empty.sessions, 0);
  assert.ok(empty.capacity >= 2 && empty.capacity === Math.floor(empty.free_bytes / 2048), JSON.stringify(empty));

  const cookies = [];
  let more = 6; // logins after the first eviction of a session
  for (let i = 0; i < 300 && more > 0; i += 1) {
    const { cookie } = await login(new UserAgent(), ngx.url, `/app/${i}`);
    cookies.push(cookie);
    if ((await store()).evicted_sessions > 0) more -= 1;
  }
  const full = await store();
  assert.ok(full.evicted_sessions >= 5, `sessions evicted after ${cookies.length} logins: ${JSON.stringify(full)}`);
  assert.ok(cookies.length >= 3, `the store held at least a couple of sessions (${cookies.length} logins)`);
  // every login leaves a used state: those went first, sessions only after
  assert.ok(full.logins <= 1, `started logins' used states evicted before sessions: ${JSON.stringify(full)}`);
  assert.ok(full.evicted > full.evicted_sessions, 'used states were evicted too, counted apart');
  assert.ok(full.sessions >= 2 && full.session_bytes >= 1024 && full.session_bytes <= 4096, JSON.stringify(full));
  assert.ok(Math.abs(full.capacity - full.sessions) <= 1, `a full zone holds what it has: ${JSON.stringify(full)}`);

  const metrics = (await ngx.get('/metrics')).body;
  assert.match(metrics, new RegExp(`^auth_oidc_store_session_evictions_total\\{store="small"\\} ${full.evicted_sessions}$`, 'm'));
  assert.match(metrics, new RegExp(`^auth_oidc_store_sessions\\{store="small"\\} ${full.sessions}$`, 'm'));

  // one warning for the incident, saying what to raise and what fits now
  const lines = [...ngx.errorLog().matchAll(warned)];
  assert.equal(lines.length, 1, `one warning per incident:\n${ngx.errorLog().split('\n').filter((l) => /is full/.test(l)).join('\n')}`);
  assert.ok(Number(lines[0][1]) >= 2 && Number(lines[0][2]) >= 1024, lines[0][0]);

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

// A session over half a page (here an ID token and claims of about 3 KB in
// all) takes a half-page node and chunks of the smaller slot sizes for the
// rest, not a 4 KiB page: what comes back is the same bytes, and a zone
// that evicts such sessions frees their chunks too (the counts stay exact;
// the sanitizer run checks the memory).
itest('a session larger than half a page takes its own size in the zone and comes back byte for byte', async (h, t) => {
  const blob = 'b'.repeat(900);
  const op = await h.fakeOp({ user: { blob } });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
    oidc_session_store big size=64k;
${providerBlock('fake', op.issuer, { session_store: 'big', session_tokens: 'all', session_claims: 'all' })}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url, {
    extra: '            proxy_set_header X-Kept-Id-Token $oidc_id_token;\n            proxy_set_header X-Blob $oidc_claim_blob;',
  }))}`).start();
  await ngx.waitProvider('fake', 'ready');
  const store = async () => (await ngx.status()).stores.big;

  const { cookie } = await login(new UserAgent(), ngx.url, '/app/1');
  const one = await store();
  await step(t, h, 'the record spans a 2 KiB node and smaller chunks: between 2 and 3.5 KiB, not 4', async () => {
    assert.equal(one.sessions, 1);
    assert.ok(one.session_bytes > 2048 && one.session_bytes < 3584, JSON.stringify(one));
  });

  await step(t, h, 'the ID token and the claims come back exactly', async () => {
    const res = await ngx.get('/app/2', { headers: withSession(cookie) });
    assert.equal(res.status, 200);
    const { headers } = res.json();
    assert.equal(headers['x-kept-id-token'], op.issued.at(-1).id_token);
    assert.equal(headers['x-blob'], blob);
  });

  await step(t, h, 'a full zone of such sessions evicts them whole: the bytes a session takes stay what one took', async () => {
    const cookies = [];
    for (let i = 0; i < 40; i += 1) cookies.push((await login(new UserAgent(), ngx.url, `/app/${i}`)).cookie);
    const full = await store();
    assert.ok(full.evicted_sessions > 0, JSON.stringify(full));
    // session_bytes: the zone's session bytes over its sessions; a chunk
    // counted wrong at an eviction would move it
    assert.equal(full.session_bytes, one.session_bytes, JSON.stringify(full));
    const last = await ngx.get('/app/last', { headers: withSession(cookies.at(-1)) });
    assert.equal(last.status, 200);
    assert.equal(last.json().headers['x-blob'], blob);
  });
});
