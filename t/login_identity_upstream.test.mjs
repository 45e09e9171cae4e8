// What the app behind a protected location sees: the claims of the ID
// token as $oidc_claim_* (strings raw, arrays and objects as compact JSON),
// the tokens and the session expiry; never a client-forged identity
// header; and a login never ends with a redirect off the site, whatever
// the original request target was.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { decodeJwt } from './lib/fake-op.mjs';
import { itest } from './lib/harness.mjs';
import {
  assertSessionCookie, COOKIE, login, NAV, passFakeOp, protectedLocation, providerBlock, rawRequest, redirectPath, step,
  withSession,
} from './lib/login.mjs';

itest('identity variables upstream, and forged identity headers never reach the app', async (h, t) => {
  const op = await h.fakeOp({
    user: {
      sub: 'user-42', email: 'u42@example.test', name: 'Zoë "Q" Ünïcode', groups: ['admins', 'dev team'],
      address: { country: 'FR', locality: 'Paris' },
    },
  });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, { session_timeout: '1h' })}
${basicServer(port, [
    protectedLocation('/app', 'fake', upstream.url, { extra: '            proxy_set_header X-User-Name $oidc_claim_name;' }),
    protectedLocation('/open', 'fake', upstream.url, { unauth: 'pass' }),
  ].join('\n'))}`).start();
  await ngx.waitProvider('fake', 'ready');

  const ua = new UserAgent();
  let id;
  await step(t, h, 'claims, tokens and expiry reach the app', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    ({ cookie: id } = await login(ua, ngx.url, '/app'));
    const res = await ngx.get('/app/whoami', { headers: withSession(id) });
    assert.equal(res.status, 200);
    const hd = res.json().headers;
    const issued = op.issued.at(-1);
    assert.equal(hd['x-user-sub'], 'user-42');
    assert.equal(hd['x-user-email'], 'u42@example.test');
    assert.equal(hd['x-user-groups'], '["admins","dev team"]', 'arrays as compact JSON');
    assert.deepEqual(JSON.parse(hd['x-user-address']), { country: 'FR', locality: 'Paris' });
    assert.doesNotMatch(hd['x-user-address'], /\s/, 'objects as compact JSON');
    // node decodes header bytes as latin1: re-encode to compare the UTF-8 name
    assert.equal(Buffer.from(hd['x-user-name'], 'latin1').toString('utf8'), 'Zoë "Q" Ünïcode', 'strings raw');
    assert.equal(hd['x-id-token'], issued.id_token);
    assert.equal(decodeJwt(hd['x-id-token']).payload.sub, 'user-42');
    assert.equal(hd['x-access-token'], issued.access_token);
    const exp = Number(hd['x-session-expires']);
    assert.ok(Number.isInteger(exp) && exp >= t0 && exp <= t0 + 3600 + 5,
      `$oidc_session_expires ${hd['x-session-expires']} within session_timeout 1h of ${t0}`);
  });

  await step(t, h, 'a forged X-User-Sub never reaches the app', async () => {
    assert.ok(id, 'logged in');
    const forged = { 'x-user-sub': 'admin', 'x-user-email': 'admin@evil.test', 'x-id-token': 'forged' };
    const withSess = (await ngx.get('/app/x', { headers: { ...withSession(id), ...forged } })).json();
    assert.equal(withSess.headers['x-user-sub'], 'user-42');
    assert.equal(withSess.headers['x-user-email'], 'u42@example.test');
    assert.notEqual(withSess.headers['x-id-token'], 'forged');

    const passAnon = await ngx.get('/open/x', { headers: { ...NAV, ...forged } });
    assert.equal(passAnon.status, 200, 'pass mode lets the anonymous request through');
    const anon = passAnon.json();
    assert.ok(!anon.headers['x-user-sub'], `pass mode without session: X-User-Sub ${JSON.stringify(anon.headers['x-user-sub'])}`);
    assert.ok(!anon.headers['x-user-email']);
    assert.ok(!anon.headers['x-id-token']);

    const passSess = (await ngx.get('/open/x', { headers: { ...withSession(id), ...forged } })).json();
    assert.equal(passSess.headers['x-user-sub'], 'user-42', 'pass mode with a session: the real identity');

    // a forged or unknown session id is no session at all
    const bogus = await ngx.get('/open/x', { headers: { ...withSession('A'.repeat(43)), ...forged } });
    assert.ok(!bogus.json().headers['x-user-sub']);
    const bogusApp = await ngx.get('/app/x', { headers: withSession('A'.repeat(43)) });
    assert.equal(bogusApp.status, 302, 'an unknown session id means a new login');
    const junk = await ngx.get('/app/x', { headers: { ...NAV, cookie: `${COOKIE}=../../etc/passwd; ${COOKIE}=${'x'.repeat(5000)}` } });
    assert.equal(junk.status, 302);
  });
});

itest('open redirects through the original URL are neutralised', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
    server {
        listen 127.0.0.1:${port};
        location /status { oidc_status; }
${protectedLocation('/', 'fake', upstream.url)}
    }`).start();
  await ngx.waitProvider('fake', 'ready');

  // Start the login with a raw request (the target is sent byte for byte),
  // finish it with a normal user agent; resolves the final Location.
  const loginFrom = async (target) => {
    const ua = new UserAgent();
    const first = await rawRequest(port, target, { accept: NAV.accept, 'sec-fetch-mode': 'navigate' });
    assert.equal(first.status, 302, `GET ${target}: ${first.status} ${first.body.slice(0, 200)}`);
    ua.jar.store(`${ngx.url}/`, first.headers['set-cookie']);
    const callbackUrl = await passFakeOp(ua, first.headers.location, ngx.url);
    const cb = await ua.fetch(callbackUrl, { headers: NAV });
    assert.equal(cb.status, 302, `callback after GET ${target}: ${cb.status} ${cb.body.slice(0, 200)}`);
    assertSessionCookie(cb);
    const loc = cb.headers.location;
    // an absolute Location (absolute_redirect) must stay on this origin
    if (/^[a-z][a-z0-9+.-]*:/i.test(loc)) assert.equal(new URL(loc).origin, ngx.url, `Location ${loc}`);
    return redirectPath(cb, ngx.url);
  };

  await step(t, h, 'control: a plain local path comes back unchanged', async () => {
    assert.equal(await loginFrom('/deep/path?x=1&y=two'), '/deep/path?x=1&y=two');
  });

  for (const target of ['//evil.com/', '//evil.com/app', '///evil.com/', '/\\evil.com/', '/\\/evil.com/', '/%5C%5Cevil.com/',
    '/.//evil.com/', '//evil.com%2F..']) {
    await step(t, h, `GET ${target} ends on a local path`, async () => {
      const loc = await loginFrom(target);
      assert.match(loc, /^\/(?![/\\])/, `Location after login ${JSON.stringify(loc)} must be a local path`);
      assert.doesNotMatch(loc, /[\r\n\t ]/);
      // and what a browser would make of it stays on this origin
      assert.equal(new URL(loc, ngx.url).origin, ngx.url);
    });
  }
});
