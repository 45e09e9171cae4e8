// The Redis session store when Redis fails: down (killed, or not yet up),
// slow (beyond timeout=), talking garbage, holding records nginx did not
// seal, or refusing the login. A protected request without a usable answer
// gets 503 (never a redirect to the provider, never a session taken on
// trust), unprotected locations keep working, error.log has one [error]
// line per incident and a [notice] on recovery, and service resumes by
// itself. Records that do not open are refused like a missing session.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  assertErrorLogged, assertLoginRedirect, login, logMark, NAV, protectedLocation, providerBlock,
  sessionSetCookie, step, withSession, XHR,
} from './lib/login.mjs';
import { REDIS_CLI, redisStore, secretFile, startCluster, startRedis } from './lib/redis.mjs';
import { sleep, waitFor } from './lib/util.mjs';

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** [error] lines written since `mark`. */
const errorLines = (mark) => mark.since().split('\n').filter((l) => /\[error\]/.test(l));

/** A 503 that is neither a redirect nor a session. */
function assert503(res, what) {
  assert.equal(res.status, 503, `${what}: expected 503, got ${res.status} ${res.headers.location || ''} ${res.body.slice(0, 200)}`);
  assert.equal(res.headers.location, undefined, `${what}: no Location on a 503`);
  const c = sessionSetCookie(res);
  assert.ok(!c || c.value === '', `${what}: no session cookie on a 503 (${c?.raw})`);
}

/** Requests that must all fail closed while the store is unusable; /plain keeps working. */
async function assertFailsClosed(ngx, cookie, n = 10) {
  for (let i = 0; i < n; i += 1) {
    const kind = i % 3;
    const headers = kind === 0 ? withSession(cookie) : kind === 1 ? withSession(cookie, XHR) : NAV;
    const what = ['navigation with the session cookie', 'XHR with the session cookie', 'navigation without a cookie'][kind];
    assert503(await ngx.get(`/app/down/${i}`, { headers }), `${what} (#${i})`);
    if (i % 3 === 2) {
      const plain = await ngx.get('/plain');
      assert.equal(plain.status, 200, `/plain while Redis is unusable: ${plain.status}`);
    }
  }
}

/** The provider block + server for the store `store`. */
function conf(op, upstream, port, store, storeParams, extra = '') {
  return `
${redisStore(store, storeParams.addr, { ...storeParams, addr: undefined })}
${providerBlock(`p_${store}`, op.issuer, { session_store: store })}
${basicServer(port, protectedLocation('/app', `p_${store}`, upstream.url))}
${extra}`;
}

itest('Redis killed (SIGKILL) and restarted: 503 while down, one [error], [notice] on recovery, sessions back', async (h, t) => {
  const redis = await startRedis(h, { persist: true });
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const secret = secretFile(h.dir, 'secret');
  const ngx = await h.nginx(conf(op, upstream, port, 'red', { addr: redis.addr, secret_file: secret })).start();
  await ngx.waitProvider('p_red', 'ready');
  const { cookie } = await login(new UserAgent(), ngx.url, '/app');
  assert.equal((await ngx.get('/app/x', { headers: withSession(cookie) })).status, 200);
  assert.equal((await ngx.status()).stores?.red?.connected, true, 'status: connected');
  const incidentRe = new RegExp(`auth_oidc: oidc_session_store "red": (connection to Redis ${esc(redis.addr)} lost`
    + `|connect\\(\\) to ${esc(redis.addr)} failed: Connection refused)`);

  const mark = logMark(ngx);
  await step(t, h, 'Redis killed: protected requests 503 (not 302), /plain 200, exactly one [error] line', async () => {
    await redis.kill();
    await assertFailsClosed(ngx, cookie, 12);
    await assertErrorLogged(mark, incidentRe);
    await sleep(300); // reconnect attempts (100, 200 ms...) fail meanwhile
    assert503(await ngx.get('/app/y', { headers: withSession(cookie) }), 'after the reconnect attempts');
    const errors = errorLines(mark);
    assert.equal(errors.length, 1, `one [error] line for the incident, got ${errors.length}:\n${errors.join('\n')}`);
    assert.match(errors[0], incidentRe);
    assert.equal((await ngx.status()).stores?.red?.connected, false, 'status: not connected');
  });

  await step(t, h, 'Redis back (same dir, AOF): [notice] reachable again, the old session works, new logins work', async () => {
    await redis.start();
    const notice = new RegExp(`\\[notice\\].*auth_oidc: oidc_session_store "red": Redis ${esc(redis.addr)} is reachable again`);
    await waitFor(() => notice.test(mark.since()), {
      timeout: 8000, interval: 50, what: 'the [notice] "reachable again" line', describe: () => mark.since(),
    });
    const res = await ngx.get('/app/back', { headers: withSession(cookie) });
    assert.equal(res.status, 200, `the persisted session after recovery: ${res.status} ${res.headers.location || ''}`);
    assert.equal(res.json().headers['x-user-sub'], op.user.sub);
    const { cookie: fresh } = await login(new UserAgent(), ngx.url, '/app/new');
    assert.equal((await ngx.get('/app/x', { headers: withSession(fresh) })).status, 200);
    assert.equal(errorLines(mark).length, 1, `no more [error] lines after recovery:\n${errorLines(mark).join('\n')}`);
    assert.equal((await ngx.status()).stores?.red?.connected, true, 'status: connected again');
  });

  await step(t, h, 'a second incident is logged again, and without persistence the session is gone afterwards', async () => {
    const mark2 = logMark(ngx);
    await redis.kill();
    assert503(await ngx.get('/app/z', { headers: withSession(cookie) }), 'second outage');
    await assertErrorLogged(mark2, incidentRe);
    redis.opts.persist = false; // a fresh, empty Redis (the AOF is not read)
    await redis.start();
    await waitFor(() => /reachable again/.test(mark2.since()), { timeout: 8000, interval: 50, what: 'recovery notice' });
    assertLoginRedirect(await ngx.get('/app/x', { headers: withSession(cookie) }), `${op.issuer}/auth`);
    const { cookie: fresh } = await login(new UserAgent(), ngx.url, '/app/new');
    assert.equal((await ngx.get('/app/x', { headers: withSession(fresh) })).status, 200, 'new login on the empty Redis');
  });
});

itest('Redis down when nginx starts: connect() refused logged once, 503, then it comes up', async (h) => {
  const redis = await startRedis(h, { start: false, port: await h.port() });
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(conf(op, upstream, port, 'late', { addr: redis.addr, secret_file: secretFile(h.dir, 's') })).start();
  await ngx.waitProvider('p_late', 'ready');
  const refused = new RegExp(`\\[error\\].*auth_oidc: oidc_session_store "late": connect\\(\\) to ${esc(redis.addr)} failed: Connection refused`);
  await ngx.waitForLog(refused, { timeout: 3000 });
  await assertFailsClosed(ngx, 'A'.repeat(43), 6);
  const errors = ngx.errorLog().split('\n').filter((l) => /\[error\]/.test(l));
  assert.equal(errors.length, 1, `one [error] line, got:\n${errors.join('\n')}`);

  await redis.start();
  await ngx.waitForLog(/\[notice\].*oidc_session_store "late": Redis .* is reachable again/, { timeout: 8000 });
  const { cookie } = await login(new UserAgent(), ngx.url, '/app');
  assert.equal((await ngx.get('/app/x', { headers: withSession(cookie) })).status, 200);
});

// Without the worker's session cache every request reads Redis: the session
// store_redis_cache test has the sleep with the cache on.
itest('slow Redis (DEBUG SLEEP 3, timeout=500ms, cache=off): 503 in time, nginx not blocked, service resumes', async (h, t) => {
  const redis = await startRedis(h, { debug: true });
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(conf(op, upstream, port, 'slow', {
    addr: redis.addr, timeout: '500ms', secret_file: secretFile(h.dir, 's'), cache: 'off',
  }), { workers: 1 }).start();
  await ngx.waitProvider('p_slow', 'ready');
  const { cookie } = await login(new UserAgent(), ngx.url, '/app');
  assert.equal((await ngx.get('/app/x', { headers: withSession(cookie) })).status, 200);

  const mark = logMark(ngx);
  let sleeper;
  await step(t, h, 'during the sleep: protected 503 within 0.5-1.5 s, /plain within 300 ms', async () => {
    const t0 = Date.now();
    sleeper = new Promise((resolve) => {
      const child = spawn(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(redis.port), 'DEBUG', 'SLEEP', '3'], { stdio: 'ignore' });
      child.on('exit', () => resolve(Date.now() - t0));
      child.on('error', () => resolve(-1));
    });
    await sleep(200); // the sleep has begun
    const [prot, plain, nav] = await Promise.all([
      ngx.get('/app/slow', { headers: withSession(cookie, XHR), timeout: 5000 }),
      sleep(50).then(() => ngx.get('/plain')),
      sleep(100).then(() => ngx.get('/app/slow-login', { headers: NAV, timeout: 5000 })),
    ]);
    assert503(prot, 'protected request with the session during the sleep');
    assert.ok(prot.ms >= 450 && prot.ms <= 1500, `503 after ${Math.round(prot.ms)} ms (timeout=500ms)`);
    assert.equal(plain.status, 200);
    assert.ok(plain.ms < 300, `/plain answered in ${Math.round(plain.ms)} ms during the sleep`);
    assert503(nav, 'navigation without a cookie during the sleep (pending login not stored)');
    assert.ok(nav.ms <= 1500, `login start answered in ${Math.round(nav.ms)} ms`);
    await assertErrorLogged(mark, new RegExp(`oidc_session_store "slow": Redis ${esc(redis.addr)} did not answer within 500 ms`));
    const errors = errorLines(mark);
    assert.equal(errors.length, 1, `one [error] line for the incident, got:\n${errors.join('\n')}`);
  });

  await step(t, h, 'after the sleep the session works again, without a new login', async () => {
    const slept = await sleeper;
    assert.ok(slept >= 2500, `DEBUG SLEEP 3 took ${slept} ms (is DEBUG enabled?)`);
    await waitFor(async () => (await ngx.get('/app/back', { headers: withSession(cookie) })).status === 200, {
      timeout: 3000, interval: 100, what: 'the session accepted again after the sleep', describe: () => mark.since(),
    });
    const res = await ngx.get('/app/back', { headers: withSession(cookie) });
    assert.equal(res.json().headers['x-user-sub'], op.user.sub);
    const { cookie: fresh } = await login(new UserAgent(), ngx.url, '/app/new');
    assert.equal((await ngx.get('/app/x', { headers: withSession(fresh) })).status, 200);
  });

  await step(t, h, 'the recovery from the slow incident is logged: [notice] reachable again', async () => {
    await waitFor(() => /\[notice\].*oidc_session_store "slow": Redis .* is reachable again/.test(mark.since()), {
      timeout: 3000, interval: 50, what: 'the [notice] "reachable again" line after the slow incident',
      describe: () => `log since the incident:\n${mark.since()}`,
    });
  });

  await step(t, h, 'a later incident (Redis killed) is logged at [error] again', async () => {
    const mark2 = logMark(ngx);
    await redis.kill();
    assert503(await ngx.get('/app/z', { headers: withSession(cookie) }), 'Redis killed after the slow incident');
    assert.equal((await ngx.get('/plain')).status, 200);
    await assertErrorLogged(mark2, /oidc_session_store "slow": (connection to Redis .* lost|connect\(\) to .* failed)/);
  });
});

itest('records nginx did not seal are refused like a missing session; error replies are 503', async (h, t) => {
  const redis = await startRedis(h);
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(conf(op, upstream, port, 'junk', {
    addr: redis.addr, secret_file: secretFile(h.dir, 's'),
  }), { workers: 2 }).start();
  await ngx.waitProvider('p_junk', 'ready');
  const auth = `${op.issuer}/auth`;

  const { cookie } = await login(new UserAgent(), ngx.url, '/app');
  const [key] = await redis.keys('oidc:s:*');
  assert.ok(key, 'the session key');
  const genuine = await redis.getBuffer(key);
  const { cookie: other } = await login(new UserAgent(), ngx.url, '/app');
  const otherKey = (await redis.keys('oidc:s:*')).find((k) => k !== key);
  const otherValue = await redis.getBuffer(otherKey);
  const flipped = Buffer.from(genuine);
  flipped[Math.floor(flipped.length / 2)] ^= 0x01;
  const ttl = Number(await redis.cli('TTL', key));

  const cases = [
    ['plain text', Buffer.from('garbage')],
    ['version byte 0x01 and random bytes', Buffer.concat([Buffer.from([0x01]), Buffer.from(Array.from({ length: 80 }, (_, i) => (i * 37 + 11) & 0xff))])],
    ['a JSON session record in clear', Buffer.from(JSON.stringify({ sub: 'admin', exp: 9999999999, provider: 'p_junk' }))],
    ['the genuine record cut short', genuine.subarray(0, genuine.length - 1)],
    ['only the first 5 bytes', genuine.subarray(0, 5)],
    ['the genuine record with one bit flipped', flipped],
    ['another session\'s record moved under this key', otherValue],
    ['unknown version byte', Buffer.concat([Buffer.from([0x7f]), genuine.subarray(1)])],
  ];
  for (const [name, value] of cases) {
    await step(t, h, `${name}: refused (302 / 401), logged, no 500`, async () => {
      await redis.setBuffer(key, value);
      assert.deepEqual(await redis.getBuffer(key), value, 'the bad value is in place');
      const mark = logMark(ngx);
      const nav = await ngx.get('/app/x', { headers: withSession(cookie) });
      assertLoginRedirect(nav, auth);
      const xhr = await ngx.get('/app/x', { headers: withSession(cookie, XHR) });
      assert.equal(xhr.status, 401, `XHR with a refused record: ${xhr.status}`);
      await assertErrorLogged(mark, /oidc_session_store "junk": record refused: /);
      const otherRes = await ngx.get('/app/x', { headers: withSession(other) });
      assert.equal(otherRes.status, 200, 'the other session is unaffected');
    });
  }

  await step(t, h, 'the genuine record put back: the session works again', async () => {
    await redis.setBuffer(key, genuine);
    await redis.cli('EXPIRE', key, String(ttl));
    const res = await ngx.get('/app/x', { headers: withSession(cookie) });
    assert.equal(res.status, 200, `genuine record restored: ${res.status}`);
    assert.equal(res.json().headers['x-user-sub'], op.user.sub);
  });

  await step(t, h, 'a list under the session key (WRONGTYPE error reply): 503, logged', async () => {
    await redis.cli('DEL', key);
    await redis.cli('RPUSH', key, 'x');
    const mark = logMark(ngx);
    assert503(await ngx.get('/app/x', { headers: withSession(cookie) }), 'WRONGTYPE reply');
    await assertErrorLogged(mark, /oidc_session_store "junk"/);
    await redis.cli('DEL', key);
    assertLoginRedirect(await ngx.get('/app/x', { headers: withSession(cookie) }), auth);
  });
});

itest('a server that is not Redis (answers garbage): 503, one [error] line, /plain fine', async (h) => {
  const sockets = new Set();
  const fake = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.on('data', () => s.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
  });
  await new Promise((resolve) => fake.listen(0, '127.0.0.1', resolve));
  h.defer(() => new Promise((resolve) => { for (const s of sockets) s.destroy(); fake.close(resolve); }));
  const addr = `127.0.0.1:${fake.address().port}`;
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(conf(op, upstream, port, 'nope', { addr, secret_file: secretFile(h.dir, 's') })).start();
  await ngx.waitProvider('p_nope', 'ready');
  const all = { since: () => ngx.errorLog() }; // the incident may be logged at the first connection
  await assertFailsClosed(ngx, 'B'.repeat(43), 9);
  await assertErrorLogged(all, new RegExp(`oidc_session_store "nope": .*${esc(addr)}`));
  await sleep(500); // some reconnects
  assert503(await ngx.get('/app/x', { headers: withSession('B'.repeat(43)) }), 'still');
  const errors = ngx.errorLog().split('\n').filter((l) => /\[error\]/.test(l));
  assert.equal(errors.length, 1, `one [error] line for the incident, got:\n${errors.join('\n')}`);
});

itest('Redis authentication: requirepass, wrong and missing password, ACL user with db=, bad db=, unix socket', async (h, t) => {
  const redis = await startRedis(h, { password: 's3cret', users: [{ name: 'alice', password: 'alicepw' }], unixsocket: true });
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const secret = secretFile(h.dir, 's');
  const stores = {
    good: { addr: redis.addr, password: 's3cret' },
    bad: { addr: redis.addr, password: 'wrong' },
    nopass: { addr: redis.addr },
    acl: { addr: redis.addr, user: 'alice', password: 'alicepw', db: 2 },
    baddb: { addr: redis.addr, password: 's3cret', db: 99 },
    sock: { addr: `unix:${redis.socket}`, password: 's3cret', prefix: 'sock:' },
  };
  const ports = {};
  let http = '';
  for (const [name, params] of Object.entries(stores)) {
    ports[name] = await h.port();
    http += conf(op, upstream, ports[name], name, { ...params, secret_file: secret });
  }
  const ngx = await h.nginx(http, { port: ports.good }).start();
  for (const name of Object.keys(stores)) await ngx.waitProvider(`p_${name}`, 'ready');
  const base = (name) => `http://127.0.0.1:${ports[name]}`;
  const get = (name, path, headers) => new UserAgent().fetch(`${base(name)}${path}`, { headers });

  const works = async (name, { db, prefix = 'oidc:' } = {}) => {
    const { cookie } = await login(new UserAgent(), base(name), '/app');
    const res = await get(name, '/app/x', withSession(cookie));
    assert.equal(res.status, 200, `${name}: session ${res.status}`);
    assert.equal(res.json().headers['x-user-sub'], op.user.sub);
    const keys = await redis.keys(`${prefix}s:*`, { db });
    assert.ok(keys.length >= 1, `${name}: a session key ${prefix}s:* in db ${db ?? 0}`);
    return cookie;
  };

  let goodCookie;
  await step(t, h, 'the right password: login and session', async () => {
    goodCookie = await works('good');
  });

  await step(t, h, 'an ACL user with its password, db=2: login and session, keys in db 2', async () => {
    const before = (await redis.keys('oidc:s:*')).length;
    await works('acl', { db: 2 });
    assert.equal((await redis.keys('oidc:s:*')).length, before, 'nothing new in db 0');
  });

  await step(t, h, 'the unix socket: login and session', async () => {
    await works('sock', { prefix: 'sock:' });
  });

  const storeErrors = (name) => ngx.errorLog().split('\n').filter((l) => /\[error\]/.test(l) && l.includes(`"${name}"`));

  await step(t, h, 'a wrong password: [error] refused the login (WRONGPASS) once, protected requests 503', async () => {
    await ngx.waitForLog(/\[error\].*auth_oidc: oidc_session_store "bad": Redis 127\.0\.0\.1:\d+ refused the login or database: WRONGPASS/, { timeout: 3000 });
    for (let i = 0; i < 3; i += 1) {
      assert503(await get('bad', '/app/x', withSession(goodCookie)), 'bad password, with a cookie');
      assert503(await get('bad', '/app/x', NAV), 'bad password, navigation');
    }
    assert.equal((await get('bad', '/plain')).status, 200);
    const lines = storeErrors('bad');
    assert.equal(lines.length, 1, `one [error] line for "bad", got:\n${lines.join('\n')}`);
  });

  await step(t, h, 'db= beyond the databases: protected requests 503, [error] refused the login or database: ERR', async () => {
    for (let i = 0; i < 3; i += 1) {
      assert503(await get('baddb', '/app/x', withSession(goodCookie)), 'bad db, with a cookie');
      assert503(await get('baddb', '/app/x', NAV), 'bad db, navigation');
    }
    await ngx.waitForLog(/\[error\].*auth_oidc: oidc_session_store "baddb": Redis 127\.0\.0\.1:\d+ refused the login or database: ERR DB index is out of range/, { timeout: 3000 });
  });

  await step(t, h, 'db= beyond the databases: logged once, never "reachable again"', async () => {
    const lines = storeErrors('baddb');
    const notices = ngx.errorLog().split('\n').filter((l) => /\[notice\].*"baddb".*reachable again/.test(l));
    assert.ok(lines.length === 1 && notices.length === 0, `one [error] line and no "reachable again" for "baddb", got `
      + `${lines.length} [error] and ${notices.length} [notice] lines, e.g.:\n${[...lines.slice(0, 2), ...notices.slice(0, 2)].join('\n')}`);
  });

  await step(t, h, 'no password against requirepass: protected requests 503', async () => {
    for (let i = 0; i < 4; i += 1) {
      assert503(await get('nopass', '/app/x', withSession(goodCookie)), `no password, with a cookie (#${i})`);
      assert503(await get('nopass', '/app/x', NAV), `no password, navigation (#${i})`);
    }
  });

  await step(t, h, 'no password against requirepass: one [error] line, refused the login or database: NOAUTH', async () => {
    const lines = storeErrors('nopass');
    assert.equal(lines.length, 1, `one [error] line for "nopass", got ${lines.length}:\n${lines.slice(0, 6).join('\n')}`);
    assert.match(lines[0], /oidc_session_store "nopass": Redis 127\.0\.0\.1:\d+ refused the login or database: NOAUTH/);
  });

  await step(t, h, 'no password in error.log', async () => {
    assert.doesNotMatch(ngx.errorLog(), /s3cret|alicepw/);
  });
});

// Redis Cluster is not spoken yet: a node of one given as redis= answers
// MOVED for keys of the other node's slots. Those requests get 503, and the
// log says what the operator has, once, rather than "answered an error".
itest('a Redis Cluster node given as redis=: 503 and one [error] line that says it is a Cluster', async (h) => {
  const [a, b] = await startCluster(h, 2);
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(conf(op, upstream, port, 'cl', {
    addr: a.addr, secret_file: secretFile(h.dir, 's'),
  }), { workers: 1 }).start();
  await ngx.waitProvider('p_cl', 'ready');
  const mark = logMark(ngx);
  const statuses = [];
  for (let i = 0; i < 8; i += 1) {
    const ua = new UserAgent();
    try {
      const { cookie } = await login(ua, ngx.url, '/app');
      statuses.push((await ngx.get('/app/x', { headers: withSession(cookie) })).status);
    } catch {
      statuses.push('login failed');
    }
  }
  // about half the keys live on the other node: with 8 logins, some fail
  assert.ok(statuses.some((s) => s !== 200), statuses.join(','));
  await assertErrorLogged(mark, new RegExp(`oidc_session_store "cl": Redis ${esc(a.addr)} is a node of a Redis Cluster \\(MOVED \\d+ 127\\.0\\.0\\.1:${b.port}\\): name its nodes with "cluster=", not "redis="`));
  assert.ok(!/answered an error: MOVED/.test(ngx.errorLog()));
});
