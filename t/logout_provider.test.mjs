// Logout from the provider's side. Back-channel (OpenID Connect Back-Channel
// Logout 1.0): the real provider POSTs its logout token; a sid ends that
// session, a sub alone every session of the user, on shared memory and on
// two nginx sharing Redis; every malformed, forged, replayed or expired
// token is a 400 with an OAuth error body and the session is kept.
// Front-channel (1.0): iss+sid or the cookie ends the session, in a page
// only the provider may frame.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { makeRsaKey } from './lib/jwks.mjs';
import {
  login, logMark, protectedLocation, providerBlock, step, withSession, XHR,
} from './lib/login.mjs';
import { decodeJwt, makeLogoutToken, postLogoutToken } from './lib/logout-token.mjs';
import { defaultClient } from './lib/provider.mjs';
import { clusterStore, redisStore, secretFile, startCluster, startRedis } from './lib/redis.mjs';
import { sleep } from './lib/util.mjs';

const BACKCHANNEL = '/oidc_backchannel';
const FRONTCHANNEL = '/oidc_frontchannel';

async function providerFor(h, ports) {
  return h.provider({
    features: { backchannelLogout: { enabled: true } },
    clients: [defaultClient({
      backchannel_logout_uri: `http://127.0.0.1:${ports[0]}${BACKCHANNEL}`,
      backchannel_logout_session_required: true,
    })],
  });
}

function conf(port, idp, upstream, { store = '', provider = {} } = {}) {
  return `
${store}
${providerBlock('idp', idp.issuer, {
    backchannel_logout_uri: BACKCHANNEL, frontchannel_logout_uri: FRONTCHANNEL, ...provider,
  })}
${basicServer(port, protectedLocation('/app', 'idp', upstream.url))}`;
}

/** 200 while the session lives, 401 once it ended (a script's request). */
async function alive(ngx, cookie) {
  const res = await ngx.get('/app/api', { headers: withSession(cookie, XHR) });
  assert.ok([200, 401].includes(res.status), `unexpected ${res.status}`);
  return res.status === 200;
}

/** The sid the provider gave this login (its ID token's, upstream). */
async function sidOf(ngx, cookie) {
  const res = await ngx.get('/app/x', { headers: withSession(cookie, XHR) });
  assert.equal(res.status, 200);
  return decodeJwt(res.json().headers['x-id-token']).claims.sid;
}

for (const kind of ['shm', 'redis', 'cluster']) {
  itest(`back-channel logout from the real provider (${kind}): by sid, then every session of a sub`, async (h, t) => {
    const ports = [await h.port(), await h.port()];
    const idp = await providerFor(h, ports);
    const upstream = await h.echo();
    let store = '';
    let provider = {};
    if (kind === 'redis') {
      const redis = await startRedis(h);
      store = redisStore('r', redis.addr, { secret_file: secretFile(h.dir, 's.secret') });
      provider = { session_store: 'r' };
    } else if (kind === 'cluster') {
      // a user's sessions and their indexes on three masters
      store = clusterStore('r', await startCluster(h, 3), { secret_file: secretFile(h.dir, 's.secret') });
      provider = { session_store: 'r' };
    }
    const a = h.nginx(conf(ports[0], idp, upstream, { store, provider }), { workers: 2 });
    await a.start();
    await a.waitProvider('idp', 'ready');
    // with Redis, a second nginx shares the sessions; the provider knows A only
    let b = a;
    if (kind !== 'shm') {
      b = h.nginx(conf(ports[1], idp, upstream, { store, provider }), { workers: 2 });
      await b.start();
      await b.waitProvider('idp', 'ready');
    }

    const demo1 = (await login(new UserAgent(), a.url, '/app/', { op: 'real' })).cookie;
    const demo2 = (await login(new UserAgent(), a.url, '/app/', { op: 'real' })).cookie;
    const alice = (await login(new UserAgent(), a.url, '/app/', { op: 'real', user: 'alice' })).cookie;
    const sid1 = await sidOf(a, demo1);
    const sid2 = await sidOf(a, demo2);
    assert.ok(sid1 && sid2 && sid1 !== sid2, 'two provider sessions, two sids');

    await step(t, h, 'the provider logs out one sid: that session ends on every host, the others live', async () => {
      const mark = logMark(a);
      await idp.adminBackchannel({ sub: 'demo', sid: sid1 });
      assert.equal(await alive(b, demo1), false, 'the sid\'s session ended');
      assert.equal(await alive(a, demo1), false);
      assert.equal(await alive(b, demo2), true, 'the user\'s other session lives');
      assert.equal(await alive(b, alice), true, 'another user lives');
      await sleep(100);
      assert.match(mark.since(), /back-channel logout of sid "[^"]+": 1 sessions ended/);
    });

    await step(t, h, 'a logout token with sub only ends every session of that user', async () => {
      await idp.adminBackchannel({ sub: 'demo' });
      assert.equal(await alive(b, demo2), false);
      assert.equal(await alive(b, alice), true);
    });

    await step(t, h, 'oidc_status counts the logouts', async () => {
      const s = (await a.providerStatus('idp')).sessions;
      assert.equal(s.backchannel_logouts, 2, JSON.stringify(s));
    });
  });
}

itest('back-channel logout: every bad logout token is a 400 (JSON, no-store) and the session is kept', async (h, t) => {
  const ports = [await h.port(), await h.port()];
  const idp = await providerFor(h, ports);
  const upstream = await h.echo();
  const ngx = h.nginx(conf(ports[0], idp, upstream), { workers: 2 });
  await ngx.start();
  await ngx.waitProvider('idp', 'ready');
  const { cookie } = await login(new UserAgent(), ngx.url, '/app/', { op: 'real' });
  const sid = await sidOf(ngx, cookie);
  const key = idp.keys[0];
  const privateKey = crypto.createPrivateKey({ key: key, format: 'jwk' });
  const now = Math.floor(Date.now() / 1000);
  const good = { privateKey, kid: key.kid, iss: idp.issuer, aud: 'test-client', sub: 'demo', sid, exp: now + 120 };
  const url = `${ngx.url}${BACKCHANNEL}`;

  const refused = async (token, re, why) => {
    const res = await postLogoutToken(url, token);
    assert.equal(res.status, 400, `${why}: ${res.status} ${res.body}`);
    assert.equal(res.headers['cache-control'], 'no-store', why);
    assert.match(res.headers['content-type'], /application\/json/, why);
    const body = JSON.parse(res.body);
    assert.equal(body.error, 'invalid_request', why);
    assert.match(body.error_description, re, `${why}: ${body.error_description}`);
    assert.equal(await alive(ngx, cookie), true, `${why}: the session is kept`);
  };

  await step(t, h, 'forged, malformed and wrong tokens', async () => {
    const other = makeRsaKey({ kid: key.kid });
    await refused(makeLogoutToken({ ...good, nonce: 'n-1' }), /nonce/, 'a token with a nonce');
    await refused(makeLogoutToken({ ...good, omit: ['events'] }), /events/, 'no events claim');
    await refused(makeLogoutToken({ ...good, events: { 'http://schemas.openid.net/event/other': {} } }),
      /backchannel-logout/, 'another event');
    await refused(makeLogoutToken({ ...good, privateKey: other.privateKey }), /signature/, 'a bad signature');
    await refused(makeLogoutToken({ ...good, alg: 'none' }), /alg|none/, 'alg none');
    await refused(makeLogoutToken({ ...good, aud: 'another-client' }), /aud/, 'a wrong audience');
    await refused(makeLogoutToken({ ...good, iss: 'https://evil.example' }), /iss/, 'a wrong issuer');
    await refused(makeLogoutToken({ ...good, iat: now - 3600, exp: now - 3000 }), /expired|exp/, 'an expired token');
    await refused(makeLogoutToken({ ...good, omit: ['sub', 'sid'] }), /sub|sid/, 'neither sub nor sid');
    await refused(makeLogoutToken({ ...good, omit: ['jti'] }), /jti/, 'no jti');
    await refused(makeLogoutToken({ ...good, omit: ['exp'] }), /exp/, 'no exp (required by the final specification)');
    await refused('not-a-jwt', /./, 'not a JWT');
  });

  await step(t, h, 'no logout_token, a GET: refused the same way', async () => {
    const res = await postLogoutToken(url, '');
    assert.equal(res.status, 400);
    assert.match(JSON.parse(res.body).error_description, /no logout_token/);
    const get = await ngx.get(BACKCHANNEL);
    assert.equal(get.status, 405);
    assert.equal(await alive(ngx, cookie), true);
  });

  await step(t, h, 'a sid and a jti of any length: accepted (keys hold their hashes), another sid ends nothing', async () => {
    const res = await postLogoutToken(url, makeLogoutToken({ ...good, sid: 'x'.repeat(600), jti: 'j'.repeat(600) }));
    assert.equal(res.status, 200, res.body);
    assert.equal(await alive(ngx, cookie), true, 'another sid: the session lives');
  });

  await step(t, h, 'a valid token works once; its replay is refused', async () => {
    const second = (await login(new UserAgent(), ngx.url, '/app/', { op: 'real' })).cookie;
    const token = makeLogoutToken(good);
    const first = await postLogoutToken(url, token);
    assert.equal(first.status, 200, first.body);
    assert.equal(first.headers['cache-control'], 'no-store');
    assert.equal(await alive(ngx, cookie), false, 'the sid\'s session ended');
    assert.equal(await alive(ngx, second), true);
    const replay = await postLogoutToken(url, token);
    assert.equal(replay.status, 400);
    assert.match(JSON.parse(replay.body).error_description, /replayed/);
    const s = (await ngx.providerStatus('idp')).sessions;
    assert.ok(s.backchannel_refused.claims >= 6, JSON.stringify(s));
    assert.equal(s.backchannel_refused.replayed, 1);
    assert.equal(s.backchannel_logouts, 2, 'the long sid and this one');
  });
});

itest('front-channel logout: iss+sid or the cookie ends the session, in a page only the provider may frame', async (h, t) => {
  const ports = [await h.port(), await h.port()];
  const idp = await providerFor(h, ports);
  const upstream = await h.echo();
  const ngx = h.nginx(conf(ports[0], idp, upstream), { workers: 2 });
  await ngx.start();
  await ngx.waitProvider('idp', 'ready');

  await step(t, h, 'iss and sid (no cookie: the iframe is cross-site)', async () => {
    const { cookie } = await login(new UserAgent(), ngx.url, '/app/', { op: 'real' });
    const sid = await sidOf(ngx, cookie);
    const q = new URLSearchParams({ iss: idp.issuer, sid });
    const res = await ngx.get(`${FRONTCHANNEL}?${q}`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['content-security-policy'], `frame-ancestors ${idp.issuer}`);
    assert.equal(res.headers['x-frame-options'], undefined, 'the provider may frame it');
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(await alive(ngx, cookie), false);
  });

  await step(t, h, 'the cookie alone, from the same site (a provider on a sibling host)', async () => {
    const { cookie } = await login(new UserAgent(), ngx.url, '/app/', { op: 'real' });
    const unsure = await ngx.get(FRONTCHANNEL, { headers: { cookie: `NGX_OIDC_SESSION=${cookie}` } });
    assert.equal(unsure.status, 200);
    assert.equal(await alive(ngx, cookie), true, 'a browser that does not say where it comes from ends nothing');
    const res = await ngx.get(FRONTCHANNEL, {
      headers: { cookie: `NGX_OIDC_SESSION=${cookie}`, 'sec-fetch-site': 'same-site', 'sec-fetch-dest': 'iframe' },
    });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['set-cookie']), /NGX_OIDC_SESSION=;/);
    assert.equal(await alive(ngx, cookie), false);
  });

  await step(t, h, 'the cookie alone from another site (a link, a form): nothing ends (logout CSRF)', async () => {
    const { cookie } = await login(new UserAgent(), ngx.url, '/app/', { op: 'real' });
    const res = await ngx.get(FRONTCHANNEL, {
      headers: { cookie: `NGX_OIDC_SESSION=${cookie}`, 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'document' },
    });
    assert.equal(res.status, 200);
    assert.equal(await alive(ngx, cookie), true);
  });

  await step(t, h, 'another issuer, or a sid without iss: refused, the session kept', async () => {
    const { cookie } = await login(new UserAgent(), ngx.url, '/app/', { op: 'real' });
    const sid = await sidOf(ngx, cookie);
    const wrong = await ngx.get(`${FRONTCHANNEL}?${new URLSearchParams({ iss: 'https://evil.example', sid })}`);
    assert.equal(wrong.status, 400);
    const half = await ngx.get(`${FRONTCHANNEL}?${new URLSearchParams({ sid })}`);
    assert.equal(half.status, 400);
    assert.equal(await alive(ngx, cookie), true);
    assert.equal((await ngx.providerStatus('idp')).sessions.frontchannel_logouts, 4);
  });
});

itest('revocation at logout (RFC 7009): the refresh token is revoked at the provider, unless revoke_tokens off', async (h, t) => {
  const idp = await h.provider({ features: { revocation: { enabled: true } } });
  const upstream = await h.echo();
  const port = await h.port();
  const refreshing = { scope: 'openid offline_access email profile', extra_auth_args: '"prompt=consent"' };
  const ngx = h.nginx(`
${providerBlock('idp', idp.issuer, { ...refreshing, logout_uri: '/logout' })}
${providerBlock('keep', idp.issuer, { ...refreshing, logout_uri: '/logout-keep', revoke_tokens: 'off', redirect_uri: '/oidc_callback' })}
${basicServer(port, `${protectedLocation('/app', 'idp', upstream.url)}
        location /keep/ { auth_oidc keep; proxy_pass ${upstream.url}; }`)}`, { workers: 1 });
  await ngx.start();
  await ngx.waitProvider('idp', 'ready');
  const logout = (ua, path) => ua.fetch(`${ngx.url}${path}`, {
    method: 'POST',
    headers: { origin: ngx.url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
  });

  await step(t, h, 'logout: one revocation request, then the browser goes on to the provider', async () => {
    const ua = new UserAgent();
    await login(ua, ngx.url, '/app/', { op: 'real' });
    const before = idp.hits('/token/revocation');
    const res = await logout(ua, '/logout');
    assert.equal(res.status, 302);
    await idp.settled();
    assert.equal(idp.hits('/token/revocation') - before, 1, 'revoked at the provider, once');
    assert.doesNotMatch(ngx.errorLog(), /revocation at logout failed/, 'the provider accepted it');
    const s = (await ngx.providerStatus('idp')).sessions;
    assert.equal(s.revocations, 1);
  });

  await step(t, h, 'revoke_tokens off: no revocation request', async () => {
    const ua = new UserAgent();
    await login(ua, ngx.url, '/keep/', { op: 'real' });
    const before = idp.hits('/token/revocation');
    const res = await logout(ua, '/logout-keep');
    assert.equal(res.status, 302);
    assert.equal(idp.hits('/token/revocation'), before);
  });
});
