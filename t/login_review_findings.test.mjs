// Findings of a security review of the login flow, one test each (issue 9):
// a second provider on the same callback path can log in; an access token
// with CR/LF never becomes an upstream header; a provider that promises
// "iss" in its answers (RFC 9207) is held to it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  assertErrorLogged, assertNoSession, COOKIE, login, logMark, NAV, passFakeOp, protectedLocation, providerBlock,
  startLogin, withSession,
} from './lib/login.mjs';
import { waitFor } from './lib/util.mjs';

itest('two providers on one callback path: each logs in with its own cookie', async (h) => {
  const one = await h.fakeOp({ user: { sub: 'user-of-one' } });
  const two = await h.fakeOp({ user: { sub: 'user-of-two' } });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('one', one.issuer, { cookie_name: 'ONE' })}
${providerBlock('two', two.issuer, { cookie_name: 'TWO' })}
${basicServer(port, `${protectedLocation('/one', 'one', upstream.url)}${protectedLocation('/two', 'two', upstream.url)}`)}`)
    .start();
  await ngx.waitProvider('one', 'ready');
  await ngx.waitProvider('two', 'ready');

  for (const [name, op, cookieName] of [['two', two, 'TWO'], ['one', one, 'ONE']]) {
    const { cookie: id, location } = await login(new UserAgent(), ngx.url, `/${name}/page`, { cookieName });
    assert.equal(location, `/${name}/page`);
    const res = await ngx.get(`/${name}/x`, { headers: withSession(id, NAV, cookieName) });
    assert.equal(res.status, 200);
    assert.equal(res.json().headers['x-user-sub'], `user-of-${name}`);
    assert.equal(op.tokenRequests.length, 1, `${name}: its own provider exchanged the code`);
  }
});

itest('an access token with CR/LF is refused: it never becomes an upstream header', async (h) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');
  op.set({
    token: {
      status: 200,
      json: { access_token: 'abc\r\nX-Injected: yes', token_type: 'Bearer', expires_in: 60, id_token: 'x.y.z' },
    },
  });
  const ua = new UserAgent();
  const { authUrl } = await startLogin(ua, ngx.url, '/app', { authorizationEndpoint: `${op.issuer}/auth` });
  const mark = logMark(ngx);
  const cb = await ua.fetch(await passFakeOp(ua, authUrl, ngx.url), { headers: NAV });
  assert.equal(cb.status, 502, `callback: ${cb.status}`);
  assertNoSession(cb);
  await assertErrorLogged(mark, /token response refused.*access_token.*RFC 6750/);
  assert.equal(upstream.requests.length, 0);
});

itest('RFC 9207: a provider that promises "iss" gets answers without it refused', async (h) => {
  const op = await h.fakeOp({ discovery: { authorization_response_iss_parameter_supported: true } });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');

  // the fake OP sends no iss: refused before any code exchange
  let ua = new UserAgent();
  let { authUrl } = await startLogin(ua, ngx.url, '/app', { authorizationEndpoint: `${op.issuer}/auth` });
  const mark = logMark(ngx);
  let callbackUrl = await passFakeOp(ua, authUrl, ngx.url);
  assert.equal(new URL(callbackUrl).searchParams.get('iss'), null);
  const cb = await ua.fetch(callbackUrl, { headers: NAV });
  assert.equal(cb.status, 400, `callback without iss: ${cb.status}`);
  assertNoSession(cb);
  await assertErrorLogged(mark, /login answer without "iss"/);
  assert.equal(op.tokenRequests.length, 0, 'no code exchange');

  // with the right iss, the login goes through
  ua = new UserAgent();
  ({ authUrl } = await startLogin(ua, ngx.url, '/app', { authorizationEndpoint: `${op.issuer}/auth` }));
  callbackUrl = new URL(await passFakeOp(ua, authUrl, ngx.url));
  callbackUrl.searchParams.set('iss', op.issuer);
  const ok = await ua.fetch(callbackUrl.href, { headers: NAV });
  assert.equal(ok.status, 302, `callback with iss: ${ok.status} ${ok.body.slice(0, 200)}`);
  assert.ok(ua.jar.get('127.0.0.1', COOKIE));
});

// nginx lowercases variable names and allows [A-Za-z0-9_] only
itest('claim variables: capitals and punctuation in claim names are reachable', async (h) => {
  const op = await h.fakeOp({ user: { isAdmin: true, 'cognito:groups': ['admins', 'ops'], 'x-team': 'blue' } });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url, {
    extra: `            proxy_set_header X-Is-Admin $oidc_claim_isAdmin;
            proxy_set_header X-Groups $oidc_claim_cognito_groups;
            proxy_set_header X-Team $oidc_claim_x_team;`,
  }))}`).start();
  await ngx.waitProvider('fake', 'ready');
  const { cookie } = await login(new UserAgent(), ngx.url, '/app');
  const seen = (await ngx.get('/app', { headers: withSession(cookie) })).json().headers;
  assert.equal(seen['x-is-admin'], 'true');
  assert.equal(seen['x-groups'], '["admins","ops"]');
  assert.equal(seen['x-team'], 'blue');
});

itest('unprotected locations of a protected server never pass the session cookie; variables survive error_page and reach the access log', async (h) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const missing = await h.static({}); // every path: 404
  const port = await h.port();
  const ngx = await h.nginx(`
    log_format who '$request_uri sub=$oidc_claim_sub';
${providerBlock('fake', op.issuer)}
${basicServer(port, `${protectedLocation('/app', 'fake', upstream.url)}
        location /public { proxy_pass ${upstream.url}; }
        location /gone {
            auth_oidc fake;
            access_log ${h.dir}/who.log who;
            proxy_pass ${missing.url};
            proxy_intercept_errors on;
            error_page 404 = /fallback;
        }
        location = /fallback { access_log ${h.dir}/who.log who; return 200 "fallback for $oidc_claim_sub\\n"; }`)}`).start();
  await ngx.waitProvider('fake', 'ready');
  const { cookie: id } = await login(new UserAgent(), ngx.url, '/app');

  const pub = await ngx.get('/public/x', { headers: { ...NAV, cookie: `a=1; ${COOKIE}=${id}; b=2` } });
  assert.equal(pub.status, 200);
  assert.equal(pub.json().headers.cookie, 'a=1; b=2', 'no session cookie upstream of an unprotected location');

  // a "__Host-" name's login cookies travel on every path: never upstream either
  const loginCookie = `${COOKIE}_login_0123456789abcdef=c2VhbGVk`;
  for (const path of ['/public/y', '/app/y']) {
    const res = await ngx.get(path, { headers: { ...NAV, cookie: `a=1; ${loginCookie}; ${COOKIE}=${id}; ${COOKIE}_loginx=keep` } });
    assert.equal(res.status, 200, path);
    assert.equal(res.json().headers.cookie, `a=1; ${COOKIE}_loginx=keep`, `${path}: no login cookie upstream`);
  }

  const gone = await ngx.get('/gone/x', { headers: withSession(id) });
  assert.equal(gone.status, 200);
  assert.equal(gone.body, `fallback for ${op.user.sub}\n`, 'the session after error_page');
  await waitFor(() => fs.existsSync(`${h.dir}/who.log`) && fs.readFileSync(`${h.dir}/who.log`, 'utf8').includes('/gone/x'));
  assert.match(fs.readFileSync(`${h.dir}/who.log`, 'utf8'), new RegExp(`/gone/x sub=${op.user.sub}`));
});
