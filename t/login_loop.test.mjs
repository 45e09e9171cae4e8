// Login loops: a browser whose session cookie never comes back is sent to
// the provider, signed in at once by its single sign-on, and sent back, for
// ever. A login start after four logins done within a minute (and no
// request with their session) is stopped instead: a page
// (508 Loop Detected) that names the likely cause, and one [warn] line with the fix.
// Forced here by a user agent that drops the session cookie (or sends an
// old one the store does not know, as a second host without a shared store
// would see it).
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  COOKIE, login, NAV, protectedLocation, providerBlock, step,
} from './lib/login.mjs';

/** A user agent whose jar never keeps the session cookie; stale: it sends this one instead. */
function droppingAgent(stale) {
  const ua = new UserAgent();
  const store = ua.jar.store.bind(ua.jar);
  ua.jar.store = (url, lines) => store(url, [].concat(lines || []).filter((l) => !l.startsWith(`${COOKIE}=`)));
  if (stale) {
    const header = ua.jar.header.bind(ua.jar);
    ua.jar.header = (url) => [header(url), `${COOKIE}=${stale}`].filter(Boolean).join('; ');
  }
  return ua;
}

itest('a login loop ends on a page that names the likely cause, within a few tries', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, protectedLocation('/app/', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');

  await step(t, h, 'the session cookie dropped: four logins, then the page; one warning with the fix', async () => {
    const ua = droppingAgent();
    const before = op.hits('/auth');
    const res = await ua.go(`${ngx.url}/app/x`, { headers: NAV }, 40);
    assert.equal(res.status, 508, res.chain.map((r) => `${r.status} ${r.url}`).join('\n'));
    assert.equal(op.hits('/auth') - before, 4, 'four logins reached the provider');
    assert.match(res.body, /<h1>Login loop stopped<\/h1>/);
    assert.match(res.body, /the browser does not send the session cookie back/);
    assert.match(res.body, /Sign in again/);
    await ngx.waitForLog(/\[warn\].*provider "fake": login loop stopped: 4 logins of one browser done in \d+ s, its session cookie "NGX_OIDC_SESSION" never came back; likely the browser does not send the session cookie back; fix: look for what drops the session cookie/);
    // "Sign in again": the count starts afresh, the next login goes to the provider
    const again = await ua.fetch(`${ngx.url}/app/x`, { headers: NAV });
    assert.equal(again.status, 302);
    assert.ok(again.headers.location.startsWith(`${op.issuer}/auth`));
  });

  await step(t, h, 'an old session cookie the store does not know: the page says the store is not shared', async () => {
    const ua = droppingAgent('A'.repeat(43));
    const res = await ua.go(`${ngx.url}/app/y`, { headers: NAV }, 40);
    assert.equal(res.status, 508);
    assert.match(res.body, /this server&#39;s session store does not know its session|this server's session store does not know its session/);
    assert.equal(ngx.errorLog().match(/login loop stopped/g).length, 1, 'said once per worker and provider');
  });

  await step(t, h, 'many tabs starting logins at once are never stopped', async () => {
    const ua = new UserAgent();
    for (let i = 0; i < 8; i += 1) {
      const res = await ua.fetch(`${ngx.url}/app/tab${i}`, { headers: NAV });
      assert.equal(res.status, 302, `tab ${i}`);
    }
  });

  await step(t, h, 'a person who logs in a few times within a minute is never stopped', async () => {
    const ua = new UserAgent();
    for (let i = 0; i < 6; i += 1) {
      await login(ua, ngx.url, `/app/${i}`);
      assert.equal((await ua.fetch(`${ngx.url}/app/${i}`, { headers: NAV })).status, 200);
      ua.jar.cookies = ua.jar.cookies.filter((c) => c.name !== COOKIE); // logged out
    }
  });
});
