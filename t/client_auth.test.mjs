// Client authentication without a static secret in nginx.conf:
// private_key_jwt (RFC 7523; OpenID Connect Core 1.0, section 9) with a key
// from client_key_file, against the real provider; client_secret_jwt; and
// client_secret_file, re-read when it changes (a rotated secret), without a
// reload.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  COOKIE, login, NAV, protectedLocation, providerBlock, setCookies, signInAtProvider, startLogin, step,
} from './lib/login.mjs';
import { defaultClient, DEMO_USERS } from './lib/provider.mjs';

/** A fresh key pair: its PKCS#8 PEM and its public JWK. */
function keyPair(type, options) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync(type, options);
  return {
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    jwk: publicKey.export({ format: 'jwk' }),
  };
}

itest('private_key_jwt against the real provider: logins with a key, no secret anywhere', async (h, t) => {
  const ec = keyPair('ec', { namedCurve: 'P-256' });
  const rsa = keyPair('rsa', { modulusLength: 2048 });
  const other = keyPair('ec', { namedCurve: 'P-256' });
  const { client_secret: _unused, ...client } = defaultClient({
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...ec.jwk, kid: 'ec-1' }, { ...rsa.jwk, kid: 'rsa-1' }] },
  });
  const idp = await h.provider({ clients: [client] });
  const upstream = await h.echo();
  const files = Object.fromEntries([['ec', ec], ['rsa', rsa], ['other', other]].map(([name, k]) => {
    const file = path.join(h.dir, `${name}.pem`);
    fs.writeFileSync(file, k.pem, { mode: 0o600 });
    return [name, file];
  }));
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('ec', idp.issuer, { client_secret: undefined, client_key_file: files.ec, client_key_id: 'ec-1' })}
${providerBlock('rsa', idp.issuer, { client_secret: undefined, client_key_file: files.rsa, token_endpoint_auth: 'private_key_jwt' })}
${providerBlock('other', idp.issuer, { client_secret: undefined, client_key_file: files.other })}
${basicServer(port, [
    protectedLocation('/ec/', 'ec', upstream.url),
    protectedLocation('/rsa/', 'rsa', upstream.url),
    protectedLocation('/other/', 'other', upstream.url),
  ].join('\n'))}`).start();
  for (const name of ['ec', 'rsa', 'other']) await ngx.waitProvider(name, 'ready');
  const { password } = DEMO_USERS.demo;

  await step(t, h, 'an ES256 key, and an RS256 one: the provider takes the assertion, the login completes', async () => {
    for (const name of ['ec', 'rsa']) {
      const ua = new UserAgent();
      await login(ua, ngx.url, `/${name}/page`, { op: 'real', user: 'demo', password });
      const res = await ua.fetch(`${ngx.url}/${name}/page`, { headers: NAV });
      assert.equal(res.status, 200, `${name}: ${res.body.slice(0, 300)}`);
    }
  });

  await step(t, h, 'a key the provider does not know: the token request is refused, no session', async () => {
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, '/other/page', { headers: NAV });
    const callbackUrl = await signInAtProvider(ua, authUrl, ngx.url, { user: 'demo', password });
    const res = await ua.fetch(callbackUrl, { headers: NAV });
    assert.equal(res.status, 401);
    assert.equal(setCookies(res).some((c) => c.name === COOKIE && c.value), false);
    await ngx.waitForLog(/provider "other".*invalid_client/);
  });
});

itest('client_secret_jwt: the secret signs an assertion, never sent itself', async (h, t) => {
  const secret = crypto.randomBytes(32).toString('base64url');
  const idp = await h.provider({
    clients: [defaultClient({ client_secret: secret, token_endpoint_auth_method: 'client_secret_jwt' })],
  });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('idp', idp.issuer, { client_secret: secret, token_endpoint_auth: 'client_secret_jwt' })}
${basicServer(port, protectedLocation('/app/', 'idp', upstream.url))}`).start();
  await ngx.waitProvider('idp', 'ready');
  await step(t, h, 'the login completes', async () => {
    const ua = new UserAgent();
    await login(ua, ngx.url, '/app/x', { op: 'real', user: 'demo', password: DEMO_USERS.demo.password });
    assert.equal((await ua.fetch(`${ngx.url}/app/x`, { headers: NAV })).status, 200);
  });
});

itest('client_secret_file: a rotated secret is picked up without a reload', async (h, t) => {
  const op = await h.fakeOp({ clientSecret: 'secret-one' });
  const upstream = await h.echo();
  const port = await h.port();
  const file = path.join(h.dir, 'client_secret');
  // readable by the workers' user too (nginx -u): they read it again
  fs.writeFileSync(file, 'secret-one\n', { mode: 0o644 });
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, { client_secret: undefined, client_secret_file: file })}
${basicServer(port, protectedLocation('/app/', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');
  const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

  /** A login's callback status, and whether the token endpoint took the secret. */
  async function tryLogin() {
    const ua = new UserAgent();
    const start = await ua.fetch(`${ngx.url}/app/x`, { headers: NAV });
    const cb = await ua.go(start.headers.location, { headers: NAV, stopAt: (u) => u.includes('/oidc_callback') });
    const res = await ua.fetch(cb.next, { headers: NAV });
    return { status: res.status, secret: op.tokenRequests.at(-1).client.secret };
  }

  await step(t, h, 'the file\'s secret (its newline dropped) authenticates the client', async () => {
    const r = await tryLogin();
    assert.equal(r.status, 302);
    assert.equal(r.secret, 'secret-one');
  });

  await step(t, h, 'the provider rotates the secret, then the file changes: the next login uses it, no reload', async () => {
    op.clientSecret = 'secret-two';
    assert.notEqual((await tryLogin()).status, 302, 'the old secret is refused');
    fs.writeFileSync(file, 'secret-two');
    await sleep(1100); // read again at most once a second
    const r = await tryLogin();
    assert.equal(r.status, 302);
    assert.equal(r.secret, 'secret-two');
    await ngx.waitForLog(/\[notice\].*provider "fake": client_secret_file ".*client_secret" changed: the new secret is used/);
    assert.doesNotMatch(ngx.errorLog(), /secret-two/, 'the secret is never logged');
  });

  await step(t, h, 'the file gone or emptied: the secret read before stays, said once', async () => {
    fs.unlinkSync(file);
    await sleep(1100);
    assert.equal((await tryLogin()).status, 302);
    assert.equal((await tryLogin()).status, 302);
    await ngx.waitForLog(/\[error\].*stat\(\) ".*client_secret" failed: the credentials read before stay in use \(2: No such file or directory\)/);
    assert.equal(ngx.errorLog().match(/the credentials read before stay in use/g).length, 1);
    fs.writeFileSync(file, '\n');
    await sleep(1100);
    assert.equal((await tryLogin()).secret, 'secret-two');
    await ngx.waitForLog(/\[error\].*".*client_secret" is empty/);
  });
});

itest('nginx -t checks the client\'s credentials', async (h, t) => {
  const file = (name, text) => { const f = path.join(h.dir, name); fs.writeFileSync(f, text); return f; };
  const refused = async (directives, message) => {
    const ngx = h.nginx(`
${providerBlock('idp', 'http://127.0.0.1:9/op', directives)}
${basicServer(await h.port(), '        location / { auth_oidc idp; }')}`);
    const res = await ngx.test();
    assert.equal(res.ok, false, JSON.stringify(directives));
    assert.match(res.stderr, message);
  };
  await step(t, h, 'a secret twice', () => refused(
    { client_secret_file: file('s', 'x') }, /"client_secret" and "client_secret_file" are both set: keep one/,
  ));
  await step(t, h, 'a secret file that is not there', () => refused(
    { client_secret: undefined, client_secret_file: '/nonexistent/secret' }, /open\(\) "\/nonexistent\/secret" failed/,
  ));
  await step(t, h, 'a key file that holds no key', () => refused(
    { client_key_file: file('k', 'not a key') }, /client_key_file ".*k": invalid argument: not an unencrypted PEM private key/,
  ));
  await step(t, h, 'a key too weak', () => refused(
    { client_key_file: file('weak', keyPair('rsa', { modulusLength: 1024 }).pem) }, /an RSA key of fewer than 2048 bits/,
  ));
  await step(t, h, 'a key that the method chosen would never use', () => refused(
    { token_endpoint_auth: 'client_secret_basic', client_key_file: file('ec', keyPair('ec', { namedCurve: 'P-256' }).pem) },
    /"client_key_file" is used by token_endpoint_auth private_key_jwt \(or auto\) only/,
  ));
  await step(t, h, 'private_key_jwt without a key', () => refused(
    { token_endpoint_auth: 'private_key_jwt' }, /private_key_jwt needs "client_key_file"/,
  ));
  await step(t, h, 'client_secret_jwt without a secret', () => refused(
    { client_secret: undefined, token_endpoint_auth: 'client_secret_jwt' }, /this token_endpoint_auth needs "client_secret" or "client_secret_file"/,
  ));
  await step(t, h, 'a method that does not exist', () => refused(
    { token_endpoint_auth: 'tls_client_auth' }, /invalid value "tls_client_auth"/,
  ));
});
