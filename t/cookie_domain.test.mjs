// One login across subdomains: cookie_domain puts "Domain=" on every cookie
// of the provider's, so a session made on one host is the session of its
// siblings; with one callback host for all of them (an absolute
// redirect_uri), a login comes back to the host it started on. Where a
// login may come back to is the request's own host, or one redirect_hosts
// lists: never another site (open-redirect tests). Names under ".test" are
// this machine (t/lib/http.mjs).
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { itest } from './lib/harness.mjs';
import {
  COOKIE, login, NAV, protectedLocation, providerBlock, setCookies, step,
} from './lib/login.mjs';

const HOSTS = 'app.example.test api.example.test auth.example.test';

function server(port, locations) {
  return `    server {
        listen 127.0.0.1:${port};
        server_name ${HOSTS};
        location /status { oidc_status; }
${locations}
    }
`;
}

itest('cookie_domain: a login on one host is the session of its sibling hosts', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, { cookie_domain: 'example.test' })}
${server(port, protectedLocation('/app/', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');
  const app = `http://app.example.test:${port}`;
  const api = `http://api.example.test:${port}`;

  await step(t, h, 'every cookie of ours carries Domain=example.test', async () => {
    const ua = new UserAgent();
    const start = await ua.fetch(`${app}/app/a`, { headers: NAV });
    assert.equal(start.status, 302);
    const started = setCookies(start).find((c) => c.name.startsWith(`${COOKIE}_login_`));
    assert.equal(started.attrs.domain, 'example.test');
    const { callback } = await login(ua, app, '/app/a');
    const session = setCookies(callback).find((c) => c.name === COOKIE);
    assert.equal(session.attrs.domain, 'example.test');
    assert.equal(session.attrs.httponly, true);

    // the sibling host takes the session: no login
    const res = await ua.fetch(`${api}/app/b`, { headers: NAV });
    assert.equal(res.status, 200, res.body.slice(0, 300));
    assert.equal(res.json().headers['x-user-sub'], 'fake-user-1');
  });

  await step(t, h, 'a host outside the domain gets no session (the browser does not send it)', async () => {
    const ua = new UserAgent();
    await login(ua, app, '/app/a');
    const res = await ua.fetch(`http://127.0.0.1:${port}/app/c`, { headers: NAV });
    assert.equal(res.status, 302);
  });
});

itest('one callback host for all: a login comes back to the host it started on, never elsewhere', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const auth = `http://auth.example.test:${port}`;
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, {
    cookie_domain: '.example.test',
    redirect_uri: `${auth}/oidc_callback`,
    redirect_hosts: 'api.example.test',
  })}
${server(port, protectedLocation('/app/', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');
  const app = `http://app.example.test:${port}`;

  await step(t, h, 'started on app, called back on auth, back on app with a session there', async () => {
    const ua = new UserAgent();
    const res = await ua.go(`${app}/app/page?x=1`, { headers: NAV });
    const urls = res.chain.map((r) => r.url);
    assert.ok(urls.some((u) => u.startsWith(`${auth}/oidc_callback?`)), urls.join('\n'));
    assert.equal(res.url, `${app}/app/page?x=1`);
    assert.equal(res.status, 200, res.body.slice(0, 300));
    assert.equal(op.authRequests.at(-1).redirect_uri, `${auth}/oidc_callback`);
  });

  /** A login started at the callback host's login URL with return_to; where the callback sends the browser. */
  async function cameBackTo(returnTo) {
    const ua = new UserAgent();
    const start = await ua.fetch(`${auth}/oidc_callback?oidc_login=fake&return_to=${encodeURIComponent(returnTo)}`, { headers: NAV });
    assert.equal(start.status, 302, start.body.slice(0, 300));
    const res = await ua.go(start.headers.location, { headers: NAV, stopAt: (u) => !u.includes('/oidc_callback') && !u.startsWith(op.issuer) });
    assert.equal(res.status, 302, `${res.url}: ${res.body.slice(0, 300)}`);
    return res.headers.location;
  }

  await step(t, h, 'return_to: the own host and redirect_hosts are followed', async () => {
    // (nginx makes a local Location absolute on the request's host)
    assert.equal(await cameBackTo('/app/own'), `${auth}/app/own`);
    assert.equal(await cameBackTo(`http://api.example.test:${port}/app/x?y=1`), `http://api.example.test:${port}/app/x?y=1`);
    assert.equal(await cameBackTo(`${auth}/app/z`), `${auth}/app/z`);
  });

  await step(t, h, 'return_to: any other host falls back to the own "/" (open-redirect attempts)', async () => {
    for (const evil of [
      'https://evil.example.org/', `http://www.example.test:${port}/`, 'http://api.example.test.evil.org/',
      `http://evil.org@api.example.test:${port}/`, '//evil.example.org/', '/\\evil.example.org',
      'https:evil.example.org', 'javascript:alert(1)', `http://api.example.test:${port}/a\r\nSet-Cookie: x=1`,
    ]) {
      assert.equal(await cameBackTo(evil), `${auth}/`, JSON.stringify(evil));
    }
  });
});

itest('nginx -t refuses cookie_domain and redirect_hosts that cannot work', async (h, t) => {
  const refused = async (directives, message) => {
    const ngx = h.nginx(`
${providerBlock('fake', 'http://127.0.0.1:9/op', directives)}
${server(await h.port(), '        location / { auth_oidc fake; }')}`);
    const res = await ngx.test();
    assert.equal(res.ok, false, JSON.stringify(directives));
    assert.match(res.stderr, message);
  };
  await step(t, h, 'a "__Host-" cookie with a domain', () => refused(
    { cookie_name: '__Host-oidc', cookie_domain: 'example.test' },
    /a "__Host-" cookie_name cannot have a cookie_domain: browsers refuse it/,
  ));
  await step(t, h, 'a domain with an attribute smuggled in', () => refused(
    { cookie_domain: '"example.test; SameSite=None"' },
    /cookie_domain "example.test; SameSite=None" is not a domain name/,
  ));
  await step(t, h, 'a pattern in redirect_hosts', () => refused(
    { redirect_hosts: '"*.example.test"' },
    /redirect_hosts takes host names, "host:port" or ".domain" for the names under it, not "\*.example.test"/,
  ));
  await step(t, h, 'a port that is not one in redirect_hosts', () => refused(
    { redirect_hosts: '"api.example.test:8443:1"' },
    /redirect_hosts takes host names, "host:port" or ".domain" for the names under it, not "api.example.test:8443:1"/,
  ));
  await step(t, h, 'a port in cookie_domain', () => refused(
    { cookie_domain: 'example.test:443' }, /cookie_domain "example.test:443" is not a domain name/,
  ));
});
