// The callback under attack and under failure: parallel logins do not mix,
// and every bad callback (replayed, wrong, missing or expired state, no
// code, access_denied, a code the provider refuses, a token endpoint that
// is down, talks garbage or hangs) is refused with the contract's status,
// no session cookie, and an error-level "auth_oidc:" line.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  assertErrorLogged, assertLogHasNo, assertNoSession, assertSessionCookie, CALLBACK, login, logMark, NAV,
  passFakeOp, protectedLocation, providerBlock, redirectPath, signInAtProvider, startLogin, step, withSession,
} from './lib/login.mjs';
import { CLIENT_SECRET } from './lib/provider.mjs';
import { freePort } from './lib/ports.mjs';
import { sleep } from './lib/util.mjs';

const randomState = () => crypto.randomBytes(32).toString('base64url');

function withParams(url, change) {
  const u = new URL(url);
  for (const [k, v] of Object.entries(change)) {
    if (v === null) u.searchParams.delete(k);
    else u.searchParams.set(k, v);
  }
  return u.href;
}

/** A refused callback: status, no session, an error line, and /app still asks for a login. */
async function assertRefused(ngx, ua, url, status, { logRe, path = '/app' } = {}) {
  const mark = logMark(ngx);
  const res = await ua.fetch(url, { headers: NAV });
  assert.equal(res.status, status, `callback ${url} answered ${res.status}: ${res.body.slice(0, 300)}`);
  assertNoSession(res);
  await assertErrorLogged(mark, logRe);
  const again = await ua.fetch(`${ngx.url}${path}`, { headers: NAV });
  assert.equal(again.status, 302, `${path} after a refused callback: ${again.status}`);
  return res;
}

itest('callback errors with the real provider: parallel logins, state and code abuse, access_denied', async (h, t) => {
  const idp = await h.provider();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('idp', idp.issuer, { scope: '"openid email profile"' })}
${basicServer(port, protectedLocation('/app', 'idp', upstream.url))}`).start();
  await ngx.waitProvider('idp', 'ready');
  const secrets = [CLIENT_SECRET];

  await step(t, h, 'two interleaved logins both succeed, each with its own identity', async () => {
    const a = new UserAgent();
    const b = new UserAgent();
    const sa = await startLogin(a, ngx.url, '/app/a?who=demo');
    const sb = await startLogin(b, ngx.url, '/app/b?who=alice');
    assert.notEqual(new URL(sa.authUrl).searchParams.get('state'), new URL(sb.authUrl).searchParams.get('state'));
    assert.notEqual(new URL(sa.authUrl).searchParams.get('nonce'), new URL(sb.authUrl).searchParams.get('nonce'));
    const cbA = await signInAtProvider(a, sa.authUrl, ngx.url, { user: 'demo' });
    const cbB = await signInAtProvider(b, sb.authUrl, ngx.url, { user: 'alice' });
    const rb = await b.fetch(cbB, { headers: NAV }); // B completes first
    const ra = await a.fetch(cbA, { headers: NAV });
    assert.equal(ra.status, 302, ra.body);
    assert.equal(rb.status, 302, rb.body);
    assert.equal(redirectPath(ra, ngx.url), '/app/a?who=demo');
    assert.equal(redirectPath(rb, ngx.url), '/app/b?who=alice');
    const ca = assertSessionCookie(ra);
    const cb = assertSessionCookie(rb);
    assert.notEqual(ca, cb);
    const seenA = (await ngx.get('/app/a', { headers: withSession(ca) })).json();
    const seenB = (await ngx.get('/app/b', { headers: withSession(cb) })).json();
    assert.equal(seenA.headers['x-user-sub'], 'demo');
    assert.equal(seenB.headers['x-user-sub'], 'alice');
    secrets.push(seenA.headers['x-id-token'], seenB.headers['x-id-token'], seenA.headers['x-access-token']);
  });

  await step(t, h, 'a replayed callback URL is refused (400)', async () => {
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, '/app');
    const callbackUrl = await signInAtProvider(ua, authUrl, ngx.url, { user: 'bob' });
    const first = await ua.fetch(callbackUrl, { headers: NAV });
    assert.equal(first.status, 302);
    assertSessionCookie(first);
    // the same URL again, from another browser (a leaked URL) and from the same one
    await assertRefused(ngx, new UserAgent(), callbackUrl, 400);
    const mark = logMark(ngx);
    const same = await ua.fetch(callbackUrl, { headers: NAV });
    assert.equal(same.status, 400);
    assertNoSession(same);
    await assertErrorLogged(mark);
  });

  await step(t, h, 'a wrong state is refused (400) and does not spoil the real one', async () => {
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, '/app/wrong');
    const callbackUrl = await signInAtProvider(ua, authUrl, ngx.url, { user: 'demo' });
    await assertRefused(ngx, ua, withParams(callbackUrl, { state: randomState() }), 400);
    await assertRefused(ngx, ua, withParams(callbackUrl, { state: '' }), 400);
    const ok = await ua.fetch(callbackUrl, { headers: NAV });
    assert.equal(ok.status, 302, `the genuine callback after a forged one: ${ok.status} ${ok.body.slice(0, 200)}`);
    assert.equal(redirectPath(ok, ngx.url), '/app/wrong');
    assertSessionCookie(ok);
  });

  await step(t, h, 'missing state or missing code is refused (400)', async () => {
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, '/app');
    const callbackUrl = await signInAtProvider(ua, authUrl, ngx.url, { user: 'demo' });
    await assertRefused(ngx, ua, withParams(callbackUrl, { state: null }), 400);
    await assertRefused(ngx, ua, withParams(callbackUrl, { code: null }), 400);
    await assertRefused(ngx, ua, `${ngx.url}${CALLBACK}`, 400);
  });

  await step(t, h, 'error=access_denied from the provider (user cancelled) is a 403', async () => {
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, '/app');
    const form = await ua.go(authUrl, { headers: NAV });
    const abort = /<a id="abort" href="([^"]+)"/.exec(form.body);
    assert.ok(abort, 'cancel link on the provider login page');
    const back = await ua.go(new URL(abort[1], form.url).href, {
      headers: NAV, stopAt: (u) => new URL(u).pathname === CALLBACK,
    });
    assert.ok(back.next, 'provider redirected to the callback');
    assert.equal(new URL(back.next).searchParams.get('error'), 'access_denied');
    const before = idp.hits('/token');
    const res = await assertRefused(ngx, ua, back.next, 403);
    assert.match(res.body, /access_denied/);
    assert.equal(idp.hits('/token'), before, 'no code exchange for a denied login');
  });

  await step(t, h, 'a tampered code is refused by the token endpoint: 401', async () => {
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, '/app');
    const callbackUrl = await signInAtProvider(ua, authUrl, ngx.url, { user: 'demo' });
    const code = new URL(callbackUrl).searchParams.get('code');
    const tampered = `${code.slice(0, -2)}${code.endsWith('AA') ? 'BB' : 'AA'}`;
    const before = idp.hits('/token');
    await assertRefused(ngx, ua, withParams(callbackUrl, { code: tampered }), 401);
    await idp.settled();
    assert.equal(idp.hits('/token'), before + 1, 'the code was presented to the provider');
  });

  await step(t, h, 'nothing secret in error.log', async () => {
    assertLogHasNo(ngx, secrets);
  });
});

itest('callback errors at the token endpoint (fake OP): refused, garbage, reset, down, timeout; expired state', async (h, t) => {
  const dead = await freePort();
  const op = await h.fakeOp({ variants: { dead: { token_endpoint: `http://127.0.0.1:${dead}/token` } } });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, { read_timeout: '1s' })}
${providerBlock('short', op.issuer, { login_timeout: '1s' })}
${providerBlock('dead', op.issuer, { config_url: op.configUrl('dead') })}
${basicServer(port, [
    protectedLocation('/app', 'fake', upstream.url),
    protectedLocation('/short', 'short', upstream.url),
    protectedLocation('/dead', 'dead', upstream.url),
  ].join('\n'))}`).start();
  for (const p of ['fake', 'short', 'dead']) await ngx.waitProvider(p, 'ready');

  // start a login at `path` and return the callback URL the fake OP sends back
  const callbackFor = async (ua, path = '/app') => {
    const { authUrl } = await startLogin(ua, ngx.url, path);
    return passFakeOp(ua, authUrl, ngx.url);
  };

  await step(t, h, 'control: a normal login works', async () => {
    const ua = new UserAgent();
    const r = await login(ua, ngx.url, '/app/x');
    assert.equal(r.location, '/app/x');
    assert.equal(op.tokenRequests.at(-1).status, 200);
    assert.equal(op.tokenRequests.at(-1).client.secret, CLIENT_SECRET);
  });

  const cases = [
    ['the provider refuses the code (invalid_grant)', { status: 400, json: { error: 'invalid_grant', error_description: 'expired' } }, 401],
    ['garbage from the token endpoint', { garbage: true, status: 200 }, 502],
    ['the token endpoint closes the connection', { reset: true }, 502],
  ];
  for (const [name, spec, status] of cases) {
    await step(t, h, `${name}: ${status}`, async () => {
      const ua = new UserAgent();
      const url = await callbackFor(ua);
      op.set({ token: spec });
      try {
        await assertRefused(ngx, ua, url, status);
      } finally {
        op.reset();
      }
    });
  }

  await step(t, h, 'token endpoint unreachable: 502', async () => {
    const ua = new UserAgent();
    const url = await callbackFor(ua, '/dead');
    await assertRefused(ngx, ua, url, 502, { path: '/dead' });
  });

  await step(t, h, 'token endpoint timeout (read_timeout 1s): 504', async () => {
    const ua = new UserAgent();
    const url = await callbackFor(ua);
    op.set({ token: { hang: true } });
    try {
      const t0 = Date.now();
      await assertRefused(ngx, ua, url, 504);
      assert.ok(Date.now() - t0 < 4000, `answered after ${Date.now() - t0} ms`);
    } finally {
      op.reset();
    }
  });

  await step(t, h, 'an expired state (login_timeout 1s) is refused: 400', async () => {
    const ua = new UserAgent();
    const url = await callbackFor(ua, '/short');
    await sleep(2300);
    const before = op.hits('/token');
    await assertRefused(ngx, ua, url, 400, { path: '/short' });
    assert.equal(op.hits('/token'), before, 'no code exchange for an expired state');
  });

  await step(t, h, 'access_denied with markup in the description: 403, escaped', async () => {
    const ua = new UserAgent();
    op.set({ authError: { error: 'access_denied', error_description: '<script>alert("x")</script>' } });
    let url;
    try {
      url = await callbackFor(ua);
    } finally {
      op.reset();
    }
    const res = await assertRefused(ngx, ua, url, 403);
    assert.match(res.body, /access_denied/);
    assert.doesNotMatch(res.body, /<script>alert/, 'provider text must be HTML-escaped');
  });

  await step(t, h, 'the provider still works afterwards; nothing secret in error.log', async () => {
    const ua = new UserAgent();
    const r = await login(ua, ngx.url, '/app/after');
    const seen = (await ngx.get('/app/after', { headers: withSession(r.cookie) })).json();
    assert.equal(seen.headers['x-user-sub'], op.user.sub);
    assertLogHasNo(ngx, [CLIENT_SECRET, ...op.issued.flatMap((i) => [i.id_token, i.access_token])]);
  });
});
