// No request is answered "not ready" while the provider's metadata is on
// its way: a request that needs discovery and keys a worker does not have
// yet waits, suspended, for the fetch under way or due (in whichever
// worker), and goes on as soon as it is published. Only a failed fetch, or
// one that takes longer than connect_timeout + read_timeout, gives a 503,
// with Retry-After; a provider known to be down gives it at once. A client
// that leaves while it waits leaves nothing behind, and nginx exits without
// waiting for the provider.
import assert from 'node:assert/strict';
import net from 'node:net';
import { UserAgent } from './lib/browser.mjs';
import { basicServer, oidcProvider } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { discoveryDoc, makeRsaKey } from './lib/jwks.mjs';
import {
  assertNoSession, assertSessionCookie, NAV, passFakeOp, protectedLocation, providerBlock, redirectPath,
  startLogin, step, withSession, XHR,
} from './lib/login.mjs';
import { sleep, waitFor } from './lib/util.mjs';

const DISCOVERY = '/.well-known/openid-configuration';
const SAME_ORIGIN_NAV = { ...NAV, 'sec-fetch-site': 'same-origin' };

/** A static provider whose discovery (and keys) answer `delay` (`jwksDelay`) ms late. */
async function slowProvider(h, { delay = 0, jwksDelay = 0, kid = 'slow-1' } = {}) {
  const key = makeRsaKey({ kid });
  return h.static((base) => ({
    [DISCOVERY]: { json: discoveryDoc(base), delay },
    '/jwks': { json: { keys: [key.publicJwk] }, delay: jwksDelay },
  }));
}

function appServer(port, upstream, provider = 'p') {
  // $pid says which worker answered
  return basicServer(port, protectedLocation('/app', provider, upstream.url, { extra: '            add_header X-Worker $pid;' }));
}

/** `n` navigations at once; resolves the responses. */
function navigations(ngx, n, timeout = 15000) {
  return Promise.all(Array.from({ length: n }, (_, i) => ngx.get(`/app/${i}`, { headers: NAV, timeout })));
}

function assertAllLoginRedirects(responses, issuer) {
  const bad = responses.filter((r) => r.status !== 302 || !String(r.headers.location).startsWith(`${issuer}/auth?`));
  assert.deepEqual(bad.map((r) => `${r.status} ${r.headers.location ?? ''} ${r.headers['retry-after'] ?? ''}`), [],
    `${bad.length} of ${responses.length} navigations not sent to ${issuer}/auth`);
}

/** Retry-After of a 503: whole seconds, at least 1. */
function retryAfter(res) {
  assert.equal(res.status, 503, `expected 503, got ${res.status} ${res.headers.location ?? ''}`);
  const v = res.headers['retry-after'];
  assert.match(String(v), /^[1-9]\d*$/, `Retry-After: ${v}`);
  return Number(v);
}

itest('four workers, discovery answering after 400 ms: 40 navigations just after start all get the login redirect', async (h, t) => {
  const srv = await slowProvider(h, { delay: 400 });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('p', { issuer: srv.url, client_id: 'test-client', metadata_retry: '1s' })}
${appServer(port, upstream)}`, { workers: 4 }).start();

  const responses = await navigations(ngx, 40);
  assertAllLoginRedirects(responses, srv.url);
  assert.ok(Math.max(...responses.map((r) => r.ms)) >= 150, 'the navigations waited for the fetch');
  assert.equal(srv.hits(DISCOVERY), 1, 'one discovery fetch for all workers');
  assert.equal(srv.hits('/jwks'), 1, 'one JWKS fetch for all workers');
  assert.equal(upstream.requests.length, 0, 'nothing reached the app');
  assert.doesNotMatch(ngx.errorLog(), /is not ready/);
  const workers = new Set(responses.map((r) => r.headers['x-worker']));
  t.diagnostic(`answered by ${workers.size} workers; slowest ${Math.round(Math.max(...responses.map((r) => r.ms)))} ms`);
});

itest('a reload that changes the provider: navigations wait for the new metadata, then the login redirect', async (h, t) => {
  const before = await slowProvider(h, { kid: 'before' });
  const after = await slowProvider(h, { delay: 1500, kid: 'after' });
  const upstream = await h.echo();
  const port = await h.port();
  const conf = (issuer) => `
${oidcProvider('p', { issuer, client_id: 'test-client', metadata_retry: '1s' })}
${appServer(port, upstream)}`;
  const ngx = await h.nginx(conf(before.url), { workers: 4 }).start();
  await ngx.waitProvider('p', 'ready');
  assertAllLoginRedirects(await navigations(ngx, 4), before.url);

  const t0 = Date.now();
  await ngx.reload(conf(after.url));
  const reloaded = Date.now() - t0;
  const responses = await navigations(ngx, 40);
  assertAllLoginRedirects(responses, after.url);
  assert.equal(after.hits(DISCOVERY), 1, 'the new provider fetched once');
  assert.ok(Math.max(...responses.map((r) => r.ms)) >= 200, 'the navigations waited for the new metadata');
  assert.doesNotMatch(ngx.errorLog(), /is not ready/);
  const p = await ngx.providerStatus('p');
  assert.equal(p.metadata.issuer, after.url);
  t.diagnostic(`reload took ${reloaded} ms; slowest navigation ${Math.round(Math.max(...responses.map((r) => r.ms)))} ms`);
});

itest('provider refusing connections at start: 503 with Retry-After, at once while the next fetch is not due', async (h) => {
  const dead = await h.port(); // nothing listens there
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('p', {
    issuer: `http://127.0.0.1:${dead}`, client_id: 'test-client',
    connect_timeout: '1s', read_timeout: '1s', metadata_retry: '30s',
  })}
${appServer(port, upstream)}`).start();

  const first = await ngx.get('/app/1', { headers: NAV });
  const r1 = retryAfter(first);
  assert.ok(r1 <= 30, `Retry-After ${r1} is at most metadata_retry`);
  assert.ok(first.ms < 1500, `answered within the bound: ${Math.round(first.ms)} ms`);

  // the node is in error and no fetch is due: no wait at all
  for (let i = 0; i < 3; i += 1) {
    const again = await ngx.get(`/app/again${i}`, { headers: NAV });
    const r = retryAfter(again);
    assert.ok(r >= 1 && r <= 30, `Retry-After ${r}`);
    assert.ok(again.ms < 300, `a provider known to be down is answered at once, not after ${Math.round(again.ms)} ms`);
  }
  assert.equal((await ngx.get('/app/x', { headers: XHR })).status, 401, 'no metadata needed for a 401');
  assert.equal((await ngx.providerStatus('p')).state, 'error');
  await ngx.waitForLog(/\[error\].*provider "p" is not ready: .*next attempt in \d+ s/);
  assert.equal(upstream.requests.length, 0);
});

itest('hanging provider at start: the waiting navigation gets 503 with Retry-After within the bound, never a hang', async (h) => {
  const hang = await h.hang();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('p', {
    issuer: `http://127.0.0.1:${hang.port}`, client_id: 'test-client',
    connect_timeout: '1s', read_timeout: '1s', metadata_retry: '30s',
  })}
${appServer(port, upstream)}`).start();

  // connect_timeout + read_timeout = 2 s; the fetch itself fails after 1 s
  const res = await ngx.get('/app/1', { headers: NAV, timeout: 6000 });
  retryAfter(res);
  assert.ok(res.ms < 2600, `503 within the bound (2 s): ${Math.round(res.ms)} ms`);
  const again = await ngx.get('/app/2', { headers: NAV });
  retryAfter(again);
  assert.ok(again.ms < 300, `then at once: ${Math.round(again.ms)} ms`);
});

itest('a fetch slower than connect_timeout + read_timeout: 503 with Retry-After 1 at the bound, the redirect once it is in', async (h) => {
  // discovery 1.6 s + keys 1.6 s, each within read_timeout 2s; the bound is 0.5 + 2 = 2.5 s
  const srv = await slowProvider(h, { delay: 1600, jwksDelay: 1600 });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('p', {
    issuer: srv.url, client_id: 'test-client', connect_timeout: '500ms', read_timeout: '2s',
  })}
${appServer(port, upstream)}`).start();

  const res = await ngx.get('/app/1', { headers: NAV, timeout: 6000 });
  assert.equal(retryAfter(res), 1, 'a fetch is under way: come back in a second');
  assert.ok(res.ms >= 2000 && res.ms < 3100, `503 at the bound (2.5 s): ${Math.round(res.ms)} ms`);
  await ngx.waitProvider('p', 'ready', { timeout: 5000, interval: 50 });
  assertAllLoginRedirects(await navigations(ngx, 2), srv.url);
});

itest('a client that leaves while waiting leaves nothing behind; nginx exits at once with requests waiting', async (h, t) => {
  const srv = await slowProvider(h, { delay: 1500 });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${oidcProvider('p', { issuer: srv.url, client_id: 'test-client' })}
${appServer(port, upstream)}`).start();

  await step(t, h, 'the client closes its connection: the request ends at once (499)', async () => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.on('error', () => {});
    await new Promise((r) => sock.once('connect', r));
    const head = Object.entries({ host: `127.0.0.1:${port}`, ...NAV }).map(([k, v]) => `${k}: ${v}`);
    sock.write(`GET /app/leaving HTTP/1.1\r\n${head.join('\r\n')}\r\n\r\n`);
    await sleep(200);
    sock.destroy();
    await ngx.waitForLog(/client prematurely closed connection/, { timeout: 1000 });
    await waitFor(() => /"GET \/app\/leaving HTTP\/1.1" 499 /.test(ngx.accessLog()), { timeout: 1000, interval: 20, what: 'a 499 in access.log' });
    assert.equal((await ngx.providerStatus('p')).state, 'pending', 'ended before the fetch did');
  });

  await step(t, h, 'the fetch ends as usual; a new navigation is redirected', async () => {
    await ngx.waitProvider('p', 'ready', { timeout: 5000, interval: 50 });
    assertAllLoginRedirects(await navigations(ngx, 3), srv.url);
  });

  await step(t, h, 'nginx asked to quit while requests wait: they get 503 and nginx exits at once', async () => {
    const hang = await h.hang();
    const port2 = await h.port();
    const ngx2 = await h.nginx(`
${oidcProvider('p', { issuer: `http://127.0.0.1:${hang.port}`, client_id: 'test-client', read_timeout: '30s' })}
${appServer(port2, upstream)}`).start();
    await hang.waitConnection(1, 5000);
    const waiting = navigations(ngx2, 3, 10000);
    await sleep(300);
    const stop = await ngx2.stop({ graceful: 5000 });
    assert.ok(stop.graceful, 'exited on SIGQUIT');
    assert.ok(stop.ms < 1500, `exited in ${stop.ms} ms, without waiting for the provider`);
    for (const res of await waiting) retryAfter(res);
  });
});

itest('an unknown key id within keys_refetch_interval is refused at once; a changed provider makes the callback and logout wait', async (h, t) => {
  const op = await h.fakeOp({ variants: { v2: {}, v3: {}, v4: {} } });
  const upstream = await h.echo();
  const port = await h.port();
  const conf = (configUrl) => `
${providerBlock('fake', op.issuer, { config_url: configUrl, logout_uri: '/logout' })}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`;
  const ngx = await h.nginx(conf(op.configUrl())).start();
  await ngx.waitProvider('fake', 'ready');

  const attempt = async (path) => {
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, path);
    const callbackUrl = await passFakeOp(ua, authUrl, ngx.url);
    const res = await ua.fetch(callbackUrl, { headers: NAV });
    return { ua, res };
  };

  await step(t, h, 'unknown key id: one refetch waited for, then a second one refused without waiting', async () => {
    op.set({ idToken: { signWith: makeRsaKey({ kid: 'stranger' }) } });
    try {
      const jwksBefore = op.hits('/jwks');
      const first = await attempt('/app/a');
      assert.equal(first.res.status, 401);
      assert.equal(op.hits('/jwks') - jwksBefore, 1, 'one refetch');
      const second = await attempt('/app/b');
      assert.equal(second.res.status, 401);
      assertNoSession(second.res);
      assert.ok(second.res.ms < 500, `refused at once, not after ${Math.round(second.res.ms)} ms`);
      assert.equal(op.hits('/jwks') - jwksBefore, 1, 'no other refetch within keys_refetch_interval');
    } finally {
      op.reset();
    }
  });

  let ua;
  let cookie;
  await step(t, h, 'a login begun before a reload that changes config_url: the callback waits for the metadata', async () => {
    ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, '/app/cb');
    const callbackUrl = await passFakeOp(ua, authUrl, ngx.url);
    op.set({ discoveryDelay: 1500 });
    await ngx.reload(conf(op.configUrl('v2')));
    const res = await ua.fetch(callbackUrl, { headers: NAV });
    assert.equal(res.status, 302, `callback: ${res.status} ${res.body.slice(0, 300)}`);
    assert.equal(redirectPath(res, ngx.url), '/app/cb');
    cookie = assertSessionCookie(res);
    assert.ok(res.ms >= 200, `the callback waited (${Math.round(res.ms)} ms)`);
    const seen = (await ngx.get('/app/cb', { headers: withSession(cookie) })).json();
    assert.equal(seen.headers['x-user-sub'], 'fake-user-1');
  });

  await step(t, h, 'a callback whose client leaves while it waits ends at once (499)', async () => {
    const other = new UserAgent();
    const { authUrl } = await startLogin(other, ngx.url, '/app/gone');
    const callbackUrl = new URL(await passFakeOp(other, authUrl, ngx.url));
    await ngx.reload(conf(op.configUrl('v3')));
    const mark = ngx.errorLog().length;
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.on('error', () => {});
    await new Promise((r) => sock.once('connect', r));
    const head = Object.entries({ host: `127.0.0.1:${port}`, ...NAV, cookie: other.jar.header(callbackUrl.href) })
      .map(([k, v]) => `${k}: ${v}`);
    sock.write(`GET ${callbackUrl.pathname}${callbackUrl.search} HTTP/1.1\r\n${head.join('\r\n')}\r\n\r\n`);
    await sleep(200);
    sock.destroy();
    await waitFor(() => /client prematurely closed connection/.test(ngx.errorLog().slice(mark)),
      { timeout: 1000, interval: 20, what: 'the closed callback noticed' });
    await waitFor(() => /"GET \/oidc_callback\?\.\.\. HTTP\/1.1" 499 /.test(ngx.accessLog()),
      { timeout: 1000, interval: 20, what: 'a 499 in access.log' });
  });

  await step(t, h, 'logout after another such reload waits too, and goes to end_session_endpoint', async () => {
    await ngx.reload(conf(op.configUrl('v4')));
    // the "Log out" button: a same-origin form POST
    const res = await ua.fetch(`${ngx.url}/logout`, {
      method: 'POST',
      headers: { ...SAME_ORIGIN_NAV, origin: ngx.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(res.status, 302, `logout: ${res.status} ${res.body.slice(0, 300)}`);
    assert.ok(res.headers.location.startsWith(`${op.issuer}/session/end?`), res.headers.location);
    assert.ok(res.ms >= 200, `the logout waited (${Math.round(res.ms)} ms)`);
    op.reset();
  });
  assert.doesNotMatch(ngx.errorLog(), /is not ready/);
});
