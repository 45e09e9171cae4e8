// Bearer tokens on APIs (RFC 6750) with the real oidc-provider: JWT access
// tokens (RFC 9068) from client credentials with a resource indicator are
// verified with the provider's keys and cached; opaque ones are
// introspected (RFC 7662) once per token, then cached; every kind of bad
// token is a 401 with the right WWW-Authenticate, a missing scope a 403;
// garbage in Authorization is refused without a log line above info.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import { login, providerBlock, step, withSession } from './lib/login.mjs';
import { makeLogoutToken } from './lib/logout-token.mjs';
import { CLIENT_ID, CLIENT_SECRET, defaultClient } from './lib/provider.mjs';
import { sleep } from './lib/util.mjs';

const API = 'https://api.test/';
const OPAQUE = 'https://opaque.test/';
const ELSEWHERE = 'https://elsewhere.test/';
const API_CLIENT = { client_id: 'api-client', client_secret: 'api-secret' };

function apiProvider(h, opts = {}) {
  return h.provider({
    clients: [
      defaultClient({ grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] }),
      {
        ...API_CLIENT,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    features: {
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    resourceServers: {
      [API]: { scope: 'read write', accessTokenFormat: 'jwt' },
      [OPAQUE]: { scope: 'read', accessTokenFormat: 'opaque' },
      [ELSEWHERE]: { scope: 'read', accessTokenFormat: 'jwt' },
    },
    ...opts,
  });
}

const basic = ({ client_id: id, client_secret: secret }) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** An access token for resource from the provider's token endpoint. */
async function clientToken(idp, resource, scope = 'read write') {
  const res = await request(`${idp.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(API_CLIENT) },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }).toString(),
  });
  assert.equal(res.status, 200, `token endpoint: ${res.body}`);
  return res.json().access_token;
}

async function revoke(idp, token) {
  const res = await request(`${idp.issuer}/token/revocation`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(API_CLIENT) },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
  });
  assert.equal(res.status, 200, `revocation: ${res.body}`);
}

/** A token signed with the provider's own key, claims as given. */
function forged(idp, claims, { alg = 'RS256', typ = 'at+jwt', key, kid = idp.kids[0] } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return makeLogoutToken({
    privateKey: key ?? crypto.createPrivateKey({ key: idp.keys[0], format: 'jwk' }),
    kid, alg, typ,
    iss: idp.issuer, aud: API, sub: 'forged', iat: now, exp: now + 300,
    omit: ['events'],
    extraClaims: { scope: 'read', ...claims },
  });
}

const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } });

/** {error, error_description, scope, realm} of a Bearer challenge. */
function challenge(res) {
  const h = [].concat(res.headers['www-authenticate'] || []).find((v) => /^Bearer /.test(v));
  assert.ok(h, `a Bearer challenge: ${JSON.stringify(res.headers['www-authenticate'])}`);
  return Object.fromEntries([...h.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

function assertRefused(res, description, status = 401, error = 'invalid_token') {
  assert.equal(res.status, status, res.body.slice(0, 200));
  const c = challenge(res);
  assert.equal(c.realm, 'idp');
  assert.equal(c.error, error);
  if (description) assert.equal(c.error_description, description);
  return c;
}

itest('bearer tokens: JWT and introspection at the real provider, refusals, scopes, cache, garbage', async (h, t) => {
  const idp = await apiProvider(h);
  const other = await apiProvider(h);
  const upstream = await h.echo();
  const port = await h.port();
  const api = (path, extra = '') => `
        location ${path} {
            auth_oidc_bearer idp;${extra}
            proxy_set_header X-Sub $oidc_claim_sub;
            proxy_set_header X-Client $oidc_claim_client_id;
            proxy_set_header X-Scope $oidc_claim_scope;
            proxy_set_header X-Id-Token $oidc_id_token;
            proxy_pass ${upstream.url};
        }`;
  const ngx = h.nginx(`
${providerBlock('idp', idp.issuer, {
    bearer_audience: `${API} ${OPAQUE}`,
    bearer_cache_valid: '3s',
    bearer_cache_invalid: '2s',
  })}
    map $oidc_claim_client_id $is_api_client { default 0; api-client 1; }
${basicServer(port, `
${api('/api/')}
${api('/write/', '\n            auth_oidc_bearer_scope write;')}
${api('/admin/', '\n            auth_oidc_bearer_scope read admin;')}
${api('/required/', '\n            auth_require $is_api_client;')}
${api('/query/', '').replace('auth_oidc_bearer idp;', 'auth_oidc_bearer idp token=$arg_access_token;')}
        location /styled/ {
            auth_oidc_bearer idp;
            error_page 401 = @unauthorized;
            proxy_pass ${upstream.url};
        }
        location @unauthorized {
            default_type application/json;
            return 401 '{"error":"unauthorized"}';
        }
        location /mixed/ {
            auth_oidc idp;
            auth_oidc_bearer idp;
            proxy_set_header X-Sub $oidc_claim_sub;
            proxy_pass ${upstream.url};
        }`)}`, { workers: 2 });
  await ngx.start();
  await ngx.waitProvider('idp', 'ready');

  const jwt = await clientToken(idp, API);

  await step(t, h, 'a JWT access token of the provider: accepted, its claims reach the app', async () => {
    const res = await ngx.get('/api/x', bearer(jwt));
    assert.equal(res.status, 200, res.body.slice(0, 300));
    const seen = res.json().headers;
    assert.equal(seen['x-client'], 'api-client');
    assert.equal(seen['x-scope'], 'read write');
    assert.equal(seen['x-id-token'], undefined, 'no ID token for a bearer token');
    assert.equal(seen.authorization, `Bearer ${jwt}`, 'the app gets the token too');
    assert.equal((await ngx.get('/write/x', bearer(jwt))).status, 200);
    assert.equal((await ngx.get('/required/x', bearer(jwt))).status, 200, 'auth_require reads its claims');
    assert.equal((await ngx.get(`/query/x?access_token=${jwt}`)).status, 200, 'token=$variable');
    assert.equal((await ngx.get('/mixed/x', bearer(jwt))).status, 200, 'a session location takes it too');
  });

  await step(t, h, 'no token: 401 with a bare challenge, never a redirect', async () => {
    const res = await ngx.get('/api/x');
    assert.equal(res.status, 401);
    assert.equal(res.headers.location, undefined);
    const c = challenge(res);
    assert.deepEqual(c, { realm: 'idp' });
    const basicAuth = await ngx.get('/api/x', { headers: { authorization: 'Basic dTpw' } });
    assert.deepEqual(challenge(basicAuth), { realm: 'idp' }, 'another scheme is no token');
  });

  await step(t, h, 'error_page restyles the 401; the challenge stays', async () => {
    for (const headers of [{}, bearer(forged(idp, { aud: 'https://not-this-api.test/' }))]) {
      const res = await ngx.get('/styled/x', headers);
      assert.equal(res.status, 401);
      assert.equal(res.body, '{"error":"unauthorized"}');
      assert.equal(challenge(res).realm, 'idp');
    }
    assert.equal((await ngx.get('/styled/x', bearer(jwt))).status, 200);
  });

  await step(t, h, 'a missing scope is 403 insufficient_scope naming the scopes', async () => {
    const res = await ngx.get('/admin/x', bearer(jwt));
    const c = assertRefused(res, undefined, 403, 'insufficient_scope');
    assert.equal(c.scope, 'read admin');
  });

  await step(t, h, 'every kind of bad token: 401 invalid_token, the reason said', async () => {
    const now = Math.floor(Date.now() / 1000);
    const [head, body, sig] = jwt.split('.');
    const flipped = `${head}.${body}.${sig.slice(0, -4)}${sig.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const pub = crypto.createPublicKey({ key: idp.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const cases = [
      [forged(idp, { exp: now - 120 }), 'the token expired'],
      [forged(idp, { nbf: now + 300 }), 'the token is not valid yet'],
      [forged(idp, { iss: other.issuer }), 'the token was issued by another provider'],
      [forged(idp, { aud: 'https://not-this-api.test/' }), 'the token is not meant for this API'],
      [await clientToken(idp, ELSEWHERE, 'read'), 'the token is not meant for this API'],
      [flipped, "the token's signature does not verify"],
      [forged(idp, {}, { alg: 'none' }), "the token's signing algorithm is not accepted"],
      [forged(idp, {}, { alg: 'HS256', key: pub }), "the token's signing algorithm is not accepted"],
      [forged(idp, {}, { typ: 'JWT' }), 'the token is not an acceptable access token'],
      [await clientToken(other, API), "the token's signature does not verify"],
    ];
    for (const [token, description] of cases) {
      assertRefused(await ngx.get('/api/x', bearer(token)), description);
    }
    assert.doesNotMatch(ngx.errorLog(), /\[(warn|error|crit|alert)\].*bearer/);
  });

  await step(t, h, 'a session still works where auth_oidc is on too', async () => {
    const { cookie } = await login(new UserAgent(), ngx.url, '/mixed/', { op: 'real', user: 'demo', password: 'demo' });
    const res = await ngx.get('/mixed/x', { headers: withSession(cookie) });
    assert.equal(res.status, 200);
    assert.equal(res.json().headers['x-sub'], 'demo');
  });

  await step(t, h, 'opaque tokens: introspected once for many requests, revoked refused after the cache', async () => {
    const opaque = await clientToken(idp, OPAQUE, 'read');
    assert.equal(opaque.split('.').length, 1, 'an opaque token');
    const before = idp.hits('/token/introspection');
    for (let i = 0; i < 6; i++) {
      const res = await ngx.get('/api/x', bearer(opaque));
      assert.equal(res.status, 200, res.body.slice(0, 200));
      assert.equal(res.json().headers['x-client'], 'api-client');
    }
    await idp.settled();
    assert.equal(idp.hits('/token/introspection') - before, 1, 'one introspection per token (both workers share the cache)');

    await revoke(idp, opaque);
    assert.equal((await ngx.get('/api/x', bearer(opaque))).status, 200, 'cached for bearer_cache_valid');
    await sleep(3200);
    assertRefused(await ngx.get('/api/x', bearer(opaque)), 'the token is not active');
    const refusedAt = idp.hits('/token/introspection');
    assertRefused(await ngx.get('/api/x', bearer(opaque)), 'the token is not active');
    assert.equal(idp.hits('/token/introspection'), refusedAt, 'the refusal is cached');
  });

  await step(t, h, 'garbage in Authorization: refused cleanly, nothing above info', async () => {
    const mark = ngx.errorLog().length;
    const garbage = [
      ['', 401], ['Bearer', 400], ['Bearer    ', 400], ['Bearer a b c', 401], ['Bearer ....', 401],
      ['Bearer a.b.c.d', 401], ['Bearer ***', 401], ['Bearer \u00ff\u00fe', 401],
      [`Bearer ${'A'.repeat(7000)}.`, 401],
    ];
    for (const [value, status] of garbage) {
      const res = await ngx.get('/api/x', { headers: { authorization: value } });
      assert.equal(res.status, status, `Authorization: ${value.slice(0, 40)}`);
    }
    for (const size of [20 * 1024, 100 * 1024]) {
      // longer than nginx's header buffers: nginx itself refuses it
      const huge = await ngx.get('/api/x', { headers: { authorization: `Bearer ${'A'.repeat(size)}` } });
      assert.equal(huge.status, 400, `${size} bytes`);
      const query = await ngx.get(`/query/x?access_token=${'A'.repeat(Math.min(size, 7000))}%20`);
      assert.equal(query.status, 401, 'not a b64token');
    }
    const two = await ngx.get('/api/x', { headers: { authorization: [`Bearer ${jwt}`, `Bearer ${jwt}`] } });
    assert.equal(two.status, 400, 'two Authorization headers');
    const logged = ngx.errorLog().slice(mark);
    assert.doesNotMatch(logged, /\[(warn|error|crit|alert|emerg)\]/, logged);
  });

  await step(t, h, 'the provider down: opaque tokens get 503 (not cached), cached ones still pass', async () => {
    const fresh = await clientToken(idp, OPAQUE, 'read');
    const known = await clientToken(idp, API);
    assert.equal((await ngx.get('/api/x', bearer(known))).status, 200);
    await idp.stop();
    const mark = ngx.errorLog().length;
    const res = await ngx.get('/api/x', bearer(fresh));
    assert.equal(res.status, 503);
    assert.equal((await ngx.get('/api/x', bearer(`${fresh}x`))).status, 503, 'another token, the same outage');
    const outage = ngx.errorLog().slice(mark);
    assert.equal(outage.match(/\[error\].*bearer token not verified: introspection failed/g)?.length, 1,
      `one error line per incident:\n${outage}`);
    assert.equal((await ngx.get('/api/x', bearer(known))).status, 200, 'a cached token needs no provider');
    await idp.start();
    // a restarted test provider forgot its tokens: a new one
    const again = await clientToken(idp, OPAQUE, 'read');
    assert.equal((await ngx.get('/api/x', bearer(again))).status, 200, 'verified once the provider is back');
    assert.match(ngx.errorLog(), /\[notice\].*provider "idp": bearer tokens are verified again/);
  });

  await step(t, h, 'oidc_status counts verifications, refusals and the provider down', async () => {
    // verified: the JWT, two opaque tokens and the known one; refused: the
    // one error_page restyled, the ten bad tokens, the revoked one, and three
    // of the garbage that are b64tokens (the cache's answers and the
    // malformed are not counted)
    const b = (await ngx.providerStatus('idp')).bearer;
    assert.deepEqual(b, { verified: 4, refused: 15, unavailable: 2 });
  });

  assert.deepEqual(ngx.problems(), []);
});

itest('bearer tokens: nginx -t refuses a provider without bearer_audience', async (h) => {
  const port = await h.port();
  const ngx = h.nginx(`
${providerBlock('idp', 'https://idp.example.test')}
${basicServer(port, `
        location /api/ { auth_oidc_bearer idp; return 200; }`)}`);
  const res = await ngx.test();
  assert.equal(res.ok, false);
  assert.match(res.stderr, /auth_oidc_bearer "idp": oidc_provider "idp" has no "bearer_audience"/);
  const unknown = h.nginx(`
${providerBlock('idp', 'https://idp.example.test', { bearer_audience: 'x' })}
${basicServer(port, `
        location /api/ { auth_oidc_bearer nope; return 200; }`)}`);
  assert.match((await unknown.test()).stderr, /unknown oidc_provider "nope" in auth_oidc_bearer/);
  // A scope in a location that takes no bearer token would check nothing.
  const idle = h.nginx(`
${providerBlock('idp', 'https://idp.example.test', { bearer_audience: 'x' })}
${basicServer(port, `
        location /page/ { auth_oidc_bearer_scope read; return 200; }`)}`);
  const idleRes = await idle.test();
  assert.equal(idleRes.ok, false);
  assert.match(idleRes.stderr,
    /"auth_oidc_bearer_scope" has no effect where "auth_oidc_bearer" is off in \S+:\d+/);
  // At server level it is for the locations below, and is accepted.
  const inherited = h.nginx(`
${providerBlock('idp', 'https://127.0.0.1', { bearer_audience: 'x' })}
${basicServer(port, `
        auth_oidc_bearer_scope read;
        location /api/ { auth_oidc_bearer idp; return 200; }
        location /page/ { return 200; }`)}`);
  const inheritedRes = await inherited.test();
  assert.equal(inheritedRes.ok, true, inheritedRes.stderr);
});
