// Requests without a session: the authorization redirect (its parameters,
// PKCE, scope, redirect_uri from the Host header or configured absolute)
// and what each auth_oidc_unauth mode does with navigations, XHRs, non-GET
// methods and API clients.
import assert from 'node:assert/strict';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  assertLoginRedirect, CALLBACK, NAV, protectedLocation, providerBlock, rawRequest, step, XHR,
} from './lib/login.mjs';
import { CLIENT_ID } from './lib/provider.mjs';

itest('unauthenticated requests: the authorization redirect and auth_oidc_unauth modes', async (h, t) => {
  const op = await h.fakeOp({
    variants: {
      plainonly: { code_challenge_methods_supported: ['plain'] },
      nomethods: { code_challenge_methods_supported: undefined },
    },
  });
  const upstream = await h.echo();
  const port = await h.port();
  const abs = `http://127.0.0.1:${port}/custom/cb`;
  const loc = (path, provider, unauth) => protectedLocation(path, provider, upstream.url, { unauth });
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, { scope: '"email  profile"' })}
${providerBlock('ordered', op.issuer, { scope: '"email openid profile"' })}
${providerBlock('nopkce', op.issuer, { pkce: 'off' })}
${providerBlock('plainonly', op.issuer, { config_url: op.configUrl('plainonly') })}
${providerBlock('nomethods', op.issuer, { config_url: op.configUrl('nomethods') })}
${providerBlock('absolute', op.issuer, { redirect_uri: abs })}
${basicServer(port, [
    loc('/auto', 'fake'),
    loc('/redirect', 'fake', 'redirect'),
    loc('/deny', 'fake', '401'),
    loc('/pass', 'fake', 'pass'),
    loc('/explicit-auto', 'fake', 'auto'),
    loc('/nopkce', 'nopkce'),
    loc('/plainonly', 'plainonly'),
    loc('/nomethods', 'nomethods'),
    loc('/absolute', 'absolute'),
    loc('/ordered', 'ordered'),
  ].join('\n'))}`).start();
  for (const p of ['fake', 'nopkce', 'plainonly', 'nomethods', 'absolute', 'ordered']) await ngx.waitProvider(p, 'ready');
  const authEndpoint = `${op.issuer}/auth`;

  await step(t, h, 'the redirect carries every authorization parameter', async () => {
    const res = await ngx.get('/auto/page?a=1', { headers: NAV });
    const u = assertLoginRedirect(res, authEndpoint);
    const p = u.searchParams;
    assert.equal(p.get('response_type'), 'code');
    assert.equal(p.get('client_id'), CLIENT_ID);
    assert.equal(p.get('redirect_uri'), `http://127.0.0.1:${port}${CALLBACK}`);
    assert.equal(p.get('scope'), 'openid email profile', 'scope normalised, openid added first');
    assert.match(p.get('state'), /^[A-Za-z0-9_-]{22,}$/, 'state: unguessable, URL-safe');
    assert.match(p.get('nonce'), /^[A-Za-z0-9_-]{22,}$/, 'nonce: unguessable, URL-safe');
    assert.notEqual(p.get('state'), p.get('nonce'));
    assert.match(p.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(p.get('code_challenge_method'), 'S256');
    assert.match(res.headers['cache-control'] || '', /no-store/);
    assert.equal(upstream.requests.length, 0, 'nothing reached the app');

    const again = assertLoginRedirect(await ngx.get('/auto/page?a=1', { headers: NAV }), authEndpoint);
    for (const k of ['state', 'nonce', 'code_challenge']) {
      assert.notEqual(again.searchParams.get(k), p.get(k), `a fresh ${k} for every login`);
    }
  });

  await step(t, h, 'a configured scope that has openid is sent with openid once', async () => {
    const scope = assertLoginRedirect(await ngx.get('/ordered', { headers: NAV }), authEndpoint).searchParams.get('scope');
    assert.deepEqual(scope.split(' ').sort(), ['email', 'openid', 'profile'], scope);
  });

  await step(t, h, 'redirect_uri follows the Host header, or is the configured absolute URL', async () => {
    const viaLocalhost = await ngx.get('/auto', { headers: { ...NAV, host: `localhost:${port}` } });
    assert.equal(assertLoginRedirect(viaLocalhost, authEndpoint).searchParams.get('redirect_uri'),
      `http://localhost:${port}${CALLBACK}`);
    const absolute = await ngx.get('/absolute', { headers: { ...NAV, host: `localhost:${port}` } });
    assert.equal(assertLoginRedirect(absolute, authEndpoint).searchParams.get('redirect_uri'), abs);
  });

  await step(t, h, 'a Host this server does not serve never names the redirect_uri: the server\'s own name does', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, 'localhost.evil.example', '127.0.0.2']) {
      const res = await ngx.get('/auto', { headers: { ...NAV, host } });
      assert.equal(assertLoginRedirect(res, authEndpoint).searchParams.get('redirect_uri'),
        `http://localhost:${port}${CALLBACK}`, `Host: ${host}`);
    }
    // the raw Host is never copied: nginx checks neither what follows its
    // colon nor the Host of an absolute request line
    for (const [target, host] of [
      ['/auto', `localhost:@evil.example`],
      ['/auto', `localhost:${port}@evil.example`],
      [`http://localhost:${port}/auto`, 'evil.example'],
    ]) {
      const res = await rawRequest(port, target, { ...NAV, host });
      assert.equal(res.status, 302, `${target} Host: ${host}: ${res.status}`);
      const got = new URL(res.headers.location).searchParams.get('redirect_uri');
      assert.equal(new URL(got).host, `localhost:${port}`, `${target} Host: ${host}: ${got}`);
    }
    const byAddress = await ngx.get('/auto', { headers: { ...NAV, host: `127.0.0.1:${port}` } });
    assert.equal(assertLoginRedirect(byAddress, authEndpoint).searchParams.get('redirect_uri'),
      `http://127.0.0.1:${port}${CALLBACK}`, 'the address the connection came to is served');
  });

  await step(t, h, 'PKCE: off by configuration, off when only "plain" is listed, on when nothing is listed', async () => {
    const off = assertLoginRedirect(await ngx.get('/nopkce', { headers: NAV }), authEndpoint).searchParams;
    assert.equal(off.get('code_challenge'), null);
    assert.equal(off.get('code_challenge_method'), null);
    assert.equal(off.get('scope'), 'openid', 'default scope');
    const plain = assertLoginRedirect(await ngx.get('/plainonly', { headers: NAV }), authEndpoint).searchParams;
    assert.equal(plain.get('code_challenge'), null, 'no S256 at the provider: no PKCE');
    const none = assertLoginRedirect(await ngx.get('/nomethods', { headers: NAV }), authEndpoint).searchParams;
    assert.match(none.get('code_challenge') || '', /^[A-Za-z0-9_-]{43}$/, 'nothing listed: PKCE on');
    assert.equal(none.get('code_challenge_method'), 'S256');
  });

  // [description, request options, expected in auto mode]
  const kinds = [
    ['navigation (Accept text/html)', { headers: NAV }, 302],
    ['Sec-Fetch-Mode navigate with Accept */*', { headers: { accept: '*/*', 'sec-fetch-mode': 'navigate' } }, 302],
    ['no Accept header at all', { headers: {} }, 302],
    ['Accept */* alone', { headers: { accept: '*/*' } }, 302],
    ['HEAD navigation', { method: 'HEAD', headers: NAV }, 302],
    ['XHR (X-Requested-With)', { headers: { accept: 'text/html', 'x-requested-with': 'XMLHttpRequest' } }, 401],
    ['fetch() (Sec-Fetch-Mode cors)', { headers: XHR }, 401],
    ['Sec-Fetch-Mode no-cors with text/html', { headers: { ...NAV, 'sec-fetch-mode': 'no-cors' } }, 401],
    ['POST of a form', { method: 'POST', headers: { ...NAV, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' }, 401],
    ['DELETE', { method: 'DELETE', headers: NAV }, 401],
    ['API client (Accept application/json)', { headers: { accept: 'application/json' } }, 401],
  ];

  const expect401 = (res, what) => {
    assert.equal(res.status, 401, `${what}: ${res.status} ${res.headers.location || ''}`);
    assert.equal(res.headers['www-authenticate'], 'OIDC realm="fake"', `${what}: WWW-Authenticate`);
    assert.equal(res.headers['set-cookie'], undefined, `${what}: no cookie on a 401`);
  };
  const expect302 = (res, what) => {
    assert.equal(res.status, 302, `${what}: ${res.status}`);
    assertLoginRedirect(res, authEndpoint);
  };

  await step(t, h, 'auto (the default, and explicit): navigations redirect, everything else gets 401', async () => {
    for (const path of ['/auto', '/explicit-auto']) {
      for (const [what, opts, want] of kinds) {
        const res = await ngx.get(`${path}/x`, opts);
        if (want === 302) expect302(res, `${path} ${what}`);
        else expect401(res, `${path} ${what}`);
      }
    }
  });

  await step(t, h, '401: always 401', async () => {
    for (const [what, opts] of kinds) expect401(await ngx.get('/deny/x', opts), `/deny ${what}`);
  });

  await step(t, h, 'redirect: always a redirect', async () => {
    for (const [what, opts] of kinds) expect302(await ngx.get('/redirect/x', opts), `/redirect ${what}`);
  });

  await step(t, h, 'pass: the request reaches the app without identity', async () => {
    for (const [what, opts] of kinds) {
      const before = upstream.requests.length;
      const res = await ngx.get('/pass/x?q=1', opts);
      assert.equal(res.status, 200, `/pass ${what}: ${res.status}`);
      assert.equal(upstream.requests.length, before + 1, `/pass ${what}: reached the app`);
      const seen = upstream.requests.at(-1);
      assert.equal(seen.url, '/pass/x?q=1');
      assert.ok(!seen.headers['x-user-sub'], `/pass ${what}: X-User-Sub ${JSON.stringify(seen.headers['x-user-sub'])}`);
      assert.ok(!seen.headers['x-id-token']);
    }
  });

  await step(t, h, 'nothing but the pass location reached the app', async () => {
    assert.ok(upstream.requests.every((r) => r.url.startsWith('/pass/')),
      upstream.requests.map((r) => r.url).join(', '));
  });
});
