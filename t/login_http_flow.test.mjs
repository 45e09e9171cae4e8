// The whole browser login over plain HTTP against the real oidc-provider:
// nginx redirects to the provider, demo/demo signs in at its form, the
// provider sends the browser to /oidc_callback, nginx exchanges the code,
// sets the session cookie and sends the browser back where it started;
// then the app sees the identity and never the session cookie.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { decodeJwt } from './lib/fake-op.mjs';
import { itest } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import {
  assertLogHasNo, assertLoginRedirect, assertSessionCookie, CALLBACK, COOKIE, login, NAV, protectedLocation,
  providerBlock, redirectPath, sessionSetCookie, signInAtProvider, step, withSession,
} from './lib/login.mjs';
import { CLIENT_ID, CLIENT_SECRET } from './lib/provider.mjs';

itest('login through the real provider, then the app sees the identity', async (h, t) => {
  const idp = await h.provider();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('idp', idp.issuer, { scope: '"openid email profile"' })}
${basicServer(port, protectedLocation('/app', 'idp', upstream.url))}`).start();
  await ngx.waitProvider('idp', 'ready');
  const meta = (await request(idp.discoveryUrl)).json();
  const ua = new UserAgent();
  const secrets = [CLIENT_SECRET];
  const codes = [];
  let sessionId;
  let idToken;

  await step(t, h, 'first request redirects to the provider', async () => {
    const first = await ua.fetch(`${ngx.url}/app/page?x=1&y=%2F`, { headers: NAV });
    const auth = assertLoginRedirect(first, meta.authorization_endpoint);
    assert.equal(auth.searchParams.get('client_id'), CLIENT_ID);
    assert.equal(auth.searchParams.get('redirect_uri'), `${ngx.url}${CALLBACK}`);
    assert.equal(auth.searchParams.get('scope'), 'openid email profile');
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.match(auth.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(auth.searchParams.get('nonce'));
    assert.match(first.headers['cache-control'] || '', /no-store/);
    assert.equal(upstream.requests.length, 0, 'nothing reached the app');

    const callbackUrl = await signInAtProvider(ua, auth.href, ngx.url, { user: 'demo' });
    const cb = new URL(callbackUrl);
    assert.equal(cb.searchParams.get('state'), auth.searchParams.get('state'));
    assert.ok(cb.searchParams.get('code'));
    assert.equal(idp.hits('/token'), 0, 'no code exchange before the callback');
    codes.push(cb.searchParams.get('code'));

    const callback = await ua.fetch(callbackUrl, { headers: NAV });
    assert.equal(callback.status, 302, `callback: ${callback.status} ${callback.body.slice(0, 300)}`);
    assert.equal(redirectPath(callback, ngx.url), '/app/page?x=1&y=%2F', 'back to the original path and query');
    sessionId = assertSessionCookie(callback);
    await idp.settled();
    assert.equal(idp.hits('/token'), 1, 'one code exchange');
    assert.equal(upstream.requests.length, 0);
  });

  await step(t, h, 'the app sees the identity, not the session cookie', async () => {
    assert.ok(sessionId, 'logged in');
    const res = await ngx.get('/app/page?x=1&y=%2F', { headers: { ...NAV, cookie: `theme=dark; ${COOKIE}=${sessionId}; lang=fr` } });
    assert.equal(res.status, 200, res.body.slice(0, 300));
    const seen = res.json();
    assert.equal(seen.url, '/app/page?x=1&y=%2F');
    assert.equal(seen.headers['x-user-sub'], 'demo');
    assert.equal(seen.headers['x-user-email'], 'demo@example.test');
    const cookie = seen.headers.cookie || '';
    assert.doesNotMatch(cookie, new RegExp(`${COOKIE}=`), `session cookie leaked upstream: ${cookie}`);
    assert.doesNotMatch(cookie, new RegExp(sessionId), 'session id leaked upstream');
    assert.match(cookie, /(^|;\s*)theme=dark(;|$)/, `other cookies kept: ${cookie}`);
    assert.match(cookie, /(^|;\s*)lang=fr(;|$)/, `other cookies kept: ${cookie}`);

    idToken = seen.headers['x-id-token'];
    assert.ok(idToken, '$oidc_id_token');
    secrets.push(idToken, seen.headers['x-access-token']);
    const { header, payload } = decodeJwt(idToken);
    assert.equal(header.kid, idp.kids[0]);
    assert.equal(payload.iss, idp.issuer);
    assert.equal(payload.aud, CLIENT_ID);
    assert.equal(payload.sub, 'demo');
    const expires = Number(seen.headers['x-session-expires']);
    const now = Date.now() / 1000;
    assert.ok(Number.isInteger(expires) && expires > now && expires <= now + 8 * 3600 + 60,
      `$oidc_session_expires ${seen.headers['x-session-expires']}`);
  });

  await step(t, h, 'the session cookie alone: nothing of it reaches the app', async () => {
    assert.ok(sessionId, 'logged in');
    const res = await ngx.get('/app/only', { headers: withSession(sessionId) });
    assert.equal(res.status, 200);
    const seen = res.json();
    assert.equal(seen.headers['x-user-sub'], 'demo');
    assert.ok(!seen.headers.cookie || !/\S/.test(seen.headers.cookie.replace(/;/g, '')),
      `Cookie header upstream should be absent or empty, got ${JSON.stringify(seen.headers.cookie)}`);
  });

  await step(t, h, 'the cookie jar copy also works (the browser as is)', async () => {
    const res = await ua.go(`${ngx.url}/app/again`, { headers: NAV });
    assert.equal(res.status, 200);
    assert.equal(res.json().headers['x-user-sub'], 'demo');
    assert.equal(idp.hits('/token'), 1, 'no new login');
  });

  await step(t, h, 'no client secret, token or session id in error.log (info level)', async () => {
    assertLogHasNo(ngx, secrets);
    assertLogHasNo(ngx, [sessionId], 'session id');
  });

  await step(t, h, 'no authorization code in error.log (info level)', async () => {
    assertLogHasNo(ngx, codes, 'authorization code');
  });
});

itest('over https the session cookie is Secure; cookie_name renames it', async (h) => {
  const { ca, server } = h.pki();
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const [port, tls] = [await h.port(), await h.port()];
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, { cookie_name: 'MYAPP_SESSION' })}
${basicServer(port)}
    server {
        listen 127.0.0.1:${tls} ssl;
        ssl_certificate ${server.cert};
        ssl_certificate_key ${server.key};
${protectedLocation('/app', 'fake', upstream.url)}
    }`).start();
  await ngx.waitProvider('fake', 'ready');
  const base = `https://127.0.0.1:${tls}`;
  const ua = new UserAgent({ ca: ca.pem });
  const { cookie, authUrl, callback } = await login(ua, base, '/app/secure', { cookieName: 'MYAPP_SESSION' });
  assert.equal(new URL(authUrl).searchParams.get('redirect_uri'), `${base}${CALLBACK}`);
  assert.equal(sessionSetCookie(callback, COOKIE), undefined, 'the default name is not used');
  const res = await request(`${base}/app/secure`, { ca: ca.pem, headers: { ...NAV, cookie: `MYAPP_SESSION=${cookie}; keep=1` } });
  assert.equal(res.status, 200);
  const seen = res.json();
  assert.equal(seen.headers['x-user-sub'], op.user.sub);
  assert.equal(seen.headers.cookie, 'keep=1', 'the renamed cookie is stripped too');
  // the default cookie name means nothing to this provider
  const other = await request(`${base}/app/secure`, { ca: ca.pem, headers: withSession(cookie) });
  assert.equal(other.status, 302);
});
