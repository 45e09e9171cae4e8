// Per-location login parameters and step-up. auth_oidc_acr and
// auth_oidc_max_age: a session whose "acr" or "auth_time" does not meet the
// location's is sent to log in again with acr_values / max_age and comes
// back; the callback refuses an ID token that shows the provider ignored
// what was asked (OpenID Connect Core 1.0, 3.1.2.1 and 3.1.3.7).
// auth_oidc_extra_auth_args: a location's own authorization arguments, with
// variables. The fake OP honours acr_values and max_age unless told not to.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  login, NAV, protectedLocation, providerBlock, step, XHR,
} from './lib/login.mjs';

itest('step-up: a location asking for an acr or a recent login sends the session to log in again', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  // an honest provider: the acr asked for (the first), a fresh auth_time when max_age is asked
  let honest = true;
  let authTime = null;
  op.set({
    idToken: {
      claims: (payload, params) => {
        if (authTime !== null) payload.auth_time = authTime;
        if (honest && params.acr_values) payload.acr = params.acr_values.split(' ')[0];
        if (honest && params.max_age !== undefined) payload.auth_time = Math.floor(Date.now() / 1000);
        return payload;
      },
    },
  });
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, [
    protectedLocation('/app/', 'fake', upstream.url, { extra: '            proxy_set_header X-Acr $oidc_claim_acr;' }),
    protectedLocation('/admin/', 'fake', upstream.url, { extra: '            auth_oidc_acr gold platinum;\n            proxy_set_header X-Acr $oidc_claim_acr;' }),
    protectedLocation('/recent/', 'fake', upstream.url, { extra: '            auth_oidc_max_age 60s;' }),
    protectedLocation('/admin-pass/', 'fake', upstream.url, { unauth: 'pass', extra: '            auth_oidc_acr gold;' }),
    protectedLocation('/hint/', 'fake', upstream.url, { extra: '            auth_oidc_extra_auth_args "login_hint=$arg_user&prompt=login";' }),
    protectedLocation('/bad-args/', 'fake', upstream.url, { extra: '            auth_oidc_extra_auth_args "state=$arg_s";' }),
  ].join('\n'))}`).start();
  await ngx.waitProvider('fake', 'ready');
  const base = ngx.url;

  await step(t, h, 'a session without the acr: a login asking acr_values, then the page, the session now with it', async () => {
    const ua = new UserAgent();
    await login(ua, base, '/app/x');
    assert.equal((await ua.fetch(`${base}/app/x`, { headers: NAV })).json().headers['x-acr'], undefined);
    const before = op.authRequests.length;
    const res = await ua.go(`${base}/admin/panel`, { headers: NAV });
    assert.equal(res.status, 200, res.chain.map((r) => `${r.status} ${r.url}`).join('\n'));
    assert.equal(res.url, `${base}/admin/panel`);
    assert.equal(op.authRequests.length - before, 1);
    assert.equal(op.authRequests.at(-1).acr_values, 'gold platinum');
    assert.equal(res.json().headers['x-acr'], 'gold');
    // the stepped-up session is the session everywhere, and is asked nothing more
    assert.equal((await ua.fetch(`${base}/app/y`, { headers: NAV })).json().headers['x-acr'], 'gold');
    assert.equal((await ua.fetch(`${base}/admin/again`, { headers: NAV })).status, 200);
    assert.equal(op.authRequests.length - before, 1);
  });

  await step(t, h, 'auth_oidc_unauth pass: a session that does not meet the step-up passes without identity', async () => {
    const ua = new UserAgent();
    await login(ua, base, '/app/x');
    const res = await ua.fetch(`${base}/admin-pass/x`, { headers: NAV });
    assert.equal(res.status, 200);
    assert.equal(res.json().headers['x-user-sub'], undefined);
    assert.equal(res.json().headers['x-id-token'], undefined);
  });

  await step(t, h, 'a script\'s request to the step-up location gets 401, not a redirect', async () => {
    const ua = new UserAgent();
    await login(ua, base, '/app/x');
    assert.equal((await ua.fetch(`${base}/admin/api`, { headers: XHR })).status, 401);
    assert.equal((await ua.fetch(`${base}/app/api`, { headers: XHR })).status, 200);
  });

  await step(t, h, 'a provider that ignores acr_values: the login is refused, the old session stays as it was', async () => {
    const ua = new UserAgent();
    await login(ua, base, '/app/x');
    honest = false;
    try {
      const res = await ua.go(`${base}/admin/panel`, { headers: NAV });
      assert.equal(res.status, 403, res.chain.map((r) => `${r.status} ${r.url}`).join('\n'));
      assert.match(res.body, /Login refused/);
      await ngx.waitForLog(/\[warn\].*provider "fake": login refused: the step-up asked for is not met: no "acr", one of "gold platinum" was asked for/);
    } finally {
      honest = true;
    }
    assert.equal((await ua.fetch(`${base}/app/x`, { headers: NAV })).status, 200);
  });

  await step(t, h, 'max_age: an old login is sent to log in again with max_age; an ignored max_age is refused', async () => {
    const ua = new UserAgent();
    authTime = Math.floor(Date.now() / 1000) - 3600;
    await login(ua, base, '/app/x');
    authTime = null;
    const before = op.authRequests.length;
    const res = await ua.go(`${base}/recent/r`, { headers: NAV });
    assert.equal(res.status, 200, res.chain.map((r) => `${r.status} ${r.url}`).join('\n'));
    assert.equal(op.authRequests.at(-1).max_age, '60');
    assert.equal(op.authRequests.length - before, 1);

    // a fresh login meets it at once
    const fresh = new UserAgent();
    await login(fresh, base, '/app/x');
    const direct = await fresh.fetch(`${base}/recent/r`, { headers: NAV });
    assert.equal(direct.status, 200);

    const stale = new UserAgent();
    authTime = Math.floor(Date.now() / 1000) - 3600;
    await login(stale, base, '/app/x');
    honest = false;
    try {
      const refused = await stale.go(`${base}/recent/r`, { headers: NAV });
      assert.equal(refused.status, 403);
      await ngx.waitForLog(/login refused: the step-up asked for is not met: the authentication is \d+ s old, max_age is 60/);
    } finally {
      honest = true;
      authTime = null;
    }
  });

  await step(t, h, 'a location\'s own authorization arguments, with variables', async () => {
    const ua = new UserAgent();
    const res = await ua.fetch(`${base}/hint/x?user=bob%40example.test`, { headers: NAV });
    assert.equal(res.status, 302);
    const auth = new URL(res.headers.location);
    assert.equal(auth.searchParams.get('login_hint'), 'bob@example.test');
    assert.equal(auth.searchParams.get('prompt'), 'login');
    assert.equal(auth.searchParams.getAll('state').length, 1);
  });

  await step(t, h, 'arguments that would set a parameter of the module\'s: the login fails, logged', async () => {
    const ua = new UserAgent();
    const res = await ua.fetch(`${base}/bad-args/x?s=forged`, { headers: NAV });
    assert.equal(res.status, 500);
    await ngx.waitForLog(/\[error\].*provider "fake": cannot build the authorization URL: invalid argument: extra_auth_args sets a parameter the module sets itself/);
  });
});

itest('nginx -t: auth_oidc_max_age takes a time', async (h, t) => {
  await step(t, h, 'a word is refused', async () => {
    const ngx = h.nginx(`
${providerBlock('fake', 'http://127.0.0.1:9/op')}
${basicServer(await h.port(), '        location / { auth_oidc fake; auth_oidc_max_age soon; }')}`);
    const res = await ngx.test();
    assert.equal(res.ok, false);
    assert.match(res.stderr, /"auth_oidc_max_age" directive invalid value/);
  });
});
