// Behind a proxy that ends TLS (simulated by an nginx server block with a
// test certificate, proxying to the protected server over plain http): the
// module believes X-Forwarded-Proto / X-Forwarded-Host, or RFC 7239
// Forwarded, only from the addresses auth_oidc_forwarded_from lists, also
// when set_real_ip_from replaced the client's address. Then the login round
// trip works over https, the redirect_uri is https://, the cookies are
// Secure; from anyone else the same headers change nothing.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { makeCA, makeServerCert } from './lib/ca.mjs';
import { itest } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import { login, NAV, providerBlock, setCookies, step, withSession } from './lib/login.mjs';

/** The redirect_uri of a login redirect, and whether its cookie is Secure. */
function loginRedirect(res) {
  assert.equal(res.status, 302, `${res.status} ${res.body.slice(0, 200)}`);
  const redirectUri = new URL(res.headers.location).searchParams.get('redirect_uri');
  const cookies = setCookies(res);
  assert.ok(cookies.length, 'the login sets its cookie');
  return { redirectUri, secure: cookies.every((c) => /;\s*Secure/i.test(c.raw)) };
}

itest('behind a TLS-terminating proxy: https redirect_uri, Secure cookies, the round trip; untrusted addresses change nothing', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const ca = makeCA(h.dir, 'ca');
  const cert = makeServerCert(ca, 'proxy');
  const [app, tls, untrusted, realip] = [await h.port(), await h.port(), await h.port(), await h.port()];
  const protectedApp = `
        location /app { auth_oidc p; proxy_set_header X-User $oidc_claim_sub; proxy_pass ${upstream.url}; }
        location /logout { auth_oidc p; }`;
  const ngx = await h.nginx(`
${providerBlock('p', op.issuer, { logout_uri: '/logout', post_logout_uri: '/bye' })}
    # the app's server: believes the proxy on 127.0.0.1
    server {
        listen 127.0.0.1:${app};
        server_name 127.0.0.1;
        auth_oidc_forwarded_from 127.0.0.1;
        location /status { oidc_status; }
${protectedApp}
    }
    # the proxy in front: TLS for the browser, plain http to the app
    server {
        listen 127.0.0.1:${tls} ssl;
        server_name 127.0.0.1;
        ssl_certificate ${cert.cert};
        ssl_certificate_key ${cert.key};
        location / {
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host $host:$server_port;
            proxy_pass http://127.0.0.1:${app};
        }
    }
    # believes only 10.0.0.0/8: not the test's client
    server {
        listen 127.0.0.1:${untrusted};
        server_name 127.0.0.1;
        auth_oidc_forwarded_from 10.0.0.0/8;
${protectedApp}
    }
    # set_real_ip_from replaces the client's address: the proxy's stays trusted
    server {
        listen 127.0.0.1:${realip};
        server_name 127.0.0.1 app.example.com;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Real-IP;
        auth_oidc_forwarded_from 127.0.0.1;
${protectedApp}
    }`, { workers: 1 }).start();
  await ngx.waitProvider('p', 'ready');
  const https = `https://127.0.0.1:${tls}`;

  await step(t, h, 'through the proxy: the login round trip over https, redirect_uri https://, the session cookie Secure', async () => {
    const ua = new UserAgent({ ca: ca.pem });
    const first = await ua.fetch(`${https}/app/page`, { headers: NAV });
    const { redirectUri, secure } = loginRedirect(first);
    assert.equal(redirectUri, `${https}/oidc_callback`);
    assert.equal(secure, true, 'the login cookie is Secure');
    // login() asserts a Secure session cookie for an https base
    const { cookie } = await login(new UserAgent({ ca: ca.pem }), https, '/app/page');
    const res = await new UserAgent({ ca: ca.pem }).fetch(`${https}/app/x`, { headers: withSession(cookie) });
    assert.equal(res.status, 200);
    assert.equal(res.json().headers['x-user'], op.user.sub);
  });

  await step(t, h, 'RFC 7239 Forwarded from the trusted address: the same, the last element wins', async () => {
    const res = await request(`http://127.0.0.1:${app}/app/page`, {
      headers: { ...NAV, host: '127.0.0.1', forwarded: 'for=192.0.2.1;proto=http, for=192.0.2.60;proto=https;host="127.0.0.1:8443"' },
    });
    const { redirectUri, secure } = loginRedirect(res);
    assert.equal(redirectUri, 'https://127.0.0.1:8443/oidc_callback');
    assert.equal(secure, true);
  });

  await step(t, h, 'a forwarded host this server does not serve is ignored (the scheme is kept)', async () => {
    const res = await request(`http://127.0.0.1:${app}/app/page`, {
      headers: { ...NAV, host: '127.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' },
    });
    const { redirectUri } = loginRedirect(res);
    assert.equal(redirectUri, 'https://127.0.0.1/oidc_callback');
  });

  await step(t, h, 'the same headers from an address not listed: ignored (http, the request\'s host, no Secure)', async () => {
    for (const headers of [
      { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' },
      { forwarded: 'proto=https;host=evil.example' },
    ]) {
      const res = await request(`http://127.0.0.1:${untrusted}/app/page`, { headers: { ...NAV, host: `127.0.0.1:${untrusted}`, ...headers } });
      const { redirectUri, secure } = loginRedirect(res);
      assert.equal(redirectUri, `http://127.0.0.1:${untrusted}/oidc_callback`, JSON.stringify(headers));
      assert.equal(secure, false, JSON.stringify(headers));
    }
  });

  await step(t, h, 'with set_real_ip_from: the client\'s address is replaced, the proxy\'s ($realip_remote_addr) is trusted', async () => {
    const res = await request(`http://127.0.0.1:${realip}/app/page`, {
      headers: { ...NAV, host: '127.0.0.1', 'x-real-ip': '203.0.113.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com' },
    });
    const { redirectUri, secure } = loginRedirect(res);
    assert.equal(redirectUri, 'https://app.example.com/oidc_callback');
    assert.equal(secure, true);
  });
});

itest('auth_oidc_forwarded_from: nginx -t refuses what is not an address or network', async (h) => {
  const port = await h.port();
  for (const bad of ['example.com', '10.0.0.0/33', 'all']) {
    const res = await h.nginx(`
${providerBlock('p', 'http://127.0.0.1:9')}
    server { listen 127.0.0.1:${port}; auth_oidc_forwarded_from ${bad}; location / { auth_oidc p; } }`).test();
    assert.equal(res.ok, false, bad);
    assert.match(res.stderr, new RegExp(`invalid address "${bad.replace(/[./]/g, '\\$&')}" in auth_oidc_forwarded_from`), bad);
  }
});
