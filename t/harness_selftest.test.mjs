// Checks the test harness itself (no auth_oidc module needed): the provider
// child over http/https, the fault servers, and nginx without the module.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { GARBAGE } from './lib/faults.mjs';
import { itest } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import { discoveryDoc } from './lib/jwks.mjs';
import { CLIENT_ID, CLIENT_SECRET } from './lib/provider.mjs';

itest('provider: discovery and JWKS over http, stop and restart on the same port', async (h) => {
  const idp = await h.provider();
  assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
  const disco = await request(idp.discoveryUrl);
  assert.equal(disco.status, 200);
  const meta = disco.json();
  assert.equal(meta.issuer, idp.issuer);
  assert.equal(meta.jwks_uri, `${idp.issuer}/jwks`);
  const jwks = (await request(meta.jwks_uri)).json();
  assert.deepEqual(jwks.keys.map((k) => k.kid), idp.kids);
  assert.equal(jwks.keys[0].kty, 'RSA');
  assert.equal(jwks.keys[0].alg, 'RS256');
  assert.equal(jwks.keys[0].d, undefined, 'private part must not be published');
  assert.equal(idp.hits('/.well-known/openid-configuration'), 1);

  await idp.stop();
  await assert.rejects(request(idp.discoveryUrl, { timeout: 1000 }), /ECONNREFUSED/);
  await idp.start();
  const again = (await request(idp.discoveryUrl)).json();
  assert.equal(again.issuer, idp.issuer);
  const jwks2 = (await request(again.jwks_uri)).json();
  assert.deepEqual(jwks2.keys.map((k) => k.kid), idp.kids, 'keys survive a restart');
});

itest('provider: https with the test CA, refused with another CA', async (h) => {
  const { ca, server, otherCa } = h.pki();
  const idp = await h.provider({ https: { key: server.key, cert: server.cert } });
  assert.match(idp.issuer, /^https:\/\/localhost:\d+$/);
  const disco = await request(idp.discoveryUrl, { ca: ca.pem });
  assert.equal(disco.status, 200);
  assert.equal(disco.json().issuer, idp.issuer);
  const viaIp = await request(`https://127.0.0.1:${idp.port}/jwks`, { ca: ca.pem });
  assert.equal(viaIp.status, 200, 'certificate also valid for IP 127.0.0.1');
  await assert.rejects(request(idp.discoveryUrl, { ca: otherCa.pem }), /certificate|self.signed|verify/i);
  await assert.rejects(request(idp.discoveryUrl), /certificate|self.signed|verify/i);
});

itest('provider: demo/demo logs in through the form, code exchanged for tokens', async (h) => {
  const idp = await h.provider();
  const meta = (await request(idp.discoveryUrl)).json();
  const app = await h.echo(); // plays the relying party's callback
  const redirectUri = `${app.url}/oidc_callback`; // any loopback port is accepted
  const auth = new URL(meta.authorization_endpoint);
  auth.search = new URLSearchParams({
    client_id: CLIENT_ID, response_type: 'code', scope: 'openid email profile',
    redirect_uri: redirectUri, state: 'st4te', nonce: 'n0nce',
  }).toString();
  const ua = new UserAgent();
  const form = await ua.go(auth.href);
  assert.equal(form.status, 200, form.body);
  assert.match(form.body, /<form id="login-form"/);

  const wrong = await ua.submitForm(form, { login: 'demo', password: 'nope' });
  assert.equal(wrong.status, 200);
  assert.match(wrong.body, /Invalid username or password/);

  const back = await ua.submitForm(wrong, { login: 'demo', password: 'demo' });
  assert.equal(back.status, 200);
  const cb = new URL(back.json().url, app.url);
  assert.equal(cb.pathname, '/oidc_callback', `chain: ${back.chain.map((r) => `${r.status} ${r.url}`).join(' -> ')}`);
  assert.equal(cb.searchParams.get('state'), 'st4te');
  const code = cb.searchParams.get('code');
  assert.ok(code);

  const tok = await request(meta.token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }).toString(),
  });
  assert.equal(tok.status, 200, tok.body);
  const { id_token: idToken, access_token: accessToken } = tok.json();
  const [header, payload] = idToken.split('.').slice(0, 2)
    .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
  assert.equal(header.kid, idp.kids[0]);
  assert.equal(payload.iss, idp.issuer);
  assert.equal(payload.sub, 'demo');
  assert.equal(payload.aud, CLIENT_ID);
  assert.equal(payload.nonce, 'n0nce');
  const me = await request(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}` } });
  assert.equal(me.status, 200, me.body);
  assert.deepEqual(
    (({ sub, email, name }) => ({ sub, email, name }))(me.json()),
    { sub: 'demo', email: 'demo@example.test', name: 'Demo User' },
  );
});

itest('faults: hang server accepts and never answers', async (h) => {
  const hang = await h.hang();
  const t0 = Date.now();
  await assert.rejects(request(`${hang.url}/x`, { timeout: 300 }), /timed out/);
  assert.ok(Date.now() - t0 >= 280);
  const conn = await hang.waitConnection(1);
  assert.ok(conn.bytes > 0, 'request bytes were read');
});

itest('faults: static server routes, huge, chunked, garbage, 404', async (h) => {
  const srv = await h.static((base) => ({
    '/.well-known/openid-configuration': { json: discoveryDoc(base) },
    '/big': { size: 10 * 1024 * 1024 },
    '/bigchunked': { size: 3 * 1024 * 1024, chunked: true },
    '/chunked': { json: discoveryDoc(base), chunked: true },
    '/garbage': { garbage: true },
    '/teapot': { status: 418, body: 'short and stout' },
  }));
  const d = await request(`${srv.url}/.well-known/openid-configuration`);
  assert.equal(d.status, 200);
  assert.equal(d.json().issuer, srv.url);
  assert.equal(d.headers['content-length'], String(d.raw.length));

  const big = await request(`${srv.url}/big`, { timeout: 10000 });
  assert.equal(big.headers['content-length'], String(10 * 1024 * 1024));
  assert.equal(big.raw.length, 10 * 1024 * 1024);
  const bigc = await request(`${srv.url}/bigchunked`, { timeout: 10000 });
  assert.equal(bigc.headers['transfer-encoding'], 'chunked');
  assert.equal(bigc.raw.length, 3 * 1024 * 1024);

  const c = await request(`${srv.url}/chunked`);
  assert.equal(c.headers['transfer-encoding'], 'chunked');
  assert.equal(c.headers['content-length'], undefined);
  assert.equal(c.json().jwks_uri, `${srv.url}/jwks`);

  const g = await request(`${srv.url}/garbage`);
  assert.deepEqual(g.raw, GARBAGE);
  assert.throws(() => g.json());

  assert.equal((await request(`${srv.url}/teapot`)).status, 418);
  assert.equal((await request(`${srv.url}/nothing`)).status, 404);
  assert.equal(srv.hits('/garbage'), 1);
});

itest('nginx without the module: start, proxy, reload, graceful stop, -t failure', async (h) => {
  const echo = await h.echo();
  const port = await h.port();
  const body = (extra = '') => `
    server {
        listen 127.0.0.1:${port};
        location /plain { return 200 "plain\\n"; }
        location /app { proxy_pass ${echo.url}; proxy_set_header X-User-Sub demo; }
        ${extra}
    }`;
  const ngx = h.nginx(body(), { withModule: false, workers: 2 });
  assert.equal((await ngx.test()).code, 0);
  await ngx.start();
  assert.equal(ngx.workerPids().length, 2);
  const plain = await ngx.get('/plain');
  assert.equal(plain.status, 200);
  assert.equal(plain.body, 'plain\n');
  assert.ok(plain.ms < 1000);

  const app = await ngx.get('/app/x?y=1');
  assert.equal(app.status, 200);
  assert.equal(app.json().url, '/app/x?y=1');
  assert.equal(app.json().headers['x-user-sub'], 'demo');

  const before = ngx.workerPids();
  await ngx.reload(body('location /new { return 204; }'));
  assert.equal((await ngx.get('/new')).status, 204);
  assert.ok(ngx.workerPids().some((p) => !before.includes(p)), 'new workers after reload');

  await assert.rejects(ngx.reload(body('location /broken { bogus_directive; }')), /unknown directive "bogus_directive"/);
  h.allowLog(/unknown directive "bogus_directive"/);
  assert.equal((await ngx.get('/plain')).status, 200, 'still serving the old config');

  const info = await ngx.stop();
  assert.equal(info.graceful, true);
  assert.ok(ngx.errorLog().length > 0);

  const bad = h.nginx(`server { listen 127.0.0.1:${port}; location /x { bogus_directive; } }`, { withModule: false });
  const t = await bad.test();
  assert.notEqual(t.code, 0);
  assert.match(t.stderr, /unknown directive "bogus_directive"/);
});

itest('nginx: start failure reports the error log', async (h) => {
  const port = await h.port();
  const ngx = h.nginx(`server { listen 127.0.0.1:${port}; location / { no_such_thing; } }`, { withModule: false });
  h.allowLog(/unknown directive "no_such_thing"/);
  await assert.rejects(ngx.start(), /exited during start[\s\S]*unknown directive "no_such_thing"/);
});

itest('provider: ID token carries scope claims; abort gives access_denied; RP-initiated logout', async (h) => {
  const idp = await h.provider();
  const meta = (await request(idp.discoveryUrl)).json();
  const app = await h.echo();
  const redirectUri = `${app.url}/oidc_callback`;
  const authUrl = (state) => {
    const u = new URL(meta.authorization_endpoint);
    u.search = new URLSearchParams({
      client_id: CLIENT_ID, response_type: 'code', scope: 'openid email profile',
      redirect_uri: redirectUri, state, nonce: 'n',
    }).toString();
    return u.href;
  };
  const stopAt = (u) => u.startsWith(redirectUri);

  // abort at the login form: error=access_denied back at the callback
  const ua0 = new UserAgent();
  const form0 = await ua0.go(authUrl('s0'));
  const abort = /<a id="abort" href="([^"]+)"/.exec(form0.body)[1];
  const denied = await ua0.go(new URL(abort, form0.url).href, { stopAt });
  const cb0 = new URL(denied.next);
  assert.equal(cb0.searchParams.get('error'), 'access_denied');
  assert.equal(cb0.searchParams.get('state'), 's0');

  const ua = new UserAgent();
  const form = await ua.go(authUrl('s1'));
  const back = await ua.submitForm(form, { login: 'alice', password: 'alice' }, { stopAt });
  const code = new URL(back.next).searchParams.get('code');
  const tok = (await request(meta.token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }).toString(),
  })).json();
  const claims = JSON.parse(Buffer.from(tok.id_token.split('.')[1], 'base64url').toString());
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.email, 'alice@example.test');
  assert.equal(claims.name, 'Alice Liddell');

  // logout at end_session_endpoint with client_id + a loopback post-logout URI on any port
  const end = new URL(meta.end_session_endpoint);
  const postLogout = `${app.url}/`;
  end.search = new URLSearchParams({ client_id: CLIENT_ID, post_logout_redirect_uri: postLogout }).toString();
  const confirm = await ua.go(end.href);
  assert.equal(confirm.status, 200, confirm.body.slice(0, 300));
  assert.match(confirm.body, /op\.logoutForm/);
  const done = await ua.submitForm(confirm, { logout: 'yes' }, { stopAt: (u) => u.startsWith(postLogout) });
  assert.equal(done.next, postLogout, done.chain.map((r) => `${r.status} ${r.url}`).join(' -> '));
  // the provider session is gone: the login form is shown again
  const again = await ua.go(authUrl('s2'), { stopAt });
  assert.equal(again.next, undefined, 'no silent re-login after logout');
  assert.match(again.body, /id="login-form"/);
});
