// A real browser (headless Chromium through playwright-core) signs in at
// the provider's form, sees the app page with its identity, logs out via
// /logout (our "Log out" button, then the provider's sign-out confirmation) and is asked to
// sign in again when it comes back to /app.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { ARGS, CHROMIUM } from './lib/chromium.mjs';
import { basicServer } from './lib/conf.mjs';
import { listen } from './lib/echo.mjs';
import { itest } from './lib/harness.mjs';
import { COOKIE, protectedLocation, providerBlock } from './lib/login.mjs';


const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A tiny HTML app that shows the identity headers nginx sends it. */
async function htmlApp(h) {
  const server = http.createServer((req, res) => {
    const body = `<!doctype html><html><head><meta charset="utf-8"><title>app</title></head><body>
<h1>app</h1>
<p>sub: <span id="sub">${esc(req.headers['x-user-sub'])}</span></p>
<p>email: <span id="email">${esc(req.headers['x-user-email'])}</span></p>
<p>cookie: <span id="cookie">${esc(req.headers.cookie)}</span></p>
<p><a id="logout" href="/logout">Log out</a></p>
</body></html>`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  const app = await listen(server, 0);
  h.defer(() => app.close());
  return app;
}

itest('Chromium: login at the provider form, app page, logout, login asked again', {
  skip: !fs.existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}`,
}, async (h) => {
  const { chromium } = await import('playwright-core');
  const port = await h.port();
  const idp = await h.provider();
  const app = await htmlApp(h);
  const home = `http://127.0.0.1:${port}/`;
  const ngx = await h.nginx(`
${providerBlock('idp', idp.issuer, { scope: '"openid email profile"', logout_uri: '/logout', post_logout_uri: home })}
${basicServer(port, `
        location = / { default_type text/html; return 200 "<!doctype html><title>home</title><p id=home>home</p>"; }
${protectedLocation('/app', 'idp', app.url)}`)}`).start();
  await ngx.waitProvider('idp', 'ready');

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30000 });
  h.defer(() => browser.close());
  const context = await browser.newContext();
  context.setDefaultTimeout(15000);
  // only our loopback servers (the provider's logout page imports a web font)
  await context.route('**/*', (route) => (route.request().url().startsWith('http://127.0.0.1:')
    ? route.continue() : route.abort()));
  const page = await context.newPage();

  // 1. /app → the provider's login form
  const first = await page.goto(`${ngx.url}/app/dashboard?tab=1`);
  assert.ok(page.url().startsWith(`${idp.issuer}/interaction/`), `on the provider: ${page.url()}`);
  const hop = first.request().redirectedFrom();
  assert.ok(hop, 'reached through redirects');
  let origin = hop;
  while (origin.redirectedFrom()) origin = origin.redirectedFrom();
  assert.equal(origin.url(), `${ngx.url}/app/dashboard?tab=1`);
  assert.equal((await origin.response()).status(), 302);

  // 2. sign in as demo → back at the app, which shows the identity
  await page.fill('#username', 'demo');
  await page.fill('#password', 'demo');
  await Promise.all([
    page.waitForURL(`${ngx.url}/app/dashboard?tab=1`),
    page.click('#submit'),
  ]);
  assert.equal(await page.textContent('#sub'), 'demo');
  assert.equal(await page.textContent('#email'), 'demo@example.test');
  assert.doesNotMatch(await page.textContent('#cookie'), new RegExp(COOKIE), 'the app never sees the session cookie');
  const cookies = await context.cookies(ngx.url);
  const session = cookies.find((c) => c.name === COOKIE);
  assert.ok(session, `session cookie in the browser: ${JSON.stringify(cookies.map((c) => c.name))}`);
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');
  assert.equal(session.path, '/');
  assert.equal(await page.evaluate(() => document.cookie.includes('NGX_OIDC_SESSION')), false, 'HttpOnly');

  // a reload of the page stays logged in without visiting the provider
  const before = idp.requests.length;
  await page.reload();
  assert.equal(await page.textContent('#sub'), 'demo');
  assert.equal(idp.requests.length, before, 'no trip to the provider');

  // 3. log out through the app's link → our "Log out" button (a GET never
  // logs out) → provider sign-out confirmation → home
  await Promise.all([page.waitForURL(`${ngx.url}/logout`), page.click('#logout')]);
  assert.equal(await page.textContent('#sub').catch(() => null), null, 'our page, not the app');
  assert.ok((await context.cookies(ngx.url)).find((c) => c.name === COOKIE), 'still logged in after the GET');
  await Promise.all([page.waitForURL(`${idp.issuer}/session/end**`), page.click('button[type="submit"]')]);
  await Promise.all([page.waitForURL(home), page.click('button[name="logout"][value="yes"]')]);
  assert.equal(await page.textContent('#home'), 'home');
  assert.equal((await context.cookies(ngx.url)).find((c) => c.name === COOKIE), undefined, 'cookie gone');

  // 4. /app again → login form, not the app
  const again = await page.goto(`${ngx.url}/app/dashboard?tab=1`);
  assert.ok(page.url().startsWith(`${idp.issuer}/interaction/`), `asked to sign in again: ${page.url()}`);
  assert.equal(await page.locator('#login-form').count(), 1);
  assert.ok(again.request().redirectedFrom(), 'nginx redirected to the provider');
});

// A "__Host-" session cookie (no Domain, Path=/, Secure) cannot be set or
// overwritten by a sibling subdomain: the defence against cookie tossing.
// The login's own cookie takes the prefix too, so it must also be Path=/.
itest('Chromium: a __Host- cookie_name logs in, and its login cookie is kept by the browser', {
  skip: !fs.existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}`,
}, async (h) => {
  const { chromium } = await import('playwright-core');
  const port = await h.port();
  const op = await h.fakeOp();
  const app = await htmlApp(h);
  const name = '__Host-oidc';
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, { cookie_name: name })}
${basicServer(port, protectedLocation('/app', 'fake', app.url))}`).start();
  await ngx.waitProvider('fake', 'ready');

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30000 });
  h.defer(() => browser.close());
  // http://localhost is a secure context: Secure and __Host- cookies work
  const base = `http://localhost:${port}`;
  const context = await browser.newContext();
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  const setCookies = [];
  page.on('response', async (res) => {
    const v = await res.headerValue('set-cookie');
    if (v) setCookies.push(...v.split('\n'));
  });

  await page.goto(`${base}/app/x?y=1`);
  assert.equal(page.url(), `${base}/app/x?y=1`, 'back at the app after the login');
  assert.equal(await page.textContent('#sub'), op.user.sub);
  assert.doesNotMatch(await page.textContent('#cookie'), /__Host-oidc/, 'the app never sees our cookies');
  const started = setCookies.find((c) => c.startsWith(`${name}_login_`) && !/Max-Age=0/.test(c));
  assert.match(started || '', /; Path=\/; HttpOnly; SameSite=Lax; Secure/, `login cookie: ${started}`);
  const cookies = await context.cookies(base);
  const session = cookies.find((c) => c.name === name);
  assert.ok(session, `session cookie kept by Chromium: ${JSON.stringify(cookies.map((c) => c.name))}`);
  assert.equal(session.secure, true);
  assert.equal(session.path, '/');
  assert.equal(cookies.filter((c) => c.name.startsWith(`${name}_login_`)).length, 0, 'login cookie cleared');
  assert.equal(op.tokenRequests.length, 1);
});
