// oidc_session_info: the page asks what it may know of its session (sub,
// expiry, whether a refresh is due) as JSON, never a token. Asking is not
// activity: it moves no idle timeout and starts no refresh. Without a
// session a script gets the usual 401, or {"authenticated":false} under
// "auth_oidc_unauth pass".
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  login, providerBlock, step, withSession, XHR,
} from './lib/login.mjs';
import { pastExpiry, REFRESHING, shortTokens } from './lib/refresh.mjs';
import { sleep } from './lib/util.mjs';

itest('oidc_session_info: non-secret facts of the session; asking keeps nothing alive', async (h, t) => {
  const op = await h.fakeOp();
  const idp = await shortTokens(h);
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, { session_idle_timeout: '4s', redirect_uri: '/cb/fake' })}
${providerBlock('idp', idp.issuer, REFRESHING)}
${basicServer(port, `
        location /app/ { auth_oidc fake; proxy_pass ${upstream.url}; }
        location = /session { auth_oidc fake; oidc_session_info; }
        location = /session-open { auth_oidc fake; auth_oidc_unauth pass; oidc_session_info; }
        location /idp/ { auth_oidc idp; proxy_pass ${upstream.url}; }
        location = /idp-session { auth_oidc idp; oidc_session_info; }`)}`).start();
  await ngx.waitProvider('fake', 'ready');
  await ngx.waitProvider('idp', 'ready');

  await step(t, h, 'without a session: a script\'s 401 (login_required), or {"authenticated":false}', async () => {
    const res = await ngx.get('/session', { headers: XHR });
    assert.equal(res.status, 401);
    assert.equal(JSON.parse(res.body).error, 'login_required');
    const open = await ngx.get('/session-open', { headers: XHR });
    assert.equal(open.status, 200);
    assert.deepEqual(JSON.parse(open.body), { authenticated: false });
  });

  await step(t, h, 'with one: sub, provider, expiry and idle timeout; no token; no caching', async () => {
    const ua = new UserAgent();
    const { cookie } = await login(ua, ngx.url, '/app/', { callbackPath: '/cb/fake' });
    const res = await ngx.get('/session', { headers: withSession(cookie, XHR) });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers['cache-control'], 'no-store');
    const info = JSON.parse(res.body);
    const now = Math.floor(Date.now() / 1000);
    assert.deepEqual(Object.keys(info).sort(),
      ['authenticated', 'created_at', 'expires_at', 'expires_in', 'idle_timeout', 'provider', 'refresh', 'sub']);
    assert.equal(info.authenticated, true);
    assert.equal(info.provider, 'fake');
    assert.equal(info.sub, 'fake-user-1');
    assert.equal(info.idle_timeout, 4);
    assert.equal(info.refresh, false);
    assert.ok(Math.abs(info.created_at - now) <= 2, `created_at ${info.created_at}`);
    assert.ok(info.expires_at > now && Math.abs(info.expires_in - (info.expires_at - now)) <= 2);
    const tokens = op.issued.at(-1);
    assert.ok(!res.body.includes(tokens.access_token) && !res.body.includes(tokens.id_token.split('.')[1]), 'no token');
  });

  await step(t, h, 'asking every second does not keep an idle session alive', async () => {
    const ua = new UserAgent();
    const { cookie } = await login(ua, ngx.url, '/app/', { callbackPath: '/cb/fake' });
    const start = Date.now();
    for (let i = 0; i < 2; i++) {
      await sleep(1000);
      const res = await ngx.get('/session', { headers: withSession(cookie, XHR) });
      assert.equal(res.status, 200, `asked at ${Date.now() - start} ms`);
    }
    await sleep(Math.max(0, start + 5500 - Date.now()));
    const after = await ngx.get('/session', { headers: withSession(cookie, XHR) });
    assert.equal(after.status, 401, 'the idle timeout ran out although the page kept asking');
    const app = await ngx.get('/app/x', { headers: withSession(cookie, XHR) });
    assert.equal(app.status, 401);
  });

  await step(t, h, 'a session that refreshes: when its tokens expire, and that a refresh is due; asking starts none', async () => {
    const ua = new UserAgent();
    const since = Date.now();
    const { cookie } = await login(ua, ngx.url, '/idp/', { op: 'real' });
    const info = JSON.parse((await ngx.get('/idp-session', { headers: withSession(cookie, XHR) })).body);
    assert.equal(info.refresh, true);
    assert.equal(info.refresh_due, false);
    assert.ok(info.tokens_expire_at > Math.floor(since / 1000) && info.tokens_expire_at <= Math.floor(Date.now() / 1000) + 5,
      `tokens_expire_at ${info.tokens_expire_at}`);
    await pastExpiry(since);
    await idp.settled();
    const grants = idp.grantCount('refresh_token');
    const due = JSON.parse((await ngx.get('/idp-session', { headers: withSession(cookie, XHR) })).body);
    assert.equal(due.refresh_due, true);
    await idp.settled();
    assert.equal(idp.grantCount('refresh_token'), grants, 'no refresh for asking');
    const app = await ngx.get('/idp/x', { headers: withSession(cookie, XHR) });
    assert.equal(app.status, 200);
    await idp.settled();
    assert.equal(idp.grantCount('refresh_token'), grants + 1, 'the app\'s request refreshed');
  });
});
