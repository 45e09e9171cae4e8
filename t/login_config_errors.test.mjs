// A login that fails because of the configuration explains itself: the page
// says what is wrong in one sentence, the error log line names the fix, and
// neither shows a secret. Wrong client secret (the real provider answers
// invalid_client), a clock off by more than clock_skew, an issuer that is
// not the provider's.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  logMark, NAV, passFakeOp, protectedLocation, providerBlock, signInAtProvider, startLogin, step,
} from './lib/login.mjs';
import { waitFor } from './lib/util.mjs';

const WRONG_SECRET = 'not-the-registered-secret';

/** The callback's answer after signing in at the provider. */
async function callbackAfterLogin(ngx, { real }) {
  const ua = new UserAgent();
  const { authUrl } = await startLogin(ua, ngx.url, '/app/page');
  const callbackUrl = real ? await signInAtProvider(ua, authUrl, ngx.url) : await passFakeOp(ua, authUrl, ngx.url);
  return ua.fetch(callbackUrl, { headers: NAV });
}

itest('configuration failures at login: the page says it, the log names the fix, no secret in either', async (h, t) => {
  await step(t, h, 'a wrong client_secret: the provider answers invalid_client', async () => {
    const idp = await h.provider();
    const upstream = await h.echo();
    const port = await h.port();
    const ngx = await h.nginx(`
${providerBlock('idp', idp.issuer, { client_secret: WRONG_SECRET })}
${basicServer(port, protectedLocation('/app', 'idp', upstream.url))}`).start();
    await ngx.waitProvider('idp', 'ready');
    const mark = logMark(ngx);
    const res = await callbackAfterLogin(ngx, { real: true });
    assert.equal(res.status, 401);
    assert.match(res.body, /did not accept this site.{1,6}s client credentials: its administrator must check client_id and client_secret/);
    await waitFor(() => /fix: client_id and client_secret must be those of the client registered at the provider/.test(mark.since()),
      { timeout: 2000, what: 'the log line with the fix' });
    assert.match(mark.since(), /\[error\].*provider "idp": token response refused \(HTTP status 401\): provider error: invalid_client/);
    assert.ok(!ngx.errorLog().includes(WRONG_SECRET) && !res.body.includes(WRONG_SECRET), 'the secret is never shown');
    await ngx.stop();
  });

  await step(t, h, 'this host\'s clock 10 minutes behind the provider\'s (beyond clock_skew)', async () => {
    const op = await h.fakeOp();
    const now = Math.floor(Date.now() / 1000);
    op.set({ idToken: { claims: { iat: now + 600, exp: now + 900 } } });
    const upstream = await h.echo();
    const port = await h.port();
    const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`).start();
    await ngx.waitProvider('fake', 'ready');
    const mark = logMark(ngx);
    const res = await callbackAfterLogin(ngx, { real: false });
    assert.equal(res.status, 401);
    assert.match(res.body, /not valid at this server.{1,6}s time: its clock or the identity provider.{1,6}s is wrong/);
    await waitFor(() => /fix: this host's clock and the provider's differ by more than clock_skew: synchronize it \(NTP\), or raise clock_skew/.test(mark.since()),
      { timeout: 2000, what: 'the log line with the fix' });
    await ngx.stop();
  });

  await step(t, h, 'an issuer written without the provider\'s trailing "/" (or with one too many)', async () => {
    const op = await h.fakeOp();
    const upstream = await h.echo();
    const port = await h.port();
    const ngx = await h.nginx(`
${providerBlock('fake', `${op.issuer}/`)}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}`).start();
    await waitFor(() => /fix: set issuer to the document's value exactly \(a trailing "\/" included\)/.test(ngx.errorLog()),
      { timeout: 5000, what: 'the metadata log line with the fix' });
    assert.match(ngx.errorLog(), new RegExp(`issuer mismatch: document says "${op.issuer.replace(/[.:/]/g, '\\$&')}", configured "${op.issuer.replace(/[.:/]/g, '\\$&')}\\/"`));
    const res = await ngx.get('/app/page', { headers: NAV });
    assert.equal(res.status, 503, 'no login without the provider\'s metadata');
    await ngx.stop();
  });
});
