// The Redis store over TLS (redis=tls://HOST:PORT), with nginx's own TLS on
// the connection nginx owns: a real redis-server with a tls-port and a test
// CA. Sessions work; a wrong CA, a wrong name and a missing client
// certificate (Redis with tls-auth-clients yes) each fail closed, 503 and
// one clear error line, never plaintext; nginx -t names a bad parameter.
// (The harness keeps Redis's plain port too, for its own PING and for the
// assertions; nginx is given only the TLS port.)
import assert from 'node:assert/strict';
import path from 'node:path';
import { UserAgent } from './lib/browser.mjs';
import { makeCA, makeServerCert } from './lib/ca.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  login, NAV, protectedLocation, providerBlock, step, withSession,
} from './lib/login.mjs';
import { freePort } from './lib/ports.mjs';
import { keyRe, redisStore, secretFile, startRedis } from './lib/redis.mjs';

function tlsRedis(h, pki, { authClients = 'no' } = {}) {
  return freePort().then((tlsPort) => startRedis(h, {
    args: [
      '--tls-port', String(tlsPort), '--tls-cert-file', pki.server.cert, '--tls-key-file', pki.server.key,
      '--tls-ca-cert-file', pki.ca.cert, '--tls-auth-clients', authClients,
    ],
  }).then((redis) => Object.assign(redis, { tlsAddr: `127.0.0.1:${tlsPort}` })));
}

function pkiIn(dir) {
  const ca = makeCA(dir, 'ca');
  const other = makeCA(dir, 'other');
  return {
    ca,
    other,
    server: makeServerCert(ca, 'redis', { eku: 'serverAuth,clientAuth' }),
    client: makeServerCert(ca, 'client', { dns: ['nginx-client'], ip: [], eku: 'clientAuth' }),
  };
}

function conf(op, upstream, port, params) {
  return `
${redisStore('r', params.addr, { ...params, addr: undefined })}
${providerBlock('idp', op.issuer, { session_store: 'r' })}
${basicServer(port, protectedLocation('/app', 'idp', upstream.url))}`;
}

itest('Redis over TLS: sessions work; wrong CA, wrong name, no client certificate fail closed', async (h, t) => {
  const pki = pkiIn(h.dir);
  const redis = await tlsRedis(h, pki);
  const strict = await tlsRedis(h, pki, { authClients: 'yes' });
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const secret = secretFile(h.dir, 'secret');

  async function nginxWith(params) {
    const port = await h.port();
    const ngx = await h.nginx(conf(op, upstream, port, { secret_file: secret, ...params })).start();
    await ngx.waitProvider('idp', 'ready');
    return ngx;
  }

  await step(t, h, 'verified TLS: a login, the session found again, records in Redis', async () => {
    const ngx = await nginxWith({ addr: `tls://${redis.tlsAddr}`, ssl_trusted_certificate: pki.ca.cert });
    const { cookie } = await login(new UserAgent(), ngx.url, '/app');
    const res = await ngx.get('/app/x', { headers: withSession(cookie) });
    assert.equal(res.status, 200);
    assert.equal((await ngx.status()).stores?.r?.connected, true);
    const keys = (await redis.run(['KEYS', '*'])).stdout.trim().split('\n');
    assert.ok(keys.some((k) => keyRe('oidc:', 's').test(k)), `a session record: ${keys}`);
    await ngx.stop();
  });

  const failures = [
    ['a CA that did not sign it', { ssl_trusted_certificate: pki.other.cert },
      /SSL certificate verify error for Redis .*(unable to get local issuer certificate|self-signed certificate in certificate chain)/],
    ['another name', { ssl_trusted_certificate: pki.ca.cert, ssl_name: 'redis.example' },
      /SSL certificate of Redis .* does not match "redis\.example"/],
  ];
  for (const [what, params, re] of failures) {
    await step(t, h, `${what}: 503, one error line`, async () => {
      const ngx = await nginxWith({ addr: `tls://${redis.tlsAddr}`, ...params });
      for (let i = 0; i < 3; i += 1) {
        const res = await ngx.get(`/app/${i}`, { headers: NAV });
        assert.equal(res.status, 503, `${what}: ${res.status}`);
      }
      assert.equal((await ngx.get('/plain')).status, 200, 'nothing blocks');
      // said when the worker first connects, once for the whole incident
      await ngx.waitForLog(new RegExp(`\\[error\\].*auth_oidc: oidc_session_store "r": ${re.source}`));
      assert.equal((ngx.errorLog().match(/\[error\].*oidc_session_store "r"/g) || []).length, 1,
        'said once per incident');
      assert.doesNotMatch(ngx.errorLog(), /\[(crit|alert)\]/);
      await ngx.stop();
    });
  }

  await step(t, h, 'Redis asks for a client certificate: none is 503; the right one works', async () => {
    const none = await nginxWith({ addr: `tls://${strict.tlsAddr}`, ssl_trusted_certificate: pki.ca.cert });
    assert.equal((await none.get('/app/x', { headers: NAV })).status, 503);
    await none.waitForLog(/\[error\].*auth_oidc: oidc_session_store "r": (SSL handshake with Redis|connection to Redis) /);
    // TLS 1.3: the refusal is an alert after the handshake, which nginx's
    // own TLS layer logs at crit (as for proxy_ssl); nothing else is
    const alert = /SSL_read\(\) failed .*certificate required/;
    h.allowLog(alert);
    assert.deepEqual(none.problems({ allow: [alert] }), []);
    await none.stop();

    const mtls = await nginxWith({
      addr: `tls://${strict.tlsAddr}`, ssl_trusted_certificate: pki.ca.cert,
      ssl_certificate: pki.client.cert, ssl_certificate_key: pki.client.key,
    });
    const { cookie } = await login(new UserAgent(), mtls.url, '/app');
    assert.equal((await mtls.get('/app/x', { headers: withSession(cookie) })).status, 200);
    await mtls.stop();
  });
});

itest('Redis over TLS: nginx -t names a bad TLS parameter', async (h) => {
  const pki = pkiIn(h.dir);
  const op = { issuer: 'https://idp.example.test' };
  const upstream = { url: 'http://127.0.0.1:9' };
  const port = await h.port();
  const secret = secretFile(h.dir, 'secret');
  const cases = [
    [{ addr: '127.0.0.1:6379', ssl_trusted_certificate: pki.ca.cert }, /"ssl_\*=" parameters need "redis=tls:\/\/\.\.\."/],
    [{ addr: 'tls://127.0.0.1:6379', ssl_certificate: pki.client.cert }, /"ssl_certificate=" and "ssl_certificate_key=" go together/],
    [{ addr: 'tls://127.0.0.1:6379', ssl_trusted_certificate: path.join(h.dir, 'missing.pem') }, /cannot load ssl_trusted_certificate/],
    [{ addr: 'tls://127.0.0.1:6379', ssl_certificate: pki.ca.key, ssl_certificate_key: pki.ca.key }, /cannot load ssl_certificate|PEM_read_bio_X509_AUX|cannot load certificate/],
    [{ addr: 'tls://unix:/tmp/redis.sock' }, /TLS over a unix socket is not supported/],
  ];
  for (const [params, re] of cases) {
    const res = await h.nginx(conf(op, upstream, port, { secret_file: secret, ...params })).test();
    assert.equal(res.ok, false, JSON.stringify(params));
    assert.match(res.stderr, re);
  }
});
