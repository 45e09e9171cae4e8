// A single-page app's script without a session gets a 401 it can act on: a
// JSON body {"error":"login_required","login":"<url>"}, WWW-Authenticate, no
// caching; following "login" logs in and lands back on the page the script
// ran in (its Referer), not on the API path. Operators keep error_page for
// 401; pages keep nginx's answer.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  NAV, passFakeOp, protectedLocation, providerBlock, sessionSetCookie, step, XHR,
} from './lib/login.mjs';

itest('a script\'s 401: JSON with the login URL, which comes back to the page; error_page and pages unchanged', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, `${protectedLocation('/app', 'fake', upstream.url)}
        location /custom/ { auth_oidc fake; error_page 401 /own401.json; proxy_pass ${upstream.url}; }
        location = /own401.json { return 401 '{"mine":true}'; }
        location /strict/ { auth_oidc fake; auth_oidc_unauth 401; proxy_pass ${upstream.url}; }`)}`).start();
  await ngx.waitProvider('fake', 'ready');
  const page = `${ngx.url}/app/page?tab=2`;

  let login;
  await step(t, h, 'fetch() from the page: 401, application/json, login_required, the login URL, WWW-Authenticate, no-store', async () => {
    const res = await ngx.get('/app/api/orders', { headers: { ...XHR, referer: page } });
    assert.equal(res.status, 401);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.equal(res.headers['www-authenticate'], 'OIDC realm="fake"');
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(sessionSetCookie(res), undefined, 'no cookie');
    const body = JSON.parse(res.body);
    assert.equal(body.error, 'login_required');
    login = new URL(body.login);
    assert.equal(login.origin, ngx.url);
    assert.equal(login.pathname, '/oidc_callback');
    assert.equal(login.searchParams.get('oidc_login'), 'fake');
    assert.equal(login.searchParams.get('return_to'), '/app/page?tab=2');
  });

  await step(t, h, 'following "login": the provider, then back on the page (not the API path), with a session', async () => {
    const ua = new UserAgent();
    const start = await ua.fetch(login.href, { headers: NAV });
    assert.equal(start.status, 302);
    assert.ok(start.headers.location.startsWith(`${op.issuer}/auth`), start.headers.location);
    const callback = await passFakeOp(ua, start.headers.location, ngx.url);
    const done = await ua.fetch(callback, { headers: NAV });
    assert.equal(done.status, 302);
    const back = new URL(done.headers.location, ngx.url);
    assert.equal(back.origin, ngx.url);
    assert.equal(`${back.pathname}${back.search}`, '/app/page?tab=2');
    assert.ok(sessionSetCookie(done)?.value, 'a session');
    const api = await ua.fetch(`${ngx.url}/app/api/orders`, { headers: XHR });
    assert.equal(api.status, 200);
  });

  await step(t, h, 'a Referer of another site, or none: the login comes back to "/"', async () => {
    for (const headers of [{ ...XHR, referer: 'https://evil.example/app/page' }, XHR]) {
      const res = await ngx.get('/app/api/orders', { headers });
      assert.equal(new URL(JSON.parse(res.body).login).searchParams.get('return_to'), '/');
    }
  });

  await step(t, h, 'a return_to that leaves the site is not followed: back to a local path', async () => {
    const ua = new UserAgent();
    const start = await ua.fetch(`${ngx.url}/oidc_callback?oidc_login=fake&return_to=${encodeURIComponent('//evil.example/x')}`, { headers: NAV });
    assert.equal(start.status, 302);
    const done = await ua.fetch(await passFakeOp(ua, start.headers.location, ngx.url), { headers: NAV });
    assert.equal(done.status, 302);
    assert.equal(new URL(done.headers.location, ngx.url).origin, ngx.url, done.headers.location);
  });

  await step(t, h, 'an unknown provider in oidc_login: 400, no login', async () => {
    const res = await ngx.get('/oidc_callback?oidc_login=nobody&return_to=/', { headers: NAV });
    assert.equal(res.status, 400);
    assert.equal(res.headers.location, undefined);
  });

  await step(t, h, 'error_page 401 in the location: the operator\'s answer, not ours', async () => {
    const res = await ngx.get('/custom/api', { headers: XHR });
    assert.equal(res.status, 401);
    assert.equal(res.body, '{"mine":true}');
  });

  await step(t, h, 'a page (Accept: text/html) under auth_oidc_unauth 401: nginx\'s HTML 401, as before', async () => {
    const res = await ngx.get('/strict/page', { headers: NAV });
    assert.equal(res.status, 401);
    assert.match(res.headers['content-type'], /^text\/html/);
    assert.equal(res.headers['www-authenticate'], 'OIDC realm="fake"');
  });
});
