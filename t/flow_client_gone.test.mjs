// A client that goes away while its request waits (a token exchange, a
// Redis command): the request ends at once (499), what was in flight is
// cancelled, nothing is left pending, and nginx goes on and exits cleanly.
// (A wait for provider metadata: t/metadata_cold_start.test.mjs.)
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  COOKIE, login, NAV, passFakeOp, protectedLocation, providerBlock, startLogin, step, withSession,
} from './lib/login.mjs';
import { REDIS_CLI, redisStore, secretFile, startRedis } from './lib/redis.mjs';
import { sleep, waitFor } from './lib/util.mjs';

/** Sends a request and closes the connection after `ms`, before any answer. */
async function leaveAfter(port, target, headers, ms) {
  const sock = net.connect({ host: '127.0.0.1', port });
  sock.on('error', () => {});
  await new Promise((resolve) => sock.once('connect', resolve));
  let answered = false;
  sock.on('data', () => { answered = true; });
  const head = Object.entries({ host: `127.0.0.1:${port}`, ...headers }).map(([k, v]) => `${k}: ${v}`);
  sock.write(`GET ${target} HTTP/1.1\r\n${head.join('\r\n')}\r\n\r\n`);
  await sleep(ms);
  sock.destroy();
  return answered;
}

itest('the client leaves during the token exchange: 499 at once, the exchange is cancelled', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer, { read_timeout: '30s' })}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`).start();
  await ngx.waitProvider('fake', 'ready');

  await step(t, h, 'a token endpoint that hangs, and a client that gives up', async () => {
    op.set({ token: { hang: true } });
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, '/app/leaving', { authorizationEndpoint: `${op.issuer}/auth` });
    const callbackUrl = new URL(await passFakeOp(ua, authUrl, ngx.url));
    const answered = await leaveAfter(port, `${callbackUrl.pathname}${callbackUrl.search}`,
      { ...NAV, cookie: ua.jar.header(callbackUrl.href) }, 300);
    assert.equal(answered, false, 'no answer while the token endpoint hangs');
    await waitFor(() => op.requests.some((r) => r.path === '/token'), { timeout: 2000, what: 'the token request' });
    await waitFor(() => / 499 /.test(ngx.accessLog()), { timeout: 1000, interval: 20, what: 'a 499 in access.log' });
    assert.doesNotMatch(ngx.accessLog(), /oidc_callback[^\n]* 50[24] /);
  });

  await step(t, h, 'logins go on as usual', async () => {
    op.reset();
    const { cookie } = await login(new UserAgent(), ngx.url, '/app');
    assert.equal((await ngx.get('/app/x', { headers: withSession(cookie) })).status, 200);
  });
  // the harness checks the error log and a graceful exit within 5 s
});

itest('the client leaves during a Redis command: 499 at once, the command dropped, service goes on', async (h, t) => {
  const redis = await startRedis(h, { debug: true });
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
${redisStore('r', redis.addr, { secret_file: secretFile(h.dir, 's'), timeout: '5s' })}
${providerBlock('fake', op.issuer, { session_store: 'r' })}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`, { workers: 1 }).start();
  await ngx.waitProvider('fake', 'ready');
  const { cookie } = await login(new UserAgent(), ngx.url, '/app');

  await step(t, h, 'a session lookup waiting on a sleeping Redis, and a client that gives up', async () => {
    const sleeper = new Promise((resolve) => {
      const child = spawn(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(redis.port), 'DEBUG', 'SLEEP', '1.5'], { stdio: 'ignore' });
      child.on('exit', resolve);
      child.on('error', resolve);
    });
    await sleep(100);
    const answered = await leaveAfter(port, '/app/leaving', { ...NAV, cookie: `${COOKIE}=${cookie}` }, 300);
    assert.equal(answered, false);
    await waitFor(() => /"GET \/app\/leaving HTTP\/1.1" 499 /.test(ngx.accessLog()), {
      timeout: 700, interval: 20, what: 'a 499 before Redis answers',
    });
    await sleeper;
  });

  await step(t, h, 'Redis answers later: nothing breaks, the session still works', async () => {
    const res = await ngx.get('/app/x', { headers: withSession(cookie) });
    assert.equal(res.status, 200);
    assert.equal(upstream.requests.filter((r) => r.url.startsWith('/app/leaving')).length, 0, 'the app never saw the abandoned request');
  });
});
