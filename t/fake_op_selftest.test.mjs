// Checks the fake OP (t/lib/fake-op.mjs) and the login helpers on their own
// (no auth_oidc module needed): a relying party written here walks the
// code flow with PKCE, and each ID token tweak produces what the
// login_id_token_checks tests expect.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { UserAgent } from './lib/browser.mjs';
import { decodeJwt, s256 } from './lib/fake-op.mjs';
import { itest } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import { makeRsaKey } from './lib/jwks.mjs';
import { rawRequest, setCookies } from './lib/login.mjs';
import { CLIENT_ID, CLIENT_SECRET } from './lib/provider.mjs';

const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

function verifyRs256(jwt, jwks) {
  const [h, p, s] = jwt.split('.');
  const { header } = decodeJwt(jwt);
  if (header.alg !== 'RS256') return false;
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) return false;
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  return crypto.verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'));
}

async function codeFlow(op, { pkce = true, redirectUri = 'http://127.0.0.1:1/oidc_callback' } = {}) {
  const meta = (await request(`${op.issuer}/.well-known/openid-configuration`)).json();
  const verifier = crypto.randomBytes(32).toString('base64url');
  const auth = new URL(meta.authorization_endpoint);
  auth.search = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: redirectUri, scope: 'openid email',
    state: 'st-1', nonce: 'n-1', ...(pkce ? { code_challenge: s256(verifier), code_challenge_method: 'S256' } : {}),
  }).toString();
  const ua = new UserAgent();
  const res = await ua.go(auth.href, { stopAt: (u) => u.startsWith(redirectUri) });
  assert.equal(res.status, 302);
  const cb = new URL(res.next);
  return { meta, cb, verifier, redirectUri };
}

async function exchange(meta, code, redirectUri, verifier, { auth = basic, extra = {} } = {}) {
  return request(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: redirectUri,
      ...(verifier ? { code_verifier: verifier } : {}), ...extra,
    }).toString(),
  });
}

itest('fake OP: code flow with PKCE, signed ID token, one-time codes, client auth', async (h) => {
  const op = await h.fakeOp();
  const { meta, cb, verifier, redirectUri } = await codeFlow(op);
  assert.equal(meta.issuer, op.issuer);
  assert.equal(meta.end_session_endpoint, `${op.issuer}/session/end`);
  assert.equal(cb.searchParams.get('state'), 'st-1');
  const code = cb.searchParams.get('code');
  assert.ok(code);
  assert.equal(op.authRequests[0].nonce, 'n-1');

  assert.equal((await exchange(meta, code, redirectUri, 'wrong-verifier')).status, 400, 'PKCE checked');
  // a failed attempt used the code up
  assert.equal((await exchange(meta, code, redirectUri, verifier)).json().error, 'invalid_grant');

  const again = await codeFlow(op);
  const c2 = again.cb.searchParams.get('code');
  assert.equal((await exchange(meta, c2, redirectUri, again.verifier, { auth: `Basic ${Buffer.from('test-client:nope').toString('base64')}` })).status, 401);
  const third = await codeFlow(op);
  const ok = await exchange(meta, third.cb.searchParams.get('code'), redirectUri, third.verifier);
  assert.equal(ok.status, 200, ok.body);
  const tok = ok.json();
  assert.equal(tok.token_type, 'Bearer');
  assert.ok(tok.access_token);
  const { header, payload } = decodeJwt(tok.id_token);
  assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', kid: 'fake-1' });
  assert.equal(payload.iss, op.issuer);
  assert.equal(payload.aud, CLIENT_ID);
  assert.equal(payload.nonce, 'n-1');
  assert.equal(payload.sub, 'fake-user-1');
  assert.deepEqual(payload.groups, ['staff', 'ops']);
  assert.ok(payload.exp > Date.now() / 1000 + 3000);
  const jwks = (await request(meta.jwks_uri)).json();
  assert.ok(verifyRs256(tok.id_token, jwks), 'signature verifies with the JWKS');
  assert.equal(op.issued.length, 1);
  assert.equal(op.issued[0].id_token, tok.id_token);

  // client_secret_post works too; no PKCE when none was asked for
  const np = await codeFlow(op, { pkce: false });
  const post = await exchange(meta, np.cb.searchParams.get('code'), redirectUri, null,
    { auth: null, extra: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET } });
  assert.equal(post.status, 200, post.body);
});

itest('fake OP: ID token tweaks, key rotation, canned token answers, variants', async (h) => {
  const op = await h.fakeOp({ variants: { nologout: { end_session_endpoint: undefined, code_challenge_methods_supported: ['plain'] } } });
  const tokenFor = async () => {
    const f = await codeFlow(op);
    return exchange(f.meta, f.cb.searchParams.get('code'), f.redirectUri, f.verifier);
  };
  const jwks = async () => (await request(`${op.issuer}/jwks`)).json();

  op.set({ idToken: { claims: { aud: 'other', nonce: undefined, exp: 5 } } });
  let t = decodeJwt((await tokenFor()).json().id_token);
  assert.equal(t.payload.aud, 'other');
  assert.equal('nonce' in t.payload, false);
  assert.equal(t.payload.exp, 5);

  op.set({ idToken: { mode: 'flip' } });
  let jwt = (await tokenFor()).json().id_token;
  assert.equal(verifyRs256(jwt, await jwks()), false, 'flipped signature does not verify');

  op.set({ idToken: { mode: 'none' } });
  jwt = (await tokenFor()).json().id_token;
  assert.deepEqual(decodeJwt(jwt).header, { alg: 'none' });
  assert.ok(jwt.endsWith('.'), 'empty signature');

  const stranger = makeRsaKey({ kid: 'stranger' });
  op.set({ idToken: { signWith: stranger } });
  jwt = (await tokenFor()).json().id_token;
  assert.equal(decodeJwt(jwt).header.kid, 'stranger');
  assert.equal(verifyRs256(jwt, await jwks()), false);

  op.reset();
  const next = makeRsaKey({ kid: 'fake-2' });
  op.rotate(next);
  assert.deepEqual((await jwks()).keys.map((k) => k.kid), ['fake-2']);
  jwt = (await tokenFor()).json().id_token;
  assert.equal(decodeJwt(jwt).header.kid, 'fake-2');
  assert.ok(verifyRs256(jwt, await jwks()));

  op.set({ authError: { error: 'access_denied', error_description: '<b>no</b>' } });
  const { cb } = await codeFlow(op);
  assert.equal(cb.searchParams.get('error'), 'access_denied');
  assert.equal(cb.searchParams.get('state'), 'st-1');
  assert.equal(cb.searchParams.get('code'), null);
  op.reset();

  op.set({ token: { garbage: true } });
  const g = await tokenFor();
  assert.throws(() => g.json());
  op.set({ token: { reset: true } });
  await assert.rejects(tokenFor(), /socket hang up|ECONNRESET/);
  op.set({ token: { hang: true } });
  const f = await codeFlow(op);
  await assert.rejects(request(f.meta.token_endpoint, { method: 'POST', body: 'x', timeout: 300 }), /timed out/);
  op.reset();

  const v = (await request(op.configUrl('nologout'))).json();
  assert.equal(v.issuer, op.issuer);
  assert.equal('end_session_endpoint' in v, false);
  assert.deepEqual(v.code_challenge_methods_supported, ['plain']);
  assert.equal((await request(`${op.issuer}/session/end?client_id=x`)).status, 200);
  assert.deepEqual(op.endSessionRequests, [{ client_id: 'x' }]);
});

itest('login helpers: raw requests keep odd request targets; Set-Cookie parsing', async (h) => {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url);
    res.writeHead(302, { location: '/x', 'set-cookie': ['A=1; Path=/; HttpOnly; SameSite=Lax', 'B=; Max-Age=0'] });
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  h.defer(() => new Promise((r) => server.close(r)));
  const { port } = server.address();
  const res = await rawRequest(port, '/\\evil.com/', { accept: 'text/html' });
  assert.equal(res.status, 302);
  assert.equal(res.headers.location, '/x');
  assert.deepEqual(seen, ['/\\evil.com/']);
  const cookies = setCookies(res);
  assert.deepEqual(cookies.map((c) => [c.name, c.value]), [['A', '1'], ['B', '']]);
  assert.deepEqual(cookies[0].attrs, { path: '/', httponly: true, samesite: 'Lax' });
  assert.equal(cookies[1].attrs['max-age'], '0');
  await rawRequest(port, '//evil.com/');
  assert.equal(seen[1], '//evil.com/');
});
