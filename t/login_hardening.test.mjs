// Attacks and deployment shapes the login flow must survive: a callback
// replayed in another browser (login CSRF), an index page reached by an
// internal redirect, hostile Cookie headers, and a flood of started logins
// in a small store.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  COOKIE, login, NAV, passFakeOp, protectedLocation, providerBlock, redirectPath, startLogin, step, withSession,
} from './lib/login.mjs';

itest('a callback is only accepted in the browser that started the login', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');

  const victim = new UserAgent();
  const attacker = new UserAgent();
  const { authUrl } = await startLogin(attacker, ngx.url, '/app');
  const callbackUrl = await passFakeOp(attacker, authUrl, ngx.url);

  await step(t, h, 'the attacker\'s callback URL opened by the victim is refused', async () => {
    const res = await victim.fetch(callbackUrl, { headers: NAV });
    assert.equal(res.status, 400);
    assert.ok(!(res.headers['set-cookie'] || []).join(';').includes(`${COOKIE}=`));
    await ngx.waitForLog(/\[error\].*login this browser did not start/);
  });

  await step(t, h, 'the browser that started it still completes it', async () => {
    const res = await attacker.fetch(callbackUrl, { headers: NAV });
    assert.equal(res.status, 302, res.body);
    assert.match((res.headers['set-cookie'] || []).join('\n'), new RegExp(`${COOKIE}=[A-Za-z0-9_-]{43}`));
    assert.match((res.headers['set-cookie'] || []).join('\n'), new RegExp(`${COOKIE}_login_[A-Za-z0-9_-]{16}=; Path=/;.*Max-Age=0`));
  });
});

itest('a session holds across internal redirects (index, try_files)', async (h) => {
  const op = await h.fakeOp();
  const root = path.join(h.dir, 'www');
  fs.mkdirSync(path.join(root, 'spa'), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(root, 'index.html'), 'home page\n', { mode: 0o644 });
  fs.writeFileSync(path.join(root, 'spa', 'app.html'), 'single page app\n', { mode: 0o644 });
  fs.chmodSync(h.dir, 0o755);
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, `
        location / { auth_oidc fake; root ${root}; index index.html; }
        location /spa/ { auth_oidc fake; root ${root}; try_files $uri /spa/app.html; }`)}`).start();
  await ngx.waitProvider('fake', 'ready');

  const ua = new UserAgent();
  const { cookie } = await login(ua, ngx.url, '/');
  const home = await ngx.get('/', { headers: withSession(cookie) });
  assert.equal(home.status, 200, `GET / after login: ${home.status} ${home.headers.location || ''}`);
  assert.equal(home.body, 'home page\n');
  const spa = await ngx.get('/spa/some/route', { headers: withSession(cookie) });
  assert.equal(spa.status, 200, `try_files fallback: ${spa.status} ${spa.headers.location || ''}`);
  assert.equal(spa.body, 'single page app\n');
});

itest('hostile Cookie headers neither crash nor confuse the module', async (h) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, [
    protectedLocation('/app', 'fake', upstream.url),
    protectedLocation('/open', 'fake', upstream.url, { unauth: 'pass' }),
  ].join('\n'))}`).start();
  await ngx.waitProvider('fake', 'ready');
  const ua = new UserAgent();
  const { cookie } = await login(ua, ngx.url, '/app');

  // many short cookies after ours: stripping ours must not overflow
  const many = Array.from({ length: 300 }, () => 'a').join(';');
  const res = await ngx.get('/app/x', { headers: { ...NAV, cookie: `${COOKIE}=${cookie};${many}` } });
  assert.equal(res.status, 200);
  const sent = res.json().headers.cookie;
  assert.ok(!sent.includes(COOKIE), 'our cookie never goes upstream');
  assert.equal(sent.split(';').length, 300, 'the other cookies do');

  // two different values (a sibling domain tossing its own): neither is used
  const tossed = await ngx.get('/app/x', { headers: { ...NAV, cookie: `${COOKIE}=${cookie}; ${COOKIE}=${'x'.repeat(43)}` } });
  assert.equal(tossed.status, 302);
  await ngx.waitForLog(/two different "NGX_OIDC_SESSION" cookies/);
  // ... and where anonymous requests pass, neither reaches the app
  const passed = await ngx.get('/open/x', { headers: { ...NAV, cookie: `a=1; ${COOKIE}=${cookie}; ${COOKIE}=${'x'.repeat(43)}` } });
  assert.equal(passed.status, 200);
  assert.equal(passed.json().headers['x-user-sub'], undefined, 'no identity without a session');
  assert.equal(passed.json().headers.cookie, 'a=1', 'no session cookie goes upstream');
});

itest('a flood of started logins stores nothing: users still log in, nobody is evicted', async (h) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
    oidc_session_store small size=64k;
${providerBlock('fake', op.issuer, { session_store: 'small' })}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');
  const ua = new UserAgent();
  const { cookie } = await login(ua, ngx.url, '/app');
  // a user who started a login before the flood finishes it after
  const late = new UserAgent();
  const { authUrl } = await startLogin(late, ngx.url, '/app/late', { authorizationEndpoint: `${op.issuer}/auth` });
  const entries = async () => (await ngx.status()).stores.small.entries;
  const before = await entries();

  const long = 'x'.repeat(1800);
  for (let i = 0; i < 3000; i += 1) {
    const res = await ngx.get(`/app/${i}/${long}`, { headers: NAV });
    assert.equal(res.status, 302);
    if (i === 0) {
      const set = (res.headers['set-cookie'] || []).join('\n');
      assert.match(set, new RegExp(`${COOKIE}_login_[A-Za-z0-9_-]{16}=[A-Za-z0-9_-]{100,}; Path=/; HttpOnly`), set);
    }
  }
  assert.equal(await entries(), before, 'started logins take no room in the store');
  assert.doesNotMatch(ngx.errorLog(), /is full/);
  const still = await ngx.get('/app/x', { headers: withSession(cookie) });
  assert.equal(still.status, 200, 'the logged-in user is still logged in');
  const callbackUrl = await passFakeOp(late, authUrl, ngx.url);
  const cb = await late.fetch(callbackUrl, { headers: NAV });
  assert.equal(cb.status, 302, `the login started before the flood: ${cb.status} ${cb.body.slice(0, 200)}`);
  assert.equal(redirectPath(cb, ngx.url), '/app/late');
});

itest('abandoned logins cannot pile up cookies: past four pending, the older ones are cleared', async (h) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');
  const ua = new UserAgent();
  const pending = () => ua.jar.cookies.filter((c) => c.name.startsWith(`${COOKIE}_login_`)).length;
  const long = 'x'.repeat(400);
  let last;
  for (let i = 0; i < 30; i += 1) {
    last = await startLogin(ua, ngx.url, `/app/${i}/${long}`, { authorizationEndpoint: `${op.issuer}/auth` });
    assert.ok(pending() <= 5, `login cookies after ${i + 1} starts: ${pending()}`);
  }
  assert.ok(ua.jar.header(`${ngx.url}/oidc_callback`).length < 4096, 'the Cookie header stays small');
  // the newest login still completes
  const cb = await ua.fetch(await passFakeOp(ua, last.authUrl, ngx.url), { headers: NAV });
  assert.equal(cb.status, 302, `${cb.status} ${cb.body.slice(0, 200)}`);
  assert.equal(redirectPath(cb, ngx.url), `/app/29/${long}`);
});
