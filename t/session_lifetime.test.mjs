// How long a session lives, on both stores: session_idle_timeout ends a
// session nobody used for that long (every request pushes it on),
// session_timeout ends it that long after login unless a refresh extends
// it (a longer idle timeout does not), and without a refresh token it ends
// with its ID token. oidc_status counts a session a request found past its
// end.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  login, providerBlock, step, withSession, XHR,
} from './lib/login.mjs';
import { redisStore, secretFile, startRedis } from './lib/redis.mjs';
import { sleep } from './lib/util.mjs';

async function alive(ngx, prefix, cookie) {
  const res = await ngx.get(`/${prefix}/api`, { headers: withSession(cookie, XHR) });
  assert.ok([200, 401].includes(res.status), `unexpected ${res.status}`);
  return res.status === 200;
}

for (const kind of ['shm', 'redis']) {
  itest(`session lifetime (${kind}): idle timeout, absolute timeout, the ID token's end without a refresh token`, async (h, t) => {
    const op = await h.fakeOp();
    const short = await h.fakeOp({ idTokenTtl: 3 });
    const upstream = await h.echo();
    let store = '';
    let session = {};
    if (kind === 'redis') {
      const redis = await startRedis(h);
      store = redisStore('r', redis.addr, { secret_file: secretFile(h.dir, 's.secret') });
      session = { session_store: 'r' };
    }
    const port = await h.port();
    const ngx = h.nginx(`
${store}
${providerBlock('idle', op.issuer, { ...session, session_idle_timeout: '3s', redirect_uri: '/cb/idle' })}
${providerBlock('absolute', op.issuer, { ...session, session_timeout: '4s', session_idle_timeout: '60s', redirect_uri: '/cb/absolute' })}
${providerBlock('idtoken', short.issuer, { ...session, redirect_uri: '/cb/idtoken' })}
${basicServer(port, `
        location /idle/ { auth_oidc idle; proxy_pass ${upstream.url}; }
        location /absolute/ { auth_oidc absolute; proxy_pass ${upstream.url}; }
        location /idtoken/ { auth_oidc idtoken; proxy_pass ${upstream.url}; }`)}`, { workers: 2 });
    await ngx.start();
    for (const p of ['idle', 'absolute', 'idtoken']) await ngx.waitProvider(p, 'ready');
    const check = (prefix, cookie) => alive(ngx, prefix, cookie);
    const signIn = async (prefix) => (await login(new UserAgent(), ngx.url, `/${prefix}/`, { callbackPath: `/cb/${prefix}` })).cookie;

    // 3 s: expiry is kept in whole seconds, so a session may end up to 1 s
    // early; a second between requests stays clear of that under ASan
    await step(t, h, 'session_idle_timeout 3s: requests every second keep it alive past 3 s; 4 s without one end it', async () => {
      const cookie = await signIn('idle');
      for (let i = 0; i < 4; i++) {
        await sleep(1000);
        assert.equal(await check('idle', cookie), true, `still used after ${i + 1} s`);
      }
      await sleep(4200);
      assert.equal(await check('idle', cookie), false, 'idle for 4 s: ended');
    });

    await step(t, h, 'session_timeout 4s: ended 4 s after login however busy (a longer idle timeout does not extend it)', async () => {
      const cookie = await signIn('absolute');
      const start = Date.now();
      for (let i = 0; i < 2; i++) {
        await sleep(1000);
        assert.equal(await check('absolute', cookie), true);
      }
      await sleep(Math.max(0, start + 5200 - Date.now()));
      assert.equal(await check('absolute', cookie), false, 'ended after session_timeout');
    });

    await step(t, h, 'no refresh token: the session ends with its ID token (3 s), not after session_timeout (8h)', async () => {
      const cookie = await signIn('idtoken');
      assert.equal(await check('idtoken', cookie), true);
      await sleep(4200);
      assert.equal(await check('idtoken', cookie), false);
    });

    await step(t, h, 'oidc_status counts the session a request found past session_timeout', async () => {
      // the idle timeout kept the record in the store past its end: the
      // request found it and ended it
      const s = await ngx.status();
      assert.ok(s.providers.absolute.sessions.ended_by_timeout >= 1, JSON.stringify(s.providers.absolute.sessions));
    });
  });
}
