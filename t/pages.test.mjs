// The module's own pages (login failed, login expired, ...): HTML for a
// browser, the same title and sentence as JSON or plain text for a client
// that asks for them, never cached; an operator's error_page for the status
// answers instead.
import assert from 'node:assert/strict';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import { NAV, protectedLocation, providerBlock, step } from './lib/login.mjs';

itest('the module\'s pages: HTML, JSON or plain text by Accept; error_page replaces them', async (h, t) => {
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const [port, own] = [await h.port(), await h.port()];
  const ngx = await h.nginx(`
${providerBlock('fake', op.issuer)}
${basicServer(port, protectedLocation('/app', 'fake', upstream.url))}
    server {
        listen 127.0.0.1:${own};
        error_page 400 /errors/400.html;
        location = /errors/400.html { internal; return 400 "the operator's own page\\n"; }
${protectedLocation('/app', 'fake', upstream.url)}
    }`).start();
  await ngx.waitProvider('fake', 'ready');

  await step(t, h, 'a browser: the HTML page, never cached, never framed', async () => {
    const res = await ngx.get('/oidc_callback', { headers: NAV });
    assert.equal(res.status, 400);
    assert.match(res.headers['content-type'], /^text\/html/);
    assert.match(res.body, /<h1>Login failed<\/h1>\s*<p>The login answer has no state\.<\/p>/);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['x-frame-options'], 'DENY');
  });

  await step(t, h, 'Accept: application/json: the title as a code and the sentence', async () => {
    const res = await ngx.get('/oidc_callback', { headers: { accept: 'application/json' } });
    assert.equal(res.status, 400);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(JSON.parse(res.body), { error: 'login_failed', error_description: 'The login answer has no state.' });
    const expired = await ngx.get('/oidc_callback?state=unknown&code=x', { headers: { accept: 'application/json' } });
    assert.equal(JSON.parse(expired.body).error, 'login_expired');
  });

  await step(t, h, 'Accept: text/plain: the title, then the sentence', async () => {
    const res = await ngx.get('/oidc_callback', { headers: { accept: 'text/plain' } });
    assert.equal(res.status, 400);
    assert.match(res.headers['content-type'], /^text\/plain/);
    assert.equal(res.body, 'Login failed\n\nThe login answer has no state.\n');
  });

  await step(t, h, 'error_page 400 in the server: the operator\'s page answers, with the status', async () => {
    const res = await request(`http://127.0.0.1:${own}/oidc_callback`, { headers: NAV });
    assert.equal(res.status, 400);
    assert.equal(res.body, 'the operator\'s own page\n');
  });
});
