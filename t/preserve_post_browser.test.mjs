// Chromium: a person fills in a form, their session ends (both cookies
// gone: ours and the provider's), they press "Send". With
// auth_oidc_preserve_post the page keeps the form in the tab, they sign in
// at the provider's real login form, and the app receives the original
// POST once, byte for byte (a multipart form with a file). A form from
// another site, an oversized one, or one without the option gets the
// "Session ended" page, whose "Sign in again" comes back to the form.
import assert from 'node:assert/strict';
import http from 'node:http';
import { needsChromium, openBrowser, screenshot } from './lib/chromium.mjs';
import { basicServer } from './lib/conf.mjs';
import { listen } from './lib/echo.mjs';
import { itest } from './lib/harness.mjs';
import { providerBlock } from './lib/login.mjs';

const FORM = (action, big = false) => `<!doctype html><html><head><meta charset="utf-8"><title>form</title></head><body>
<h1 id="form">Write a note</h1>
<form method="post" action="${action}" enctype="multipart/form-data">
<textarea name="note" id="note"></textarea>
<input type="file" name="attachment" id="file">
${big ? '<input type="hidden" name="pad" id="pad">' : ''}
<button id="send" type="submit">Send</button>
</form></body></html>`;

/** The app: form pages on GET, every POST's raw body kept. */
async function formApp(h) {
  const posts = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let out;
      if (req.method === 'POST') {
        posts.push({ url: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks), sub: req.headers['x-user-sub'] });
        out = `<!doctype html><title>saved</title><p id="saved">saved ${req.url} for ${req.headers['x-user-sub']}</p>`;
      } else {
        const dir = req.url.split('/')[1];
        out = FORM(`/${dir}/notes?folder=2`, req.url.includes('big'));
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  const app = await listen(server, 0, { posts });
  h.defer(() => app.close());
  return app;
}

itest('Chromium: a form posted after the session ended is sent once the person signed in again', {
  skip: needsChromium(),
}, async (h, t) => {
  const port = await h.port();
  const idp = await h.provider();
  const app = await formApp(h);
  const ngx = await h.nginx(`
${providerBlock('idp', idp.issuer)}
${basicServer(port, `
        location /app/ {
            auth_oidc idp;
            auth_oidc_preserve_post on;
            auth_oidc_preserve_post_max_size 64k;
            proxy_pass ${app.url};
            proxy_set_header X-User-Sub $oidc_claim_sub;
        }
        location /plain/ {
            auth_oidc idp;
            proxy_pass ${app.url};
            proxy_set_header X-User-Sub $oidc_claim_sub;
        }`)}`).start();
  await ngx.waitProvider('idp', 'ready');

  const { context, page } = await openBrowser(h);
  const signIn = async () => {
    await page.waitForURL(`${idp.issuer}/interaction/**`);
    await page.fill('#username', 'demo');
    await page.fill('#password', 'demo');
    await page.click('#submit');
  };
  const originals = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && req.url().startsWith(`${ngx.url}/`)) {
      originals.push({ url: req.url(), body: req.postDataBuffer(), headers: req.headers() });
    }
  });

  // signed in, on the form
  await page.goto(`${ngx.url}/app/form`);
  await signIn();
  await page.waitForSelector('#form');

  await t.test('the session ends; "Send": a login at the provider, then the app gets the form once', async () => {
    await context.clearCookies();
    const file = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 131 + 7) % 256));
    await page.fill('#note', 'Grüße & <b>bold</b>\nline two');
    await page.setInputFiles('#file', { name: 'data.bin', mimeType: 'application/octet-stream', buffer: file });
    originals.length = 0;
    await page.click('#send');
    await signIn();
    await page.waitForSelector('#saved');
    // the app's answer to the POST the kept form made (an app that answers a
    // POST with a redirect, as most do, moves the address bar on)
    assert.equal(await page.textContent('#saved'), 'saved /app/notes?folder=2 for demo');

    assert.equal(app.posts.length, 1, 'the app got one POST');
    const sent = originals.find((o) => o.url === `${ngx.url}/app/notes?folder=2`);
    assert.ok(sent, 'the browser posted the form to nginx');
    assert.ok(app.posts[0].body.equals(sent.body), 'byte for byte what the browser sent');
    assert.equal(app.posts[0].type, sent.headers['content-type']);
    assert.ok(app.posts[0].body.includes(file), 'the file is in it');
    assert.equal(app.posts[0].sub, 'demo');

    // the page that sent it, posted once more from the page: refused
    const replay = originals.find((o) => o.url.includes('/oidc_callback?oidc_post='));
    assert.ok(replay, 'the kept form was posted back to nginx');
    const again = await page.evaluate(async ({ url, body }) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      return res.status;
    }, { url: replay.url, body: replay.body.toString('latin1') });
    assert.equal(again, 409);
    assert.equal(app.posts.length, 1, 'not sent twice');
    const back = await page.evaluate(() => sessionStorage.length);
    assert.equal(back, 0, 'nothing left in the tab');
  });

  await t.test('a form of another site: the "Session ended" page, nothing kept, nothing sent', async () => {
    const evil = await listen(http.createServer((req, res) => {
      const out = `<!doctype html><form id="f" method="post" action="${ngx.url}/app/notes">
<input type="hidden" name="transfer" value="all"></form><script>document.getElementById("f").submit()</script>`;
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    }), 0);
    h.defer(() => evil.close());
    await context.clearCookies();
    const before = app.posts.length;
    await page.goto(evil.url);
    await page.waitForURL(`${ngx.url}/app/notes`);
    assert.equal(await page.textContent('h1'), 'Session ended');
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.equal(app.posts.length, before);
  });

  await t.test('without the option: "Session ended", and "Sign in again" comes back to the form', async () => {
    await page.goto(`${ngx.url}/plain/form`);
    await signIn();
    await page.waitForSelector('#form');
    await context.clearCookies();
    const before = app.posts.length;
    await page.fill('#note', 'lost');
    await page.click('#send');
    await page.waitForSelector('h1:text("Session ended")');
    const shot = await screenshot(page, 'pages', 'session-ended');
    t.diagnostic(`screenshot: ${shot}`);
    assert.match(await page.textContent('main'), /what you sent was not saved/);
    assert.equal(app.posts.length, before);
    await page.click('nav a:text("Sign in again")');
    await signIn();
    await page.waitForSelector('#form');
    assert.equal(new URL(page.url()).pathname, '/plain/form');
  });
});
