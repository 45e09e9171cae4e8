// userinfo on (as NGINX Plus defines it): after login the userinfo endpoint
// is asked with the access token; its claims join the ID token's in
// $oidc_claim_* (the ID token's win), $oidc_userinfo holds the answer, an
// answer about another subject refuses the login, and userinfo off never
// calls it.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  assertNoSession, login, NAV, passFakeOp, protectedLocation, providerBlock, startLogin, step, withSession,
} from './lib/login.mjs';

const USERINFO_HEADERS = `
            proxy_set_header X-Userinfo $oidc_userinfo;
            proxy_set_header X-Name $oidc_claim_name;`;

itest('userinfo on at the real provider: claims only userinfo has reach the app', async (h, t) => {
  // conformIdTokenClaims: email and name are at userinfo only, not in the ID token
  const idp = await h.provider({ conformIdTokenClaims: true });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = h.nginx(`
${providerBlock('on', idp.issuer, { userinfo: 'on', scope: 'openid email profile' })}
${basicServer(port, `
        location /on/ { auth_oidc on; proxy_pass ${upstream.url}; ${USERINFO_HEADERS}
            proxy_set_header X-User-Email $oidc_claim_email; }`)}`, { workers: 1 });
  await ngx.start();
  await ngx.waitProvider('on', 'ready');

  await step(t, h, 'userinfo on: email and name from userinfo, $oidc_userinfo its JSON', async () => {
    const before = idp.hits('/me');
    const { cookie } = await login(new UserAgent(), ngx.url, '/on/', { op: 'real' });
    assert.equal(idp.hits('/me') - before, 1, 'one userinfo request at login');
    const res = await ngx.get('/on/x', { headers: withSession(cookie) });
    assert.equal(res.status, 200);
    const seen = res.json().headers;
    assert.equal(seen['x-user-email'], 'demo@example.test');
    assert.equal(seen['x-name'], 'Demo User');
    const info = JSON.parse(seen['x-userinfo']);
    assert.equal(info.sub, 'demo');
    assert.equal(info.email, 'demo@example.test');
  });
});

itest('userinfo: an answer about another subject refuses the login; off never asks', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = h.nginx(`
${providerBlock('on', op.issuer, { userinfo: 'on', redirect_uri: '/cb/on' })}
${basicServer(port, `
        location /on/ { auth_oidc on; proxy_pass ${upstream.url}; ${USERINFO_HEADERS} }`)}`, { workers: 1 });
  await ngx.start();
  await ngx.waitProvider('on', 'ready');

  await step(t, h, 'a userinfo answer naming another sub: 401, no session, one error line', async () => {
    op.set({ userinfo: { sub: 'someone-else' } });
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, '/on/', { headers: NAV });
    const callbackUrl = await passFakeOp(ua, authUrl, ngx.url, { callbackPath: '/cb/on' });
    const cb = await ua.fetch(callbackUrl, { headers: NAV });
    assert.equal(cb.status, 401, cb.body.slice(0, 300));
    assertNoSession(cb);
    assert.match(ngx.errorLog(), /userinfo refused: .*"sub" "someone-else" is not the ID token's/);
    const me = op.requests.filter((r) => r.path === '/me');
    assert.equal(me.length, 1);
    assert.match(me[0].headers.authorization, /^Bearer [A-Za-z0-9_-]+$/, 'the access token, as a bearer');
    op.reset();
  });

  await step(t, h, 'the same sub: the claims join, the ID token wins where both have one', async () => {
    op.set({ userinfo: { name: 'From Userinfo', nickname: 'fakey' } });
    const { cookie } = await login(new UserAgent(), ngx.url, '/on/', { callbackPath: '/cb/on' });
    const res = await ngx.get('/on/x', { headers: withSession(cookie) });
    const seen = res.json().headers;
    assert.equal(seen['x-name'], 'Fake User', 'the ID token\'s name');
    assert.equal(JSON.parse(seen['x-userinfo']).nickname, 'fakey');
    op.reset();
  });

  await step(t, h, 'userinfo off: the endpoint is never called', async () => {
    const before = op.hits('/me');
    const off = h.nginx(`
${providerBlock('plain', op.issuer, {})}
${basicServer(await h.port(), protectedLocation('/app', 'plain', upstream.url))}`, { workers: 1 });
    await off.start();
    await off.waitProvider('plain', 'ready');
    await login(new UserAgent(), off.url, '/app/');
    assert.equal(op.hits('/me'), before);
  });
});
