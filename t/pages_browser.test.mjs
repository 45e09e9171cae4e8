// Every page the module answers, as a person sees it in Chromium (a
// screenshot of each goes to build/test-artifacts/pages/, named in the
// test output): a title, one clear sentence, a way on, and nothing secret.
// The same page as JSON and as plain text for clients that ask, and the
// operator's error_page in place of each of ours, with the status kept.
import assert from 'node:assert/strict';
import { needsChromium, openBrowser, screenshot } from './lib/chromium.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import { COOKIE, providerBlock, step } from './lib/login.mjs';

const FORM_POST = (origin) => ({
  accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'same-origin', origin, referer: `${origin}/app/form`,
  'content-type': 'application/x-www-form-urlencoded', 'content-length': '3',
});

function locations(upstream) {
  return `
        location /app/ { auth_oidc fake; proxy_pass ${upstream}; }
        location /kept/ { auth_oidc fake; auth_oidc_preserve_post on; proxy_pass ${upstream}; }
        location /admin/ { auth_oidc fake; set $nobody ""; auth_require $nobody; proxy_pass ${upstream}; }
        location /down/ { auth_oidc down; proxy_pass ${upstream}; }`;
}

itest('the module\'s pages in Chromium, as JSON and plain text, and replaced by error_page', {
  skip: needsChromium(),
}, async (h, t) => {
  const op = await h.fakeOp({ variants: { nologout: { end_session_endpoint: undefined } } });
  const upstream = await h.echo();
  const [port, own, dead] = [await h.port(), await h.port(), await h.port()];
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, { config_url: op.configUrl('nologout'), logout_uri: '/logout' })}
${providerBlock('down', `http://127.0.0.1:${dead}`, { redirect_uri: '/down_callback' })}
${basicServer(port, locations(upstream.url))}
    server {
        listen 127.0.0.1:${own};
        server_name localhost;
        error_page 400 401 403 503 /oops.html;
        location = /oops.html { internal; default_type text/plain; return 200 "the operator's page for $status\\n"; }
${locations(upstream.url)}
    }`).start();
  await ngx.waitProvider('fake', 'ready');
  await ngx.waitProvider('down', 'error');
  const origin = ngx.url;

  const { context, page } = await openBrowser(h);
  await page.goto(`${origin}/app/`);
  const session = (await context.cookies(origin)).find((c) => c.name === COOKIE)?.value;
  assert.ok(session, 'signed in');
  const withCookie = (headers) => ({ ...headers, cookie: `${COOKIE}=${session}` });

  // name, status, title, sentence, the way on, how Chromium gets there, how a client asks
  const pages = [
    ['login-failed', 400, 'Login failed', /The login answer has no state\./, ['Sign in again', 'Go to the home page'],
      () => page.goto(`${origin}/oidc_callback`), { path: '/oidc_callback' }],
    ['login-expired', 400, 'Login expired', /unknown, expired or was already used/, ['Sign in again', 'Go to the home page'],
      () => page.goto(`${origin}/oidc_callback?state=unknown&code=x`), { path: '/oidc_callback?state=unknown&code=x' }],
    ['login-unavailable', 503, 'Login unavailable', /cannot be reached right now/, ['Try again', 'Go to the home page'],
      () => page.goto(`${origin}/down/x`), { path: '/down/x', nav: true }],
    ['access-denied', 403, 'Access denied', /not open to your account/, ['Log out', 'Go to the home page'],
      () => page.goto(`${origin}/admin/`), { path: '/admin/', session: true }],
    ['confirm-logout', 200, 'Log out?', /Do you want to log out of this site\?/, ['Go to the home page'],
      () => page.goto(`${origin}/logout`), null],
    ['logged-out', 200, 'Logged out', null, ['Sign in again', 'Go to the home page'],
      () => page.click('button:text("Log out")').then(() => page.waitForSelector('h1:text("Logged out")')), null],
    ['session-ended', 401, 'Session ended', /what you sent was not saved/, ['Sign in again', 'Go to the home page'],
      () => page.evaluate((o) => {
        const f = document.createElement('form');
        f.method = 'post'; f.action = `${o}/app/save`;
        document.body.append(f); f.submit();
      }, origin).then(() => page.waitForURL(`${origin}/app/save`)),
      { path: '/app/save', post: true }],
  ];

  for (const [name, status, title, sentence, links, visit, client] of pages) {
    await step(t, h, `${name}: ${status} "${title}"`, async () => {
      if (name === 'session-ended') await context.clearCookies();
      const res = await visit();
      if (res && typeof res.status === 'function') assert.equal(res.status(), status);
      assert.equal(await page.textContent('h1'), title);
      if (sentence) assert.match(await page.textContent('main p'), sentence);
      assert.deepEqual(await page.locator('nav a').allTextContents(), links);
      const html = await page.content();
      assert.doesNotMatch(html, /eyJ[A-Za-z0-9_-]{10,}/, 'no token');
      assert.doesNotMatch(html, new RegExp(session), 'no session id');
      const file = await screenshot(page, 'pages', name);
      t.diagnostic(`screenshot of "${title}": ${file}`);

      if (client === null) return;
      const headers = client.nav ? { accept: 'text/html', 'sec-fetch-mode': 'navigate' } : {};
      const base = client.post ? FORM_POST(origin) : headers;
      const opts = (accept) => {
        const all = { ...base, ...(accept ? { accept } : {}) };
        return { method: client.post ? 'POST' : 'GET', body: client.post ? 'a=1' : undefined, headers: client.session ? withCookie(all) : all };
      };
      // a form post asks for HTML: its JSON and text forms are for clients
      if (!client.post) {
        const json = await ngx.get(client.path, opts('application/json'));
        assert.equal(json.status, status);
        const body = JSON.parse(json.body);
        assert.equal(body.error, title.toLowerCase().replace(/[^a-z0-9]/g, '_'));
        if (sentence) assert.match(body.error_description, sentence);
        const text = await ngx.get(client.path, opts('text/plain'));
        assert.equal(text.status, status);
        assert.ok(text.body.startsWith(`${title}\n`), text.body);
      }
      const theirs = await request(`http://127.0.0.1:${own}${client.path}`, {
        ...opts(client.post || client.nav ? 'text/html' : undefined),
      });
      assert.equal(theirs.status, status, `error_page keeps ${status}`);
      assert.equal(theirs.body, `the operator's page for ${status}\n`);
    });
  }

  await step(t, h, 'with JavaScript off, a kept form\'s page says it cannot be kept, and signs in', async () => {
    const off = await openBrowser(h, { contextOptions: { javaScriptEnabled: false } });
    await off.page.goto(`${origin}/plain`);
    await off.page.setContent(`<form method="post" action="${origin}/kept/save"><input name="a" value="1"><button>Send</button></form>`);
    await off.page.click('button');
    await off.page.waitForSelector('h1:text("Signing you in")');
    assert.match(await off.page.textContent('noscript, main'), /JavaScript is off in this browser/);
    const file = await screenshot(off.page, 'pages', 'signing-in-without-javascript');
    t.diagnostic(`screenshot of "Signing you in" without JavaScript: ${file}`);
  });
});
