// session_tokens auto: a session keeps only the tokens the configuration
// uses, and every feature that needs one still has it. Per provider (each
// with its own store, to compare record sizes): nothing used (the record
// fits a 512-byte slot), logout_token_hint (the ID token, sent at logout),
// session_tokens all (everything), revoke_tokens (the access token when
// there is no refresh token); a refresh at the real provider with no token
// kept; a script that reads a dropped token by name (SSI echo) is told the
// fix. A variable is named for every provider of an nginx: $oidc_access_token
// is tried on a second one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  login, NAV, providerBlock, step, withSession,
} from './lib/login.mjs';
import { redisAvailable, redisStore, secretFile, startRedis } from './lib/redis.mjs';
import { pastExpiry, REFRESHING, shortTokens } from './lib/refresh.mjs';

itest('session_tokens auto: each session keeps exactly the tokens its configuration uses', async (h, t) => {
  const op = await h.fakeOp();
  const idp = await shortTokens(h);
  const upstream = await h.echo();
  const port = await h.port();
  const www = path.join(h.dir, 'www');
  fs.mkdirSync(path.join(www, 'ssi'), { recursive: true });
  fs.writeFileSync(path.join(www, 'ssi', 'page.html'), 'token:<!--# echo var="oidc_access_token" default="" -->.\n');
  fs.writeFileSync(path.join(www, 'ssi', 'claim.html'), 'email:<!--# echo var="oidc_claim_email" default="" -->.\n');
  const providers = {
    lean: { revoke_tokens: 'off' },
    hint: { revoke_tokens: 'off', logout_token_hint: 'on', logout_uri: '/hint/logout' },
    all: { revoke_tokens: 'off', session_tokens: 'all', session_claims: 'all' },
    revoking: {},
  };
  const blocks = Object.entries(providers).map(([name, d]) => `
    oidc_session_store ${name}_store size=1m;
${providerBlock(name, op.issuer, { ...d, session_store: `${name}_store`, redirect_uri: `/cb/${name}` })}`).join('\n');
  const ngx = await h.nginx(`
${blocks}
    oidc_session_store refreshing_store size=1m;
${providerBlock('refreshing', idp.issuer, { ...REFRESHING, session_store: 'refreshing_store' })}
${basicServer(port, `
        location /lean/ { auth_oidc lean; proxy_pass ${upstream.url}; proxy_set_header X-Sub $oidc_claim_sub; }
        location /hint/ { auth_oidc hint; proxy_pass ${upstream.url}; }
        location /all/ { auth_oidc all; proxy_pass ${upstream.url}; }
        location /revoking/ { auth_oidc revoking; proxy_pass ${upstream.url}; }
        location /ssi/ { auth_oidc lean; ssi on; root ${www}; }
        location /ssi-all/ { auth_oidc all; ssi on; alias ${www}/ssi/; }
        location /refreshing/ { auth_oidc refreshing; proxy_pass ${upstream.url}; }`)}`).start();
  for (const name of [...Object.keys(providers), 'refreshing']) await ngx.waitProvider(name, 'ready');

  const status = await ngx.status();
  const keeps = Object.fromEntries(Object.keys(status.providers).map((n) => [n, status.providers[n].session_tokens]));
  await step(t, h, 'oidc_status says what each provider\'s sessions keep', async () => {
    assert.deepEqual(keeps, {
      lean: ['refresh_token'],
      hint: ['id_token', 'refresh_token'],
      all: ['id_token', 'access_token', 'refresh_token'],
      revoking: ['access_token_without_refresh_token', 'refresh_token'],
      refreshing: ['access_token_without_refresh_token', 'refresh_token'],
    });
    // session_claims auto: the claims the configuration names ($oidc_claim_sub
    // here, for every provider of this nginx) and those the module reads again
    const claims = Object.fromEntries(Object.keys(status.providers).map((n) => [n, status.providers[n].session_claims]));
    assert.deepEqual(claims, {
      lean: ['acr', 'auth_time', 'nonce', 'sub'],
      hint: ['acr', 'auth_time', 'nonce', 'sub'],
      all: 'all',
      revoking: ['acr', 'auth_time', 'nonce', 'sub'],
      refreshing: ['acr', 'auth_time', 'nonce', 'sub'],
    });
  });

  const sessions = {};
  for (const name of Object.keys(providers)) {
    const ua = new UserAgent();
    sessions[name] = { ua, ...(await login(ua, ngx.url, `/${name}/x`, { callbackPath: `/cb/${name}` })) };
  }
  const bytes = async (name) => (await ngx.status()).stores[`${name}_store`].session_bytes;

  await step(t, h, 'the records: without tokens or unnamed claims a 256-byte slot; the ID token packed 1 KiB; everything about 1.1 KiB', async () => {
    assert.equal(await bytes('lean'), 256);
    assert.equal(await bytes('hint'), 1024, 'the ID token is most of a record');
    // a 1 KiB node and chunks for the rest, not a 2 KiB slot
    const all = await bytes('all');
    assert.ok(all > 1024 && all <= 1024 + 512, `everything: ${all} bytes`);
    // with revoke_tokens and no refresh token the access token (43 bytes
    // here, 33 packed) is kept (its revocation: unit tests): a 256-byte node
    // and a 64-byte chunk
    assert.equal(await bytes('revoking'), 256 + 64);
  });

  await step(t, h, 'what needs a token still has it: the app\'s access token, the logout\'s id_token_hint', async () => {
    const port2 = await h.port();
    const ngx2 = await h.nginx(`
${providerBlock('vars', op.issuer, { revoke_tokens: 'off' })}
${basicServer(port2, `
        location /vars/ { auth_oidc vars; proxy_pass ${upstream.url}; proxy_set_header X-Access $oidc_access_token; }`)}`).start();
    await ngx2.waitProvider('vars', 'ready');
    assert.deepEqual((await ngx2.status()).providers.vars.session_tokens, ['access_token', 'refresh_token']);
    const { cookie } = await login(new UserAgent(), ngx2.url, '/vars/x');
    const res = await ngx2.get('/vars/x', { headers: withSession(cookie) });
    assert.equal(res.status, 200);
    const issued = op.issued.map((i) => i.access_token);
    assert.ok(issued.includes(res.json().headers['x-access']), 'the access token reached the app');

    const ua = sessions.hint.ua;
    const out = await ua.fetch(`${ngx.url}/hint/logout`, {
      method: 'POST', headers: { ...NAV, origin: ngx.url, 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(out.status, 302);
    const end = new URL(out.headers.location);
    assert.equal(end.pathname, '/session/end');
    const hinted = end.searchParams.get('id_token_hint');
    assert.ok(op.issued.some((i) => i.id_token === hinted), 'the ID token was kept for the hint');

    const lean = await ngx.get('/lean/x', { headers: withSession(sessions.lean.cookie) });
    assert.equal(lean.json().headers['x-sub'], op.user.sub, 'claims without the ID token');
  });

  await step(t, h, 'a script that reads a token that is not kept: empty, and the log says how to keep it', async () => {
    const res = await ngx.get('/ssi/page.html', { headers: withSession(sessions.lean.cookie) });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'token:.\n');
    await ngx.waitForLog(/\[warn\].*\$oidc_access_token is empty: sessions of provider "lean" do not keep that token.*set "session_tokens all"/);
  });

  await step(t, h, 'a script that reads a claim no directive names: empty with session_claims auto (said once), there with all', async () => {
    const lean = await ngx.get('/ssi/claim.html', { headers: withSession(sessions.lean.cookie) });
    assert.equal(lean.body, 'email:.\n');
    await ngx.waitForLog(/\[warn\].*\$oidc_claim_email is empty: sessions of provider "lean" keep only the claims the configuration names; set "session_claims all"/);
    const all = await ngx.get('/ssi-all/claim.html', { headers: withSession(sessions.all.cookie) });
    assert.equal(all.body, `email:${op.user.email}.\n`);
  });

  await step(t, h, 'a refresh at the real provider with no ID or access token kept', async () => {
    const ua = new UserAgent();
    const since = Date.now();
    const { cookie } = await login(ua, ngx.url, '/refreshing/x', { op: 'real' });
    const before = await bytes('refreshing');
    assert.ok(before <= 512, `the refresh token and the named claims: ${before}`);
    await pastExpiry(since);
    await idp.settled();
    const grants = idp.grantCount('refresh_token');
    const res = await ngx.get('/refreshing/y', { headers: withSession(cookie) });
    assert.equal(res.status, 200);
    await idp.settled();
    assert.equal(idp.grantCount('refresh_token'), grants + 1, 'refreshed');
    assert.equal(await bytes('refreshing'), before, 'still no token but the refresh token');
  });

  await step(t, h, 'Redis: oidc_status tells the bytes a session takes there, without tokens and with them', async () => {
    if (!redisAvailable()) return;
    const redis = await startRedis(h);
    const secret = secretFile(h.dir, 'redis.secret');
    const port3 = await h.port();
    const ngx3 = await h.nginx(`
${redisStore('lean_r', `127.0.0.1:${redis.port}`, { secret_file: secret, prefix: 'lean:', cache: 'off' })}
${redisStore('all_r', `127.0.0.1:${redis.port}`, { secret_file: secret, prefix: 'all:', cache: 'off' })}
${redisStore('revoking_r', `127.0.0.1:${redis.port}`, { secret_file: secret, prefix: 'revoking:', cache: 'off' })}
${providerBlock('lean', op.issuer, { revoke_tokens: 'off', session_store: 'lean_r', redirect_uri: '/cb/lean' })}
${providerBlock('all', op.issuer, { revoke_tokens: 'off', session_tokens: 'all', session_claims: 'all', session_store: 'all_r', redirect_uri: '/cb/all' })}
${providerBlock('revoking', op.issuer, { session_store: 'revoking_r', redirect_uri: '/cb/revoking' })}
${basicServer(port3, `
        location /lean/ { auth_oidc lean; proxy_pass ${upstream.url}; }
        location /all/ { auth_oidc all; proxy_pass ${upstream.url}; }
        location /revoking/ { auth_oidc revoking; proxy_pass ${upstream.url}; }`)}`, { workers: 1 }).start();
    for (const name of ['lean', 'all', 'revoking']) await ngx3.waitProvider(name, 'ready');
    for (const name of ['lean', 'all', 'revoking']) await login(new UserAgent(), ngx3.url, `/${name}/x`, { callbackPath: `/cb/${name}` });
    const { stores } = await ngx3.status();
    const lean = stores.lean_r.session_bytes;
    const all = stores.all_r.session_bytes;
    const [key] = await redis.keys('lean:s:*');
    assert.equal(lean, key.length + (await redis.getBuffer(key)).length, 'the key and the sealed record');
    assert.ok(lean > 100 && lean < 300, `a session without tokens or unnamed claims: ${lean} bytes`);
    assert.ok(all > lean + 700, `with the tokens and every claim: ${all} bytes`);
    // revoke_tokens, no refresh token: the access token is kept (packed: its
    // 32 bytes and a form byte), nothing else
    const revoking = stores.revoking_r.session_bytes - ('revoking:'.length - 'lean:'.length);
    const packed = 1 + Buffer.from(op.issued.at(-1).access_token, 'base64url').length;
    assert.equal(revoking - lean, packed, 'the record holds the access token more');
  });
});
