// Who is logged in, in the logs: $oidc_user is the claim the provider's
// user_claim names (sub by default), kept in sessions even when no
// $oidc_claim_* names it; auth_oidc_remote_user on makes $remote_user the
// same, so that the "combined" format and anything else reading it shows
// the user: empty without a session, never what a client's own Basic
// header claims. Elsewhere (or with the directive off) $remote_user is
// nginx's own (auth_basic).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  login, providerBlock, step, withSession,
} from './lib/login.mjs';
import { sleep } from './lib/util.mjs';

itest('$oidc_user and auth_oidc_remote_user put the logged-in user in the access log', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const log = path.join(h.dir, 'who.log');
  const users = path.join(h.dir, 'htpasswd');
  fs.writeFileSync(users, 'alice:{PLAIN}wonderland\n');
  const accessLog = `access_log ${log} who;`;
  const ngx = await h.nginx(`
    log_format who 'uri=$request_uri user=$oidc_user remote=$remote_user';
${providerBlock('fake', op.issuer)}
${providerBlock('mail', op.issuer, { user_claim: 'email', redirect_uri: '/cb/mail' })}
${basicServer(port, `
        location /app/ { auth_oidc fake; auth_oidc_remote_user on; ${accessLog} proxy_pass ${upstream.url}; }
        location /quiet/ { auth_oidc fake; ${accessLog} proxy_pass ${upstream.url}; }
        location /mail/ { auth_oidc mail; auth_oidc_remote_user on; ${accessLog} proxy_pass ${upstream.url}; }
        location /open/ { auth_oidc fake; auth_oidc_unauth pass; auth_oidc_remote_user on; ${accessLog} proxy_pass ${upstream.url}; }
        location /basic/ { auth_basic "staff"; auth_basic_user_file ${users}; auth_oidc_remote_user on; ${accessLog} return 200 "ok\\n"; }`)}`).start();
  await ngx.waitProvider('fake', 'ready');
  await ngx.waitProvider('mail', 'ready');
  const lines = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);
  const lineFor = (uri) => lines().find((l) => l.startsWith(`uri=${uri} `));
  // nginx logs a request after its answer is sent
  const logged = async (uri) => {
    for (let i = 0; i < 100 && !lineFor(uri); i += 1) await sleep(20);
    return lineFor(uri);
  };

  await step(t, h, 'user_claim names a claim the session keeps although no $oidc_claim_* names it', async () => {
    const status = await ngx.status();
    assert.deepEqual(status.providers.mail.session_claims, ['acr', 'auth_time', 'nonce', 'email']);
    assert.deepEqual(status.providers.fake.session_claims, ['acr', 'auth_time', 'nonce', 'sub']);
  });

  const { cookie } = await login(new UserAgent(), ngx.url, '/app/x');
  const { cookie: mail } = await login(new UserAgent(), ngx.url, '/mail/x', { callbackPath: '/cb/mail' });

  await step(t, h, 'the log shows the user: sub by default, the email with user_claim email', async () => {
    assert.equal((await ngx.get('/app/one', { headers: withSession(cookie) })).status, 200);
    assert.equal((await ngx.get('/quiet/one', { headers: withSession(cookie) })).status, 200);
    assert.equal((await ngx.get('/mail/one', { headers: withSession(mail) })).status, 200);
    await logged('/mail/one');
    assert.equal(await logged('/app/one'), `uri=/app/one user=${op.user.sub} remote=${op.user.sub}`);
    assert.equal(lineFor('/quiet/one'), `uri=/quiet/one user=${op.user.sub} remote=-`, 'off: $remote_user stays nginx\'s');
    assert.equal(lineFor('/mail/one'), `uri=/mail/one user=${op.user.email} remote=${op.user.email}`);
  });

  await step(t, h, 'without a session both are empty; with auth_basic $remote_user is its user', async () => {
    assert.equal((await ngx.get('/open/none')).status, 200);
    const basic = await ngx.get('/basic/b', { headers: { authorization: `Basic ${Buffer.from('alice:wonderland').toString('base64')}` } });
    assert.equal(basic.status, 200);
    await logged('/basic/b');
    assert.equal(await logged('/open/none'), 'uri=/open/none user=- remote=-');
    assert.equal(lineFor('/basic/b'), 'uri=/basic/b user=- remote=alice');
  });

  await step(t, h, 'a client cannot name itself: a Basic header in an auth_oidc location never sets $remote_user', async () => {
    const forged = await ngx.get('/app/forged', {
      headers: withSession(cookie, { authorization: `Basic ${Buffer.from('mallory:x').toString('base64')}` }),
    });
    assert.equal(forged.status, 200);
    const none = await ngx.get('/open/forged', { headers: { authorization: `Basic ${Buffer.from('mallory:x').toString('base64')}` } });
    assert.equal(none.status, 200);
    assert.equal(await logged('/app/forged'), `uri=/app/forged user=${op.user.sub} remote=${op.user.sub}`);
    assert.equal(await logged('/open/forged'), 'uri=/open/forged user=- remote=-');
  });
});
