// CORS preflights: a browser sends OPTIONS with Origin and
// Access-Control-Request-Method, and never a cookie or an Authorization
// header, before a cross-origin request to an API. A protected location
// lets it through unauthenticated (auth_oidc_cors_preflight on, the
// default), so that the app's or nginx's CORS headers answer it; identity
// variables are empty for it and a session cookie sent along anyway does
// not reach the app. The real request still needs a session, and its 401
// carries the CORS headers the location adds with "always".
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  COOKIE, login, protectedLocation, providerBlock, step, withSession, XHR,
} from './lib/login.mjs';

const SITE = 'https://spa.example.test';
const PREFLIGHT = {
  origin: SITE, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type',
};
const CORS = `
            add_header Access-Control-Allow-Origin $http_origin always;
            add_header Access-Control-Allow-Credentials true always;`;

itest('CORS preflights pass a protected location unauthenticated; the real request still needs a session', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, { bearer_audience: 'api' })}
${basicServer(port, `${protectedLocation('/api/', 'fake', upstream.url, { extra: CORS })}
${protectedLocation('/strict/', 'fake', upstream.url, { extra: '            auth_oidc_cors_preflight off;' })}
${protectedLocation('/admins/', 'fake', upstream.url, { extra: '            auth_require $oidc_claim_email;' })}
        location /bearer/ { auth_oidc_bearer fake; proxy_pass ${upstream.url}; }`)}`).start();
  await ngx.waitProvider('fake', 'ready');
  const { cookie } = await login(new UserAgent(), ngx.url, '/api/x');

  await step(t, h, 'a preflight reaches the app without a session, with no identity and no session cookie', async () => {
    const before = upstream.requests.length;
    const res = await ngx.get('/api/items', {
      method: 'OPTIONS', headers: { ...PREFLIGHT, cookie: `${COOKIE}=${cookie}; theme=dark` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], SITE);
    const seen = res.json();
    assert.equal(seen.method, 'OPTIONS');
    assert.equal(upstream.requests.length, before + 1);
    assert.equal(seen.headers['x-user-sub'], undefined, 'no identity for a preflight');
    assert.equal(seen.headers['x-user-email'], undefined);
    assert.equal(seen.headers.cookie, 'theme=dark', 'the session cookie stays in nginx');
  });

  await step(t, h, 'the real request without a session: 401 with the location\'s CORS headers; with one: 200', async () => {
    const res = await ngx.get('/api/items', { method: 'PUT', headers: { ...XHR, origin: SITE } });
    assert.equal(res.status, 401);
    assert.equal(res.headers['access-control-allow-origin'], SITE, 'the browser can read the 401');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    const ok = await ngx.get('/api/items', { method: 'PUT', headers: withSession(cookie, { ...XHR, origin: SITE }) });
    assert.equal(ok.status, 200);
    assert.equal(ok.json().headers['x-user-sub'], op.user.sub);
  });

  await step(t, h, 'an OPTIONS that is not a preflight still needs a session', async () => {
    const noMethod = await ngx.get('/api/items', { method: 'OPTIONS', headers: { ...XHR, origin: SITE } });
    assert.equal(noMethod.status, 401);
    const noOrigin = await ngx.get('/api/items', {
      method: 'OPTIONS', headers: { ...XHR, 'access-control-request-method': 'PUT' },
    });
    assert.equal(noOrigin.status, 401);
  });

  await step(t, h, 'auth_oidc_cors_preflight off: the preflight needs a session too', async () => {
    const res = await ngx.get('/strict/items', { method: 'OPTIONS', headers: PREFLIGHT });
    assert.equal(res.status, 401);
  });

  await step(t, h, 'auth_require and auth_oidc_bearer locations let a preflight through as well', async () => {
    const admins = await ngx.get('/admins/items', { method: 'OPTIONS', headers: PREFLIGHT });
    assert.equal(admins.status, 200);
    assert.equal(admins.json().method, 'OPTIONS');
    const denied = await ngx.get('/admins/items', { method: 'PUT', headers: { ...XHR, origin: SITE } });
    assert.equal(denied.status, 401);
    const api = await ngx.get('/bearer/items', { method: 'OPTIONS', headers: PREFLIGHT });
    assert.equal(api.status, 200);
    const noToken = await ngx.get('/bearer/items', { method: 'PUT', headers: { origin: SITE } });
    assert.equal(noToken.status, 401);
    assert.match(noToken.headers['www-authenticate'], /^Bearer/);
  });
});
