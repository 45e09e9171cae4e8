// A form posted after the session ended (auth_oidc_preserve_post on): the
// answer is a page that keeps the sealed form in the tab and goes to the
// provider; the login comes back to a page that posts it again; nginx sends
// the original request on to the app, once, byte for byte. Here the pages'
// script is played by the test (t/preserve_post_browser.test.mjs runs it in
// Chromium): every check the module makes is exercised, with the
// shared-memory store and with Redis. Without the option, or for what
// cannot be kept, the "Session ended" page, whose link signs in again and
// comes back to the form's page.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { listen } from './lib/echo.mjs';
import http from 'node:http';
import { itest } from './lib/harness.mjs';
import {
  COOKIE, NAV, passFakeOp, providerBlock, sessionSetCookie, step,
} from './lib/login.mjs';
import { redisAvailable, redisStore, secretFile, startRedis } from './lib/redis.mjs';

/** An app that keeps every request's raw body. */
async function rawApp(h) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks),
      });
      const out = `<!doctype html><title>app</title><p id="got">${req.method} ${req.url}</p>`;
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  const app = await listen(server, 0, { requests });
  h.defer(() => app.close());
  return app;
}

/** What a browser sends when a person submits a form of `origin`'s page. */
const formPost = (origin, page, body) => ({
  ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
  accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-site': 'same-origin',
  'sec-fetch-dest': 'document',
  origin,
  referer: `${origin}${page}`,
});

const attr = (html, name) => {
  const m = html.match(new RegExp(`${name}="([^"]*)"`));
  return m && m[1].replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
};

function conf(op, port, app, store = '') {
  return `
${store}
${providerBlock('fake', op.issuer, store ? { session_store: 'fleet' } : {})}
${basicServer(port, `
        location /app/ {
            auth_oidc fake;
            auth_oidc_preserve_post on;
            auth_oidc_preserve_post_max_size 8k;
            client_body_buffer_size 1k;
            proxy_pass ${app.url};
            proxy_set_header X-User-Sub $oidc_claim_sub;
        }
        location /plain/ { auth_oidc fake; proxy_pass ${app.url}; }
        location /rw/ {
            auth_oidc fake;
            auth_oidc_preserve_post on;
            rewrite ^/rw/(.*)$ /stripped/$1 break;
            proxy_pass ${app.url};
        }
        location /redirects/ { auth_oidc fake; auth_oidc_unauth redirect; proxy_pass ${app.url}; }
        location = /status { oidc_status; }`)}`;
}

/**
 * The module's pages, played as their script does: the form POST answered
 * with the keeping page, the login at the fake provider, the page the login
 * comes back to, and the kept form posted back. Returns what each step got.
 */
async function keepAndSend(ua, ngx, op, path, body, type, { chunked = false } = {}) {
  const origin = ngx.url;
  const kept = await ua.fetch(`${origin}${path}`, {
    method: 'POST', headers: { ...formPost(origin, '/app/form?step=2', body), 'content-type': type }, body,
  });
  assert.equal(kept.status, 200, `the keeping page: ${kept.status} ${kept.body.slice(0, 300)}`);
  const key = attr(kept.body, 'data-key');
  const blob = attr(kept.body, 'data-blob');
  const go = attr(kept.body, 'data-go');
  assert.ok(key && blob && go, 'the page carries the key, the sealed form and the provider URL');
  assert.ok(go.startsWith(`${op.issuer}/auth?`), go);

  const callback = await passFakeOp(ua, go, origin);
  const done = await ua.fetch(callback, { headers: NAV });
  assert.equal(done.status, 302, `callback: ${done.status}`);
  const back = new URL(done.headers.location, origin);
  assert.equal(back.pathname, '/oidc_callback');
  assert.equal(back.searchParams.get('provider'), 'fake');
  assert.equal(back.searchParams.get('back'), '/app/form?step=2');
  assert.equal(`auth_oidc_post:${back.searchParams.get('oidc_post')}`, key);

  const sender = await ua.fetch(back.href, { headers: NAV });
  assert.equal(sender.status, 200, `the sending page: ${sender.status}`);
  assert.equal(attr(sender.body, 'data-key'), key);
  const action = attr(sender.body, 'data-action');
  assert.equal(attr(sender.body, 'data-back'), '/app/form?step=2');

  const sendOpts = {
    method: 'POST',
    headers: { ...formPost(origin, `${back.pathname}${back.search}`, chunked ? undefined : `blob=${blob}`), 'content-type': 'application/x-www-form-urlencoded' },
    body: `blob=${blob}`,
  };
  const sent = await ua.fetch(`${origin}${action}`, sendOpts);
  return { kept, sender, sent, sendOpts, action, blob, session: sessionSetCookie(done)?.value };
}

for (const variant of ['shm', 'redis']) {
  itest(`a form kept over a login (${variant}): sent on once, byte for byte; refusals; no store growth`, {
    skip: variant === 'redis' && !redisAvailable() && 'no redis-server',
  }, async (h, t) => {
    const op = await h.fakeOp();
    const app = await rawApp(h);
    const port = await h.port();
    let store = '';
    let redis;
    if (variant === 'redis') {
      redis = await startRedis(h);
      store = redisStore('fleet', `127.0.0.1:${redis.port}`, { secret_file: secretFile(h.dir, 'secret') });
    }
    const ngx = await h.nginx(conf(op, port, app, store)).start();
    await ngx.waitProvider('fake', 'ready');
    const origin = ngx.url;

    await step(t, h, 'urlencoded: the app gets the original POST once, with the new session\'s identity; a second post is refused', async () => {
      const ua = new UserAgent();
      const body = 'title=caf%C3%A9+%26+cr%C3%A8me&note=line1%0D%0Aline2&empty=&x=%2B1';
      const before = app.requests.length;
      const r = await keepAndSend(ua, ngx, op, '/app/submit?draft=1', body, 'application/x-www-form-urlencoded');
      assert.equal(r.sent.status, 200, `sent: ${r.sent.status} ${r.sent.body.slice(0, 300)}`);
      assert.match(r.kept.headers['content-security-policy'], /script-src 'sha256-[A-Za-z0-9+/=]+'/);
      assert.match(r.kept.headers['content-security-policy'], /default-src 'none'/);
      assert.equal(r.kept.headers['cache-control'], 'no-store');
      const got = app.requests.slice(before);
      assert.equal(got.length, 1, 'the app was reached once, by the replay');
      assert.equal(got[0].method, 'POST');
      assert.equal(got[0].url, '/app/submit?draft=1');
      assert.equal(got[0].headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(got[0].headers['content-length'], String(Buffer.byteLength(body)));
      assert.equal(got[0].body.toString('latin1'), body);
      assert.equal(got[0].headers['x-user-sub'], 'fake-user-1', 'a request of the new session');
      assert.doesNotMatch(got[0].headers.cookie ?? '', new RegExp(COOKIE));

      // posted again: refused, the app not reached
      const again = await ua.fetch(`${origin}${r.action}`, r.sendOpts);
      assert.equal(again.status, 409);
      assert.match(again.body, /already sent/);
      assert.equal(app.requests.length, before + 1);
    });

    await step(t, h, 'multipart with a binary file, read back from nginx\'s temporary file: byte for byte', async () => {
      const ua = new UserAgent();
      const boundary = '----formBoundaryX7a';
      const file = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37) % 256));
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="caption"\r\n\r\nüber\r\n`
          + `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n`
          + 'Content-Type: application/octet-stream\r\n\r\n'),
        file,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const before = app.requests.length;
      const r = await keepAndSend(ua, ngx, op, '/app/upload', body, `multipart/form-data; boundary=${boundary}`);
      assert.equal(r.sent.status, 200);
      const got = app.requests.slice(before);
      assert.equal(got.length, 1);
      assert.equal(got[0].headers['content-type'], `multipart/form-data; boundary=${boundary}`);
      assert.ok(got[0].body.equals(body), 'the same bytes');
    });

    await step(t, h, 'a location that rewrites: the form goes the way the original went', async () => {
      const before = app.requests.length;
      const r = await keepAndSend(new UserAgent(), ngx, op, '/rw/submit?draft=2', 'a=1', 'application/x-www-form-urlencoded');
      assert.equal(r.sent.status, 200, r.sent.body.slice(0, 200));
      assert.equal(app.requests.length, before + 1);
      assert.equal(app.requests.at(-1).url, '/stripped/submit?draft=2');
    });

    await step(t, h, 'what is refused: altered, another login\'s form, from another site, chunked', async () => {
      const ua = new UserAgent();
      const before = app.requests.length;
      const r = await keepAndSend(ua, ngx, op, '/app/x', 'a=1', 'application/x-www-form-urlencoded');
      assert.equal(r.sent.status, 200);

      const ua2 = new UserAgent();
      const o = await keepAndSend(ua2, ngx, op, '/app/y', 'b=2', 'application/x-www-form-urlencoded')
        .catch((e) => e);
      assert.ok(!(o instanceof Error), String(o));
      // the other login's form under this one's name (both already sent)
      const crossed = await ua.fetch(`${origin}${r.action}`, {
        ...r.sendOpts, headers: { ...r.sendOpts.headers, 'content-length': String(o.blob.length + 5) }, body: `blob=${o.blob}`,
      });
      assert.equal(crossed.status, 400);
      const flipped = r.blob.slice(0, 60) + (r.blob[60] === 'A' ? 'B' : 'A') + r.blob.slice(61);
      const altered = await ua.fetch(`${origin}${r.action}`, { ...r.sendOpts, body: `blob=${flipped}` });
      assert.equal(altered.status, 400);
      const cross = await ua.fetch(`${origin}${r.action}`, {
        ...r.sendOpts,
        headers: { ...r.sendOpts.headers, 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' },
      });
      assert.equal(cross.status, 403);
      assert.equal(app.requests.length, before + 2, 'only the two genuine forms reached the app');
      // the name goes into the sending page: only one of ours is taken
      const evil = `"><script>alert(1)</script>${'A'.repeat(20)}`.slice(0, 43);
      const bad = await ngx.get(`/oidc_callback?oidc_post=${encodeURIComponent(evil)}&provider=fake`, { headers: NAV });
      assert.equal(bad.status, 400);
      assert.doesNotMatch(bad.body, /<script>alert/);
      const unknown = await ngx.get(`/oidc_callback?oidc_post=${'A'.repeat(43)}&provider=nobody`, { headers: NAV });
      assert.equal(unknown.status, 400);
      // a page of ours posts with a length: a chunked body is never sent on
      const ua3 = new UserAgent();
      const c = await keepAndSend(ua3, ngx, op, '/app/z', 'c=3', 'application/x-www-form-urlencoded', { chunked: true });
      assert.equal(c.sent.status, 413);
      assert.equal(app.requests.length, before + 2, 'nothing more reached the app');
    });

    await step(t, h, 'a cross-site form, a script\'s POST, an oversized body: nothing kept', async () => {
      const before = app.requests.length;
      const cross = await ngx.get('/app/submit', {
        method: 'POST',
        headers: { ...formPost('http://evil.example', '/'), 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'transfer=all',
      });
      assert.equal(cross.status, 401);
      assert.match(cross.body, /<h1>Session ended<\/h1>/);
      assert.doesNotMatch(cross.body, /data-blob/);
      const big = await ngx.get('/app/submit', {
        method: 'POST',
        headers: { ...formPost(origin, '/app/form'), 'content-type': 'application/x-www-form-urlencoded' },
        body: `t=${'x'.repeat(9000)}`,
      });
      assert.equal(big.status, 401);
      assert.match(big.body, /too large to keep/);
      const framed = await ngx.get('/app/submit', {
        method: 'POST',
        headers: { ...formPost(origin, '/app/form', 'a=1'), 'sec-fetch-dest': 'iframe', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1',
      });
      assert.equal(framed.status, 401, 'a form in a frame is not kept (the page cannot be framed)');
      assert.doesNotMatch(framed.body, /data-blob/);
      const json = await ngx.get('/app/submit', {
        method: 'POST',
        headers: { ...formPost(origin, '/app/form'), 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(json.status, 401);
      assert.equal(app.requests.length, before);
    });

    await step(t, h, 'a flood of kept forms fills no store', async () => {
      // what the store holds: its entries, or Redis's keys
      const counts = async () => {
        if (redis) return (await redis.keys('*')).length;
        const s = JSON.parse((await ngx.get('/status')).body);
        return Object.values(s.stores)[0].entries;
      };
      const before = await counts();
      assert.equal(typeof before, 'number');
      const many = [];
      for (let i = 0; i < 200; i++) {
        many.push(ngx.get('/app/submit', {
          method: 'POST',
          headers: { ...formPost(origin, '/app/form'), 'content-type': 'application/x-www-form-urlencoded' },
          body: `n=${i}&pad=${'p'.repeat(4000)}`,
        }));
      }
      const answers = await Promise.all(many);
      assert.ok(answers.every((a) => a.status === 200 && /data-blob/.test(a.body)), 'each kept in its own page');
      assert.equal(await counts(), before, 'the store holds what it held');
    });

    await step(t, h, 'without the option: the "Session ended" page, whose link signs in and comes back to the form', async () => {
      const ua = new UserAgent();
      const res = await ua.fetch(`${origin}/plain/submit`, {
        method: 'POST',
        headers: { ...formPost(origin, '/plain/form?id=7&q=a%26b'), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1',
      });
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], 'OIDC realm="fake"');
      assert.match(res.body, /<h1>Session ended<\/h1>/);
      assert.match(res.body, /was not saved/);
      const link = attr(res.body.slice(res.body.indexOf('<nav>')), 'href');
      const url = new URL(link);
      assert.equal(url.searchParams.get('return_to'), '/plain/form?id=7&q=a%26b');
      const start = await ua.fetch(link, { headers: NAV });
      assert.equal(start.status, 302);
      const done = await ua.fetch(await passFakeOp(ua, start.headers.location, origin), { headers: NAV });
      assert.equal(done.status, 302);
      const back = new URL(done.headers.location, origin);
      assert.equal(`${back.pathname}${back.search}`, '/plain/form?id=7&q=a%26b', 'the query decoded once');

      const redirect = await ngx.get('/redirects/submit', {
        method: 'POST',
        headers: { ...formPost(origin, '/redirects/form'), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1',
      });
      assert.equal(redirect.status, 302, 'auth_oidc_unauth redirect still redirects');
    });
  });
}

itest('auth_oidc_preserve_post_max_size and oidc_session_info: nginx -t refusals', async (h) => {
  const op = await h.fakeOp();
  const port = await h.port();
  const big = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, `
        location /app/ { auth_oidc fake; auth_oidc_preserve_post on; auth_oidc_preserve_post_max_size 2m; }`)}`).test();
  assert.notEqual(big.status, 0);
  assert.match(big.stderr, /auth_oidc_preserve_post_max_size" directive must be at most 960k/);
  const info = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, `
        location = /session { oidc_session_info; }`)}`).test();
  assert.notEqual(info.status, 0);
  assert.match(info.stderr, /oidc_session_info needs "auth_oidc NAME" in its location/);
});
