// The Redis session store shared by two nginx instances (one Redis, one
// secret_file): a login on A is a session on B, a logout on B ends it on A,
// sessions survive a full stop/start of nginx, and Redis holds nothing
// readable: keys are "oidc:<s|p>:<43 base64url chars>", values are sealed
// (no session id, sub, email, token or JWT), with the session lifetime (or
// login_timeout for a pending login) as TTL; a pending login is taken
// (GETDEL) by its callback.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import {
  assertCookieCleared, assertLoginRedirect, login, NAV, passFakeOp, protectedLocation, providerBlock, startLogin, step,
  withSession, XHR,
} from './lib/login.mjs';
import { keyRe, redisStore, secretFile, startRedis } from './lib/redis.mjs';
import { waitFor } from './lib/util.mjs';

const SAME_ORIGIN_NAV = { ...NAV, 'sec-fetch-site': 'same-origin' };
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/;

itest('Redis store: sessions shared by two nginx, logout everywhere, survive a restart, nothing readable in Redis', async (h, t) => {
  const redis = await startRedis(h);
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const secret = secretFile(h.dir, 'session.secret');
  const [pa, pb] = [await h.port(), await h.port()];
  const conf = (port) => `
${redisStore('shared', redis.addr, { secret_file: secret })}
${providerBlock('fake', op.issuer, {
    session_store: 'shared', session_timeout: '1h', login_timeout: '5m', logout_uri: '/logout',
  })}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`;
  const a = h.nginx(conf(pa), { workers: 2 });
  const b = h.nginx(conf(pb), { workers: 2 });
  await a.start();
  await b.start();
  await a.waitProvider('fake', 'ready');
  await b.waitProvider('fake', 'ready');
  const auth = `${op.issuer}/auth`;
  const identity = async (ngx, cookie, path = '/app/x') => {
    const res = await ngx.get(path, { headers: withSession(cookie) });
    assert.equal(res.status, 200, `${ngx.url}${path} with the session: ${res.status} ${res.headers.location || ''}`);
    return res.json().headers;
  };

  let pendingKey;
  let pendingState;
  let session; // {cookie, key, value}
  const ua = new UserAgent();

  await step(t, h, 'a started login lives in its sealed cookie; its callback leaves a used-state p: key', async () => {
    assert.deepEqual(await redis.keys('*'), [], 'Redis is empty before the first login');
    const { authUrl } = await startLogin(ua, a.url, '/app/start?x=1', { authorizationEndpoint: auth });
    const u = new URL(authUrl);
    pendingState = u.searchParams.get('state');
    assert.deepEqual(await redis.keys('*'), [], 'a started login writes nothing to Redis');
    const loginCookie = ua.jar.cookies.find((c) => c.name.startsWith('NGX_OIDC_SESSION_login_'));
    assert.ok(loginCookie, 'the started login is in a cookie');
    const sealed = Buffer.from(loginCookie.value, 'base64url');
    for (const s of [pendingState, u.searchParams.get('nonce'), '/app/start']) {
      assert.ok(!sealed.includes(Buffer.from(s)), `login cookie holds ${s.slice(0, 20)} in clear`);
    }

    const callbackUrl = await passFakeOp(ua, authUrl, a.url);
    const cb = await ua.fetch(callbackUrl, { headers: NAV });
    assert.equal(cb.status, 302, `callback: ${cb.status} ${cb.body.slice(0, 300)}`);
    const used = await redis.keys('oidc:p:*');
    assert.equal(used.length, 1, `one used-state key: ${used}`);
    [pendingKey] = used;
    assert.match(pendingKey, keyRe('oidc:', 'p'));
    assert.ok(!pendingKey.includes(pendingState), 'the state is not the key');
    const ttl = Number(await redis.cli('TTL', pendingKey));
    assert.ok(ttl > 250 && ttl <= 300, `TTL of the used state ≈ the login's remaining 5m: ${ttl}`);
    const cookie = ua.jar.get('127.0.0.1', 'NGX_OIDC_SESSION');
    assert.match(cookie, /^[A-Za-z0-9_-]{43}$/);
    const sessions = await redis.keys('oidc:s:*');
    assert.equal(sessions.length, 1, `one session key: ${sessions}`);
    session = { cookie, key: sessions[0] };

    // the same callback again, login cookie and all: used once (the used
    // state is in Redis, so B, sharing the secret, refuses it as well)
    for (const host of [a, b]) {
      const again = await request(callbackUrl.replace(a.url, host.url),
        { headers: { ...NAV, cookie: `${loginCookie.name}=${loginCookie.value}` } });
      assert.equal(again.status, 400, `replayed callback: ${again.status}`);
    }
    assert.equal(op.tokenRequests.length, 1, 'one code exchange');
  });

  await step(t, h, 'the session made on A works on B (and on A)', async () => {
    assert.ok(session, 'login done');
    const onB = await identity(b, session.cookie);
    assert.equal(onB['x-user-sub'], op.user.sub);
    assert.equal(onB['x-user-email'], op.user.email);
    assert.equal(onB['x-id-token'], op.issued.at(-1).id_token);
    const onA = await identity(a, session.cookie);
    assert.equal(onA['x-user-sub'], op.user.sub);
    for (let i = 0; i < 6; i += 1) { // fresh connections: both workers of both
      await identity(i % 2 ? a : b, session.cookie, `/app/${i}`);
    }
  });

  await step(t, h, 'Redis keys and values: sealed, nothing readable', async () => {
    assert.ok(session, 'login done');
    // a second session from B, so that there is more than one record to look at
    const other = await login(new UserAgent(), b.url, '/app/other');
    const keys = await redis.keys('*');
    assert.ok(keys.length >= 2, `keys: ${keys}`);
    for (const k of keys) assert.match(k, keyRe('oidc:'), `key name ${k}`);
    const issued = op.issued.slice(-2);
    const secrets = [
      session.cookie, other.cookie, op.user.sub, op.user.email, op.user.name,
      ...issued.flatMap((i) => [i.id_token, i.access_token, i.id_token.split('.')[1]]),
    ];
    for (const k of keys) {
      for (const s of [session.cookie, other.cookie]) assert.ok(!k.includes(s), `key ${k} holds a session id`);
      const value = await redis.getBuffer(k);
      assert.ok(value && value.length > 28, `${k}: a sealed value (${value?.length} bytes)`);
      assert.equal(value[0], 0x01, `${k}: version byte 0x01 (${value.subarray(0, 8).toString('hex')})`);
      for (const s of secrets) {
        assert.ok(!value.includes(Buffer.from(s)), `${k}: the value holds ${s.slice(0, 12)}... in clear`);
      }
      const latin = value.toString('latin1');
      assert.doesNotMatch(latin, JWT_LIKE, `${k}: a JWT-looking string in the value`);
      assert.doesNotMatch(latin, /fake-user|example\.test|Fake User|"sub"|"email"/, `${k}: claims in clear`);
      const escaped = await redis.getEscaped(k); // what redis-cli shows an operator
      for (const s of secrets) assert.ok(!escaped.includes(s), `${k}: redis-cli --no-raw shows ${s.slice(0, 12)}...`);
      assert.doesNotMatch(escaped, JWT_LIKE);
    }
    const ttl = Number(await redis.cli('TTL', session.key));
    assert.ok(ttl > 3500 && ttl <= 3600, `TTL of the session key ≈ session_timeout 1h: ${ttl}`);
    assert.notEqual(await redis.getBuffer(session.key), null);
    session.other = other.cookie;
  });

  await step(t, h, 'the session survives a full stop and start of nginx A (same secret)', async () => {
    assert.ok(session, 'login done');
    await a.stop();
    await a.start();
    const after = await identity(a, session.cookie, '/app/after-restart');
    // a login needs the provider's metadata, fetched again after a start
    await a.waitProvider('fake', 'ready');
    assert.equal(after['x-user-sub'], op.user.sub);
    assert.equal((await a.get('/app/x', { headers: NAV })).status, 302, 'still no access without a session');
  });

  await step(t, h, 'logout on B ends the session on A too', async () => {
    assert.ok(session, 'login done');
    // the "Log out" button: a same-origin POST (a GET only shows the button)
    const res = await ua.fetch(`${b.url}/logout`, {
      method: 'POST', headers: { ...SAME_ORIGIN_NAV, origin: b.url, 'content-type': 'application/x-www-form-urlencoded' }, body: '',
    });
    assert.equal(res.status, 302, `logout on B: ${res.status} ${res.body.slice(0, 200)}`);
    assertCookieCleared(res);
    await waitFor(async () => (await redis.cli('EXISTS', session.key)) === '0', {
      timeout: 2000, interval: 50, what: `session key ${session.key} deleted from Redis by the logout`,
    });
    assertLoginRedirect(await a.get('/app/x', { headers: withSession(session.cookie) }), auth);
    assert.equal((await a.get('/app/x', { headers: withSession(session.cookie, XHR) })).status, 401);
    assertLoginRedirect(await b.get('/app/x', { headers: withSession(session.cookie) }), auth);
    // the other session is untouched
    assert.equal((await identity(a, session.other))['x-user-sub'], op.user.sub);
    assert.equal((await redis.keys('oidc:s:*')).length, 1, 'only the other session is left');
  });
});
