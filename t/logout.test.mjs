// Logout at logout_uri: the session is deleted server-side and the cookie
// cleared, then the browser goes to the provider's end_session_endpoint
// (client_id, post_logout_redirect_uri, id_token_hint when configured), or,
// without one, to post_logout_uri or a "logged out" page. A GET only gets
// a confirmation form (no logout CSRF, whatever headers the browser sends);
// a POST from the same origin logs out.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import {
  assertCookieCleared, assertLoginRedirect, COOKIE, login, NAV, protectedLocation, providerBlock, sessionSetCookie,
  step, withSession,
} from './lib/login.mjs';
import { CLIENT_ID } from './lib/provider.mjs';

const SAME_ORIGIN_NAV = { ...NAV, 'sec-fetch-site': 'same-origin' };

/** The "Log out" button pressed: a same-origin form POST. */
const logoutPost = (ua, base, headers = { origin: base, 'sec-fetch-site': 'same-origin' }) => ua.fetch(`${base}/logout`, {
  method: 'POST', headers: { accept: NAV.accept, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: '',
});

itest('logout with the real provider: end_session_endpoint with hint, then login again', async (h, t) => {
  const port = await h.port();
  const idp = await h.provider();
  const upstream = await h.echo();
  const home = `http://127.0.0.1:${port}/`;
  const ngx = await h.nginx(`
${providerBlock('idp', idp.issuer, {
    scope: '"openid email profile"', logout_uri: '/logout', post_logout_uri: home, logout_token_hint: 'on',
  })}
${basicServer(port, `
        location = / { return 200 "home\\n"; }
${protectedLocation('/app', 'idp', upstream.url)}`)}`).start();
  await ngx.waitProvider('idp', 'ready');
  const meta = (await request(idp.discoveryUrl)).json();
  assert.ok(meta.end_session_endpoint);

  const ua = new UserAgent();
  const { cookie } = await login(ua, ngx.url, '/app', { op: 'real', user: 'demo' });
  const seen = (await ngx.get('/app', { headers: withSession(cookie) })).json();
  assert.equal(seen.headers['x-user-sub'], 'demo');
  const idToken = seen.headers['x-id-token'];

  let endSession;
  await step(t, h, 'POST /logout clears the cookie and redirects to end_session_endpoint', async () => {
    const res = await logoutPost(ua, ngx.url);
    assert.equal(res.status, 302, `${res.status} ${res.body.slice(0, 300)}`);
    assertCookieCleared(res);
    endSession = new URL(res.headers.location);
    assert.equal(`${endSession.origin}${endSession.pathname}`, meta.end_session_endpoint);
    assert.equal(endSession.searchParams.get('client_id'), CLIENT_ID);
    assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), home);
    assert.equal(endSession.searchParams.get('id_token_hint'), idToken, 'logout_token_hint on');
    assert.equal(ua.jar.get('127.0.0.1', COOKIE), undefined, 'the browser dropped the cookie');
  });

  await step(t, h, 'the old cookie is dead server-side', async () => {
    const res = await ngx.get('/app', { headers: withSession(cookie) });
    assertLoginRedirect(res, meta.authorization_endpoint);
  });

  await step(t, h, 'the provider confirms and sends the browser to post_logout_uri; /app asks for a login again', async () => {
    assert.ok(endSession, 'logout redirect seen');
    const confirm = await ua.go(endSession.href, { headers: NAV });
    assert.equal(confirm.status, 200, confirm.body.slice(0, 300));
    const done = await ua.submitForm(confirm, { logout: 'yes' }, { headers: NAV });
    assert.equal(done.url, home, done.chain.map((r) => `${r.status} ${r.url}`).join(' -> '));
    assert.equal(done.body, 'home\n');
    const again = await ua.go(`${ngx.url}/app`, { headers: NAV });
    assert.equal(again.chain[0].status, 302, 'nginx redirects to the provider');
    assert.match(again.body, /id="login-form"/, 'the provider asks for credentials again');
  });
});

itest('logout without end_session_endpoint, cross-site protection, and hint off', async (h, t) => {
  const op = await h.fakeOp({ variants: { nologout: { end_session_endpoint: undefined } } });
  const upstream = await h.echo();
  const [pa, pb, pc] = [await h.port(), await h.port(), await h.port()];
  const bye = `http://127.0.0.1:${pa}/bye`;
  const server = (port, provider, extra = '') => basicServer(port, `${extra}
${protectedLocation('/app', provider, upstream.url)}`);
  const ngx = await h.nginx(`
${providerBlock('withpost', op.issuer, { config_url: op.configUrl('nologout'), logout_uri: '/logout', post_logout_uri: bye })}
${providerBlock('nopost', op.issuer, { config_url: op.configUrl('nologout'), logout_uri: '/logout' })}
${providerBlock('endsession', op.issuer, { logout_uri: '/logout' })}
${server(pa, 'withpost', '        location /bye { return 200 "bye\\n"; }')}
${server(pb, 'nopost')}
${server(pc, 'endsession')}`, { port: pa }).start();
  for (const p of ['withpost', 'nopost', 'endsession']) await ngx.waitProvider(p, 'ready');
  const base = (port) => `http://127.0.0.1:${port}`;

  const assertDead = async (b, id) => {
    const res = await request(`${b}/app`, { headers: withSession(id) });
    assert.equal(res.status, 302, `old session still works at ${b}: ${res.status}`);
    assertLoginRedirect(res, `${op.issuer}/auth`);
  };
  const assertAlive = async (b, id) => {
    const res = await request(`${b}/app`, { headers: withSession(id) });
    assert.equal(res.status, 200, `session should still work at ${b}: ${res.status}`);
    assert.equal(res.json().headers['x-user-sub'], op.user.sub);
  };

  await step(t, h, 'no end_session_endpoint, post_logout_uri set: 302 to post_logout_uri', async () => {
    const ua = new UserAgent();
    const { cookie } = await login(ua, base(pa), '/app');
    const res = await logoutPost(ua, base(pa));
    assert.equal(res.status, 302, `${res.status} ${res.body.slice(0, 200)}`);
    assert.equal(res.headers.location, bye);
    assertCookieCleared(res);
    await assertDead(base(pa), cookie);
    assert.equal(op.endSessionRequests.length, 0);
  });

  await step(t, h, 'no end_session_endpoint, no post_logout_uri: a "logged out" page', async () => {
    const ua = new UserAgent();
    const { cookie } = await login(ua, base(pb), '/app');
    const res = await logoutPost(ua, base(pb));
    assert.equal(res.status, 200, `${res.status} ${res.headers.location || ''}`);
    assert.match(res.body, /logged out/i);
    assertCookieCleared(res);
    await assertDead(base(pb), cookie);
  });

  await step(t, h, 'end_session_endpoint without post_logout_uri and without hint', async () => {
    const ua = new UserAgent();
    const { cookie } = await login(ua, base(pc), '/app');
    const res = await logoutPost(ua, base(pc));
    assert.equal(res.status, 302);
    assertCookieCleared(res);
    const loc = new URL(res.headers.location);
    assert.equal(`${loc.origin}${loc.pathname}`, `${op.issuer}/session/end`);
    assert.equal(loc.searchParams.get('client_id'), CLIENT_ID);
    assert.equal(loc.searchParams.get('id_token_hint'), null, 'logout_token_hint is off by default');
    assert.equal(loc.searchParams.get('post_logout_redirect_uri'), null);
    await assertDead(base(pc), cookie);
  });

  await step(t, h, 'a cross-site GET only shows a confirmation form; its same-origin POST logs out', async () => {
    const b = base(pb);
    const ua = new UserAgent();
    const { cookie } = await login(ua, b, '/app');

    const page = await ua.fetch(`${b}/logout`, { headers: { ...NAV, 'sec-fetch-site': 'cross-site' } });
    assert.equal(page.status, 200, `cross-site GET /logout: ${page.status} ${page.headers.location || ''}`);
    assert.equal(sessionSetCookie(page), undefined, 'a cross-site GET does not touch the cookie');
    const form = /<form\b[^>]*>/i.exec(page.body);
    assert.ok(form, `a confirmation form: ${page.body.slice(0, 300)}`);
    assert.match(form[0], /method\s*=\s*"?post"?/i);
    assert.match(form[0], /action\s*=\s*"(\/logout|http:\/\/127\.0\.0\.1:\d+\/logout)"/i);
    await assertAlive(b, cookie);

    // the same POST from another site is no logout either
    const forged = await ua.fetch(`${b}/logout`, {
      method: 'POST',
      headers: { ...NAV, 'sec-fetch-site': 'cross-site', origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(sessionSetCookie(forged)?.value ?? 'untouched', 'untouched', 'a cross-site POST does not clear the cookie');
    await assertAlive(b, cookie);

    const done = await ua.submitForm(page, {}, {
      headers: { ...NAV, 'sec-fetch-site': 'same-origin', origin: b },
    });
    const post = done.chain[0];
    assert.ok([200, 302, 303].includes(post.status), `POST /logout: ${post.status}`);
    assertCookieCleared(post);
    await assertDead(b, cookie);
  });

  await step(t, h, 'a GET never logs out, whatever it says of itself (logout CSRF)', async () => {
    const b = base(pb);
    const ua = new UserAgent();
    const { cookie } = await login(ua, b, '/app');
    // no Sec-Fetch-Site (older browsers), same-origin, same-site: a page only
    for (const headers of [NAV, SAME_ORIGIN_NAV, { ...NAV, 'sec-fetch-site': 'same-site' }, { ...NAV, referer: `${b}/app` }]) {
      const page = await request(`${b}/logout`, { headers: { ...headers, cookie: `${COOKIE}=${cookie}` } });
      assert.equal(page.status, 200, `GET /logout: ${page.status} ${page.headers.location || ''}`);
      assert.equal(sessionSetCookie(page), undefined, 'a GET does not touch the cookie');
      assert.match(page.body, /<form\b[^>]*method\s*=\s*"?post"?/i);
      assert.match(page.headers['content-security-policy'] || '', /frame-ancestors 'none'/, 'never framed');
      assert.equal(page.headers['x-frame-options'], 'DENY');
      await assertAlive(b, cookie);
    }
  });

  await step(t, h, 'a POST must show it comes from this origin: Origin, else Sec-Fetch-Site, else Referer', async () => {
    const b = base(pb);
    const cases = [
      [{}, 403], // no evidence at all
      [{ origin: 'null' }, 403],
      [{ 'sec-fetch-site': 'same-site' }, 403], // a sibling subdomain
      [{ referer: 'http://evil.example/logout' }, 403],
      [{ referer: `${b}.evil.example/` }, 403],
      [{ origin: b, 'sec-fetch-site': 'cross-site' }, 'out'], // Origin decides when present
      [{ 'sec-fetch-site': 'same-origin' }, 'out'],
      [{ referer: `${b}/app/page` }, 'out'],
    ];
    for (const [headers, want] of cases) {
      const ua = new UserAgent();
      const { cookie } = await login(ua, b, '/app');
      const res = await logoutPost(ua, b, headers);
      if (want === 403) {
        assert.equal(res.status, 403, `${JSON.stringify(headers)}: ${res.status}`);
        assert.equal(sessionSetCookie(res), undefined);
        await assertAlive(b, cookie);
      } else {
        assert.equal(res.status, 200, `${JSON.stringify(headers)}: ${res.status}`);
        assertCookieCleared(res);
        await assertDead(b, cookie);
      }
    }
  });

  await step(t, h, 'POST /logout without a session does no harm', async () => {
    const res = await logoutPost(new UserAgent(), base(pb));
    assert.ok([200, 302].includes(res.status), `${res.status}`);
  });
});
