// ID token validation at the callback, with a misbehaving fake OP that
// signs whatever each case asks for: every bad token is refused with 401,
// no session cookie and an "auth_oidc:" error line; a good one is accepted.
// Key rotation: a token signed by a key the module has not seen yet makes
// it refetch the JWKS once, and the login then succeeds.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { makeRsaKey } from './lib/jwks.mjs';
import {
  assertErrorLogged, assertLogHasNo, assertNoSession, assertSessionCookie, logMark, NAV, passFakeOp,
  protectedLocation, providerBlock, redirectPath, startLogin, step, withSession,
} from './lib/login.mjs';
import { CLIENT_SECRET } from './lib/provider.mjs';
import { waitFor } from './lib/util.mjs';

async function setup(h) {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`).start();
  const status = await ngx.waitProvider('fake', 'ready');
  assert.deepEqual(status.keys.map((k) => k.kid), ['fake-1']);
  return { op, ngx, upstream };
}

/** Login at /app with the current fake OP behaviour; returns the callback response. */
async function attempt(ngx, op, path = '/app/x') {
  const ua = new UserAgent();
  const { authUrl } = await startLogin(ua, ngx.url, path);
  const callbackUrl = await passFakeOp(ua, authUrl, ngx.url);
  const tokensBefore = op.issued.length;
  const res = await ua.fetch(callbackUrl, { headers: NAV });
  assert.equal(op.issued.length, tokensBefore + 1, 'the module fetched a token from the fake OP');
  return { ua, res, token: op.issued.at(-1) };
}

itest('ID token checks: each bad token is refused with 401, a good one accepted', async (h, t) => {
  const { op, ngx } = await setup(h);

  await step(t, h, 'control: a good token is accepted', async () => {
    const { res, token } = await attempt(ngx, op);
    assert.equal(res.status, 302, res.body.slice(0, 300));
    assert.equal(redirectPath(res, ngx.url), '/app/x');
    const id = assertSessionCookie(res);
    const seen = (await ngx.get('/app/x', { headers: withSession(id) })).json();
    assert.equal(seen.headers['x-user-sub'], 'fake-user-1');
    assert.equal(seen.headers['x-id-token'], token.id_token);
  });

  await step(t, h, 'refused: signed by a key that is not in the JWKS, even after one refetch (first: refetches are rate-limited)', async () => {
    const jwksBefore = op.hits('/jwks');
    op.set({ idToken: { signWith: makeRsaKey({ kid: 'stranger' }) } });
    const mark = logMark(ngx);
    let r;
    try {
      r = await attempt(ngx, op);
    } finally {
      op.reset();
    }
    assert.equal(r.res.status, 401, `${r.res.status} ${r.res.body.slice(0, 300)}`);
    assertNoSession(r.res);
    await assertErrorLogged(mark);
    assert.match(mark.since(), /unknown key id, refetching keys/);
    await waitFor(() => op.hits('/jwks') > jwksBefore, { timeout: 2000, what: 'a JWKS refetch' });
    assert.equal(op.hits('/jwks') - jwksBefore, 1, 'exactly one JWKS refetch');
  });

  const bad = [
    ['wrong audience', { claims: { aud: 'someone-else' } }],
    ['audience list without the client', { claims: { aud: ['someone-else', 'another'] } }],
    ['wrong issuer', { claims: { iss: 'http://127.0.0.1:1' } }],
    ['issuer with a trailing slash', { claims: (p) => ({ ...p, iss: `${p.iss}/` }) }],
    ['expired (exp = now - 3600)', { claims: (p) => ({ ...p, iat: p.iat - 7200, auth_time: p.iat - 7200, exp: p.iat - 3600 }) }],
    ['no exp', { claims: { exp: undefined } }],
    ['bad signature (one bit flipped)', { mode: 'flip' }],
    ['nonce mismatch', { claims: { nonce: 'not-the-nonce-nginx-sent' } }],
    ['nonce missing', { claims: { nonce: undefined } }],
    ['alg none, empty signature', { mode: 'none' }],
    ['no sub', { claims: { sub: undefined } }],
  ];
  for (const [name, spec] of bad) {
    await step(t, h, `refused: ${name}`, async () => {
      op.set({ idToken: spec });
      const mark = logMark(ngx);
      let r;
      try {
        r = await attempt(ngx, op);
      } finally {
        op.reset();
      }
      assert.equal(r.res.status, 401, `${name}: ${r.res.status} ${r.res.body.slice(0, 300)}`);
      assertNoSession(r.res);
      await assertErrorLogged(mark);
      const again = await r.ua.fetch(`${ngx.url}/app/x`, { headers: NAV });
      assert.equal(again.status, 302, 'still not logged in');
    });
  }

  await step(t, h, 'no secret or token in error.log', async () => {
    assertLogHasNo(ngx, [CLIENT_SECRET, ...op.issued.flatMap((i) => [i.id_token, i.access_token])]);
  });
});

itest('key rotation: a token signed by a new key triggers one JWKS refetch and succeeds', async (h) => {
  const { op, ngx } = await setup(h);
  const jwksBefore = op.hits('/jwks');
  op.rotate(makeRsaKey({ kid: 'fake-2' })); // the JWKS now has only the new key
  const mark = logMark(ngx);
  const { res, token } = await attempt(ngx, op, '/app/rotated');
  assert.equal(res.status, 302, `login after rotation: ${res.status} ${res.body.slice(0, 300)}`);
  assert.equal(redirectPath(res, ngx.url), '/app/rotated');
  const id = assertSessionCookie(res);
  assert.match(mark.since(), /unknown key id, refetching keys/);
  assert.equal(op.hits('/jwks') - jwksBefore, 1, 'one JWKS refetch');
  const seen = (await ngx.get('/app/rotated', { headers: withSession(id) })).json();
  assert.equal(seen.headers['x-id-token'], token.id_token);
  const status = await ngx.providerStatus('fake');
  assert.deepEqual(status.keys.map((k) => k.kid), ['fake-2'], 'the cache has the new key');

  // the next login with the new key needs no refetch
  const second = await attempt(ngx, op, '/app/again');
  assert.equal(second.res.status, 302);
  assertSessionCookie(second.res);
  assert.equal(op.hits('/jwks') - jwksBefore, 1, 'no further refetch');
});
