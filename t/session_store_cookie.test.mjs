// The cookie store (oidc_session_store NAME cookie secret_file=...): the
// session sealed into the browser's cookies, cut into parts under 4 KB.
// Two nginx that share nothing but the secret accept the same session; a
// part altered, missing or swapped opens nothing; a cookie of another
// provider or client opens nothing; a logout marks the session ended
// (its cookie replayed is refused), and a back-channel logout its "sub".
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { needsChromium, openBrowser } from './lib/chromium.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  COOKIE, login, NAV, protectedLocation, providerBlock, step,
} from './lib/login.mjs';
import { makeLogoutToken, postLogoutToken } from './lib/logout-token.mjs';
import { DEMO_USERS } from './lib/provider.mjs';
import { secretFile } from './lib/redis.mjs';
import { pastExpiry, REFRESHING, shortTokens } from './lib/refresh.mjs';

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

/** The browser's session cookies, by name: NGX_OIDC_SESSION, NGX_OIDC_SESSION_2, ... */
const parts = (ua) => Object.fromEntries(ua.jar.cookies
  .filter((c) => c.name === COOKIE || /^NGX_OIDC_SESSION_\d$/.test(c.name))
  .map((c) => [c.name, c.value]));

const cookieHeader = (cookies) => Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ');

itest('cookie store: two nginx without a shared store share a session; tampered parts, logouts', async (h, t) => {
  const op = await h.fakeOp({ user: { bio: 'b'.repeat(5000) } });
  const upstream = await h.echo();
  const secret = secretFile(h.dir, 'cookie.secret');
  const [pa, pb] = [await h.port(), await h.port()];
  const conf = (port) => `
    oidc_session_store browser cookie secret_file=${secret};
${providerBlock('fake', op.issuer, { session_store: 'browser', logout_uri: '/logout', backchannel_logout_uri: '/bcl' })}
${providerBlock('other', op.issuer, { session_store: 'browser', client_id: 'another-client', redirect_uri: '/other_callback' })}
${basicServer(port, [
    // a session of several cookies: more than nginx's 8k header line
    '        large_client_header_buffers 4 32k;',
    protectedLocation('/app/', 'fake', upstream.url, { extra: '            proxy_set_header X-Bio $oidc_claim_bio;' }),
    protectedLocation('/small/', 'fake', upstream.url),
    protectedLocation('/other/', 'other', upstream.url),
  ].join('\n'))}`;
  const a = await h.nginx(conf(pa)).start();
  const b = await h.nginx(conf(pb)).start();
  await a.waitProvider('fake', 'ready');
  await b.waitProvider('fake', 'ready');

  let big;
  await step(t, h, 'a large session takes several cookies; the other nginx accepts it, the app sees none of them', async () => {
    const ua = new UserAgent();
    await login(ua, a.url, '/app/x');
    big = parts(ua);
    assert.ok(Object.keys(big).length >= 2, `parts: ${Object.keys(big)}`);
    assert.match(big[COOKIE], new RegExp(`^${Object.keys(big).length}\\.`));
    for (const v of Object.values(big)) assert.ok(v.length <= 3802, `a part of ${v.length} characters`);
    const before = op.hits('/auth');
    for (const base of [a.url, b.url]) {
      const res = await ua.fetch(`${base}/app/y`, { headers: NAV });
      assert.equal(res.status, 200, res.body.slice(0, 300));
      const seen = res.json().headers;
      assert.equal(seen['x-user-sub'], 'fake-user-1');
      assert.equal(seen['x-bio'], 'b'.repeat(5000));
      assert.doesNotMatch(seen.cookie || '', /NGX_OIDC_SESSION/);
    }
    assert.equal(op.hits('/auth'), before, 'no login at the other nginx');
    assert.equal((await b.status()).stores.browser.type, 'cookie');
  });

  await step(t, h, 'a part altered, missing, or parts swapped: no session (a login again)', async () => {
    const names = Object.keys(big);
    const last = names.at(-1);
    const flip = (v) => v.slice(0, 40) + (v[40] === 'A' ? 'B' : 'A') + v.slice(41);
    const variants = {
      altered: { ...big, [last]: flip(big[last]) },
      missing: Object.fromEntries(Object.entries(big).filter(([k]) => k !== last)),
      'first altered': { ...big, [COOKIE]: flip(big[COOKIE]) },
      'count lied': { ...big, [COOKIE]: `1.${big[COOKIE].slice(2)}` },
    };
    if (names.length >= 3) variants.swapped = { ...big, [names[1]]: big[names[2]], [names[2]]: big[names[1]] };
    for (const [why, cookies] of Object.entries(variants)) {
      const res = await new UserAgent().fetch(`${a.url}/app/z`, { headers: { ...NAV, cookie: cookieHeader(cookies) } });
      assert.equal(res.status, 302, why);
    }
    // as it was, it still opens
    assert.equal((await new UserAgent().fetch(`${a.url}/app/z`, { headers: { ...NAV, cookie: cookieHeader(big) } })).status, 200);
  });

  await step(t, h, 'a part left from an older, larger session goes with the next login', async () => {
    const ua = new UserAgent();
    ua.jar.store(a.url, [`${COOKIE}_9=left-over; Path=/`]);
    await login(ua, a.url, '/app/x');
    assert.equal(parts(ua)[`${COOKIE}_9`], undefined);
    assert.equal((await ua.fetch(`${a.url}/app/x`, { headers: NAV })).status, 200);
  });

  await step(t, h, 'a cookie of another provider or client opens nothing', async () => {
    const res = await new UserAgent().fetch(`${a.url}/other/x`, { headers: { ...NAV, cookie: cookieHeader(big) } });
    assert.equal(res.status, 302);
  });

  await step(t, h, 'logout: the cookies go, and the old cookie replayed here is refused', async () => {
    const ua = new UserAgent();
    await login(ua, a.url, '/small/x');
    const old = parts(ua);
    assert.ok(Object.keys(old).length >= 2);
    const out = await ua.fetch(`${a.url}/logout`, {
      method: 'POST',
      headers: { accept: NAV.accept, origin: a.url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.ok([200, 302, 303].includes(out.status), `${out.status}`);
    assert.deepEqual(parts(ua), {}, 'the browser dropped every part');
    const replay = await new UserAgent().fetch(`${a.url}/small/x`, { headers: { ...NAV, cookie: cookieHeader(old) } });
    assert.equal(replay.status, 302);
    assert.equal((await a.status()).stores.browser.revoked, 1);
  });

  await step(t, h, 'a back-channel logout of the user ends their sessions made until then; a later login works', async () => {
    const ua = new UserAgent();
    await login(ua, b.url, '/small/x');
    const cookies = parts(ua);
    assert.equal((await new UserAgent().fetch(`${b.url}/small/x`, { headers: { ...NAV, cookie: cookieHeader(cookies) } })).status, 200);
    const now = Math.floor(Date.now() / 1000);
    const token = makeLogoutToken({
      privateKey: op.signingKey.privateKey, kid: op.signingKey.kid, iss: op.issuer, aud: 'test-client', sub: 'fake-user-1', exp: now + 120,
    });
    const res = await postLogoutToken(`${b.url}/bcl`, token);
    assert.equal(res.status, 200, res.body);
    await b.waitForLog(/back-channel logout of every session of "fake-user-1": all sessions ended/);
    assert.equal((await new UserAgent().fetch(`${b.url}/small/x`, { headers: { ...NAV, cookie: cookieHeader(cookies) } })).status, 302);
    await sleep(1100); // a session made after the logout's second
    const again = new UserAgent();
    await login(again, b.url, '/small/x');
    assert.equal((await again.fetch(`${b.url}/small/x`, { headers: NAV })).status, 200);
  });
});

itest('cookie store in Chromium: a session in several cookies, taken by another nginx', {
  skip: needsChromium(),
}, async (h, t) => {
  const op = await h.fakeOp({ user: { bio: 'c'.repeat(3000) } });
  const upstream = await h.echo();
  const secret = secretFile(h.dir, 'cookie.secret');
  const conf = async () => `
    oidc_session_store browser cookie secret_file=${secret};
${providerBlock('fake', op.issuer, { session_store: 'browser' })}
${basicServer(await h.port(), [
    '        large_client_header_buffers 4 32k;',
    protectedLocation('/app/', 'fake', upstream.url, { extra: '            proxy_set_header X-Bio $oidc_claim_bio;' }),
  ].join('\n'))}`;
  const a = await h.nginx(await conf()).start();
  const b = await h.nginx(await conf()).start();
  await a.waitProvider('fake', 'ready');
  await b.waitProvider('fake', 'ready');
  const { context, page } = await openBrowser(h);

  await step(t, h, 'the login leaves several cookies, HttpOnly; both nginx see the user', async () => {
    await page.goto(`${a.url}/app/one`);
    const cookies = (await context.cookies(a.url)).filter((c) => c.name.startsWith(COOKIE) && !c.name.includes('_login'));
    assert.ok(cookies.length >= 2, cookies.map((c) => c.name).join(' '));
    assert.ok(cookies.every((c) => c.httpOnly && c.sameSite === 'Lax'));
    const logins = op.hits('/auth');
    for (const base of [a.url, b.url]) {
      await page.goto(`${base}/app/two`);
      const seen = JSON.parse(await page.innerText('body')).headers;
      assert.equal(seen['x-user-sub'], 'fake-user-1');
      assert.equal(seen['x-bio'], 'c'.repeat(3000));
    }
    assert.equal(op.hits('/auth'), logins, 'no second login');
  });
});

itest('cookie store: a refresh rewrites the cookies', async (h, t) => {
  const idp = await shortTokens(h, { rotateRefreshToken: true });
  const upstream = await h.echo();
  const secret = secretFile(h.dir, 'cookie.secret');
  const ngx = await h.nginx(`
    oidc_session_store browser cookie secret_file=${secret};
${providerBlock('idp', idp.issuer, { session_store: 'browser', ...REFRESHING })}
${basicServer(await h.port(), [
    '        large_client_header_buffers 4 32k;',
    protectedLocation('/app/', 'idp', upstream.url),
  ].join('\n'))}`).start();
  await ngx.waitProvider('idp', 'ready');

  await step(t, h, 'past the tokens\' expiry: new tokens, in new cookies the next request uses', async () => {
    const ua = new UserAgent();
    const since = Date.now();
    await login(ua, ngx.url, '/app/x', { op: 'real', user: 'demo', password: DEMO_USERS.demo.password });
    const first = (await ua.fetch(`${ngx.url}/app/x`, { headers: NAV })).json().headers['x-access-token'];
    const before = parts(ua);
    await pastExpiry(since);
    const refreshed = await ua.fetch(`${ngx.url}/app/x`, { headers: NAV });
    assert.equal(refreshed.status, 200);
    assert.ok([].concat(refreshed.headers['set-cookie'] || []).some((c) => c.startsWith(`${COOKIE}=`)), 'the cookie rewritten');
    assert.notDeepEqual(parts(ua), before);
    const second = refreshed.json().headers['x-access-token'];
    assert.notEqual(second, first);
    // the next request carries the new session: no refresh, the same token
    const next = await ua.fetch(`${ngx.url}/app/x`, { headers: NAV });
    assert.equal(next.json().headers['x-access-token'], second);
    assert.equal(next.headers['set-cookie'], undefined);
    // an answer that carries a sealed session is not for a shared cache
    assert.match(String(refreshed.headers['cache-control']), /no-store/);
  });

  await step(t, h, 'requests in flight with the old cookie during a refresh: one refresh, nobody logged out (refresh tokens rotate)', async () => {
    const ua = new UserAgent();
    const since = Date.now();
    await login(ua, ngx.url, '/app/x', { op: 'real', user: 'demo', password: DEMO_USERS.demo.password });
    const old = cookieHeader(parts(ua));
    await pastExpiry(since);
    const grants = idp.grants.filter((g) => g.type === 'refresh_token').length;
    const answers = await Promise.all([1, 2, 3].map(() => new UserAgent().fetch(`${ngx.url}/app/x`, { headers: { ...NAV, cookie: old } })));
    for (const res of answers) assert.equal(res.status, 200, `${res.status} ${res.headers.location || ''}`);
    assert.equal(idp.grants.filter((g) => g.type === 'refresh_token').length - grants, 1, 'one refresh at the provider');
    const tokens = new Set(answers.map((res) => res.json().headers['x-access-token']));
    assert.equal(tokens.size, 1, 'every request went on with the one refreshed session');
    // a late request with the old cookie gets the refreshed session, and its cookies
    const late = await new UserAgent().fetch(`${ngx.url}/app/x`, { headers: { ...NAV, cookie: old } });
    assert.equal(late.status, 200);
    assert.ok([].concat(late.headers['set-cookie'] || []).some((c) => c.startsWith(`${COOKIE}=`)));
  });
});

itest('cookie store: logout marks are never evicted; a zone full of them refuses new ones, said', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const ngx = await h.nginx(`
    oidc_session_store browser cookie secret_file=${secretFile(h.dir, 'cookie.secret')} size=32k;
${providerBlock('fake', op.issuer, { session_store: 'browser', logout_uri: '/logout', frontchannel_logout_uri: '/fcl' })}
${basicServer(await h.port(), protectedLocation('/app/', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');

  await step(t, h, 'a logged-out cookie stays refused under a flood of front-channel logouts', async () => {
    const ua = new UserAgent();
    await login(ua, ngx.url, '/app/x');
    const old = cookieHeader(parts(ua));
    await ua.fetch(`${ngx.url}/logout`, {
      method: 'POST',
      headers: { accept: NAV.accept, origin: ngx.url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    let refusedMarks = 0;
    for (let i = 0; i < 400 && refusedMarks === 0; i += 1) {
      const res = await ngx.get(`/fcl?${new URLSearchParams({ iss: op.issuer, sid: `flood-${i}` })}`);
      if (res.status >= 500) refusedMarks += 1;
    }
    assert.equal(refusedMarks, 1, 'the zone filled up and refused a mark');
    await ngx.waitForLog(/cannot mark a session ended in oidc_session_store "browser" \(marks are never evicted: raise its size=\)/);
    const replay = await new UserAgent().fetch(`${ngx.url}/app/x`, { headers: { ...NAV, cookie: old } });
    assert.equal(replay.status, 302, 'the logout mark is still there');
  });
});

itest('nginx -t: what the cookie store cannot do is refused', async (h, t) => {
  const refused = async (http, message) => {
    const ngx = h.nginx(http);
    const res = await ngx.test();
    assert.equal(res.ok, false);
    assert.match(res.stderr, message);
  };
  const port = await h.port();
  await step(t, h, 'session_idle_timeout (a cookie rewritten on every answer)', () => refused(`
    oidc_session_store browser cookie;
${providerBlock('fake', 'http://127.0.0.1:9/op', { session_store: 'browser', session_idle_timeout: '10m' })}
${basicServer(port, '        location / { auth_oidc fake; }')}`, /session_idle_timeout needs a shared-memory or Redis store, not the cookie store "browser"/));
  await step(t, h, 'cookie and Redis at once', () => refused(`
    oidc_session_store browser cookie redis=127.0.0.1:6379;
${providerBlock('fake', 'http://127.0.0.1:9/op', { session_store: 'browser' })}
${basicServer(port, '        location / { auth_oidc fake; }')}`, /invalid parameter "redis=127.0.0.1:6379" of oidc_session_store/));
});
