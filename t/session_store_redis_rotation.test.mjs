// Secrets of the Redis session store: a rotation (secret_file= new,
// previous_secret_file= old) keeps the sessions sealed with the old secret
// until the old secret is dropped; without secret_file= nginx warns that its
// random secret dies with it, yet sessions survive "nginx -s reload".
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  assertLoginRedirect, login, logMark, NAV, protectedLocation, providerBlock, step, withSession, XHR,
} from './lib/login.mjs';
import { keyRe, redisStore, secretFile, startRedis } from './lib/redis.mjs';

const NO_SECRET_WARN = /\[warn\].*oidc_session_store "(\w+)" has no secret_file=: its sessions are sealed with a random secret/;

itest('Redis store: secret rotation with previous_secret_file=, then the old secret dropped', async (h, t) => {
  const redis = await startRedis(h);
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const secretA = secretFile(h.dir, 'a.secret');
  const secretB = secretFile(h.dir, 'b.secret');
  const port = await h.port();
  const conf = (params) => `
${redisStore('rot', redis.addr, params)}
${providerBlock('fake', op.issuer, { session_store: 'rot' })}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`;
  const ngx = await h.nginx(conf({ secret_file: secretA }), { workers: 2 }).start();
  await ngx.waitProvider('fake', 'ready');
  const auth = `${op.issuer}/auth`;
  const works = async (cookie, what) => {
    for (let i = 0; i < 3; i += 1) { // both workers
      const res = await ngx.get(`/app/${i}`, { headers: withSession(cookie) });
      assert.equal(res.status, 200, `${what}: ${res.status} ${res.headers.location || ''}`);
      assert.equal(res.json().headers['x-user-sub'], op.user.sub, what);
    }
  };
  assert.doesNotMatch(ngx.errorLog() + ngx.stderr.text, NO_SECRET_WARN, 'no warning with a secret_file');

  const { cookie: oldCookie } = await login(new UserAgent(), ngx.url, '/app');
  await works(oldCookie, 'the session sealed with secret A');
  const [oldKey] = await redis.keys('oidc:s:*');
  assert.match(oldKey, keyRe('oidc:', 's'));

  let newCookie;
  await step(t, h, 'reload with secret B, previous A: the old session still works, a new login works', async () => {
    await ngx.reload(conf({ secret_file: secretB, previous_secret_file: secretA }));
    await works(oldCookie, 'the old session after the rotation');
    ({ cookie: newCookie } = await login(new UserAgent(), ngx.url, '/app/new'));
    await works(newCookie, 'a session made after the rotation');
    const keys = await redis.keys('oidc:s:*');
    assert.equal(keys.length, 2, `two sessions: ${keys}`);
    for (const k of keys) assert.match(k, keyRe('oidc:', 's'));
    assert.ok(keys.includes(oldKey), 'the old session is still stored');
  });

  await step(t, h, 'reload with secret B only: the old session is gone, the new one works', async () => {
    assert.ok(newCookie, 'login after the rotation done');
    await ngx.reload(conf({ secret_file: secretB }));
    assertLoginRedirect(await ngx.get('/app/x', { headers: withSession(oldCookie) }), auth);
    assert.equal((await ngx.get('/app/x', { headers: withSession(oldCookie, XHR) })).status, 401);
    await works(newCookie, 'the session sealed with secret B');
    const { cookie: third } = await login(new UserAgent(), ngx.url, '/app/third');
    await works(third, 'a new login with secret B only');
  });

  await step(t, h, 'back to secret A only: sessions sealed with B are not accepted', async () => {
    await ngx.reload(conf({ secret_file: secretA }));
    assertLoginRedirect(await ngx.get('/app/x', { headers: withSession(newCookie) }), auth);
  });
});

itest('Redis store without secret_file=: a [warn] at start, sessions survive a reload', async (h, t) => {
  const redis = await startRedis(h);
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const conf = `
${redisStore('nosecret', redis.addr)}
${providerBlock('fake', op.issuer, { session_store: 'nosecret' })}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`;
  const ngx = h.nginx(conf, { workers: 2 });

  await step(t, h, 'nginx -t and the start warn about the random secret', async () => {
    const test = await ngx.test();
    assert.equal(test.code, 0, test.stderr);
    assert.match(test.stderr, NO_SECRET_WARN);
    assert.equal(NO_SECRET_WARN.exec(test.stderr)[1], 'nosecret');
    await ngx.start();
    assert.match(`${ngx.errorLog()}\n${ngx.stderr.text}`, NO_SECRET_WARN, 'the [warn] line at start (error.log or stderr)');
  });

  let cookie;

  await step(t, h, 'a session survives nginx -s reload (the random secret is kept)', async () => {
    await ngx.waitProvider('fake', 'ready');
    ({ cookie } = await login(new UserAgent(), ngx.url, '/app'));
    assert.equal((await ngx.get('/app/x', { headers: withSession(cookie) })).status, 200);
    const mark = logMark(ngx);
    const before = ngx.workerPids();
    await ngx.reload();
    assert.ok(ngx.workerPids().every((p) => !before.includes(p)), 'all workers replaced');
    for (let i = 0; i < 4; i += 1) {
      const res = await ngx.get(`/app/after-reload/${i}`, { headers: withSession(cookie) });
      assert.equal(res.status, 200, `after reload: ${res.status} ${res.headers.location || ''}`);
      assert.equal(res.json().headers['x-user-sub'], op.user.sub);
    }
    assert.equal((await ngx.get('/app/x', { headers: NAV })).status, 302, 'still no access without it');
    assert.doesNotMatch(mark.since(), /record refused/, 'no record refused after the reload');
  });

  await step(t, h, 'a full stop and start ends the sessions (a new random secret)', async () => {
    assert.ok(cookie, 'login done');
    await ngx.stop();
    await ngx.start();
    await ngx.waitProvider('fake', 'ready');
    assertLoginRedirect(await ngx.get('/app/x', { headers: withSession(cookie) }), `${op.issuer}/auth`);
    const { cookie: fresh } = await login(new UserAgent(), ngx.url, '/app');
    assert.equal((await ngx.get('/app/x', { headers: withSession(fresh) })).status, 200, 'a new login works');
  });
});
