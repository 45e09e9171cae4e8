// Microsoft Entra ID's multi-tenant endpoints publish one issuer for every
// tenant: https://login.microsoftonline.com/{tenantid}/v2.0. An issuer with
// "{tenantid}" accepts a token only when its "iss" is that template with
// the token's own "tid" in place: never any issuer at all. Which tenants
// may log in is the configuration's: a map of $oidc_claim_tid and
// auth_require. The fake OP plays the "common" endpoint: its discovery
// document names the template, its tokens each a tenant.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  login, NAV, passFakeOp, providerBlock, startLogin, step, withSession,
} from './lib/login.mjs';

itest('Entra multi-tenant: {tenantid} in the issuer takes each token\'s own tenant, and a map of tenants decides who is in', async (h, t) => {
  const op = await h.fakeOp();
  const template = `${op.issuer}/{tenantid}/v2.0`;
  op.variants.common = { issuer: template };
  const tenant = (tid, iss = `${op.issuer}/${tid}/v2.0`) => op.set({ idToken: { claims: { iss, tid } } });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
    map $oidc_claim_tid $tenant_allowed {
        tenant-a  1;
        tenant-b  1;
        default   0;
    }
${providerBlock('entra', op.issuer, { issuer: `"${template}"`, config_url: op.configUrl('common') })}
${basicServer(port, `
        location /app/ {
            auth_oidc entra;
            auth_require $tenant_allowed;
            proxy_pass ${upstream.url};
            proxy_set_header X-Tenant $oidc_claim_tid;
        }`)}`).start();
  await ngx.waitProvider('entra', 'ready');

  await step(t, h, 'a user of an allowed tenant logs in; the app learns the tenant', async () => {
    tenant('tenant-a');
    const { cookie } = await login(new UserAgent(), ngx.url, '/app/x');
    const res = await ngx.get('/app/x', { headers: withSession(cookie) });
    assert.equal(res.status, 200);
    assert.equal(res.json().headers['x-tenant'], 'tenant-a');
  });

  await step(t, h, 'a user of another tenant logs in, and auth_require keeps them out', async () => {
    tenant('tenant-c');
    const { cookie } = await login(new UserAgent(), ngx.url, '/app/x');
    const res = await ngx.get('/app/x', { headers: withSession(cookie) });
    assert.equal(res.status, 403);
  });

  const refused = async (why) => {
    const ua = new UserAgent();
    const { authUrl } = await startLogin(ua, ngx.url, '/app/x');
    const callback = await ua.fetch(await passFakeOp(ua, authUrl, ngx.url), { headers: NAV });
    assert.equal(callback.status, 401, `${why}: ${callback.status}`);
    assert.equal([].concat(callback.headers['set-cookie'] || []).some((c) => /^NGX_OIDC_SESSION=[^;]/.test(c)), false, 'no session');
  };

  await step(t, h, 'refused: another tenant\'s issuer, the template itself, no tid, a tid that is no tenant id', async () => {
    tenant('tenant-a', `${op.issuer}/tenant-b/v2.0`);
    await refused('another tenant\'s issuer');
    await ngx.waitForLog(/ID token refused: issuer mismatch: "iss" is ".*\/tenant-b\/v2\.0", expected ".*\/tenant-a\/v2\.0" for its "tid", client/);
    tenant('{tenantid}', template);
    await refused('the template');
    op.set({ idToken: { claims: { iss: `${op.issuer}/tenant-a/v2.0`, tid: undefined } } });
    await refused('no tid');
    tenant('a/../b', `${op.issuer}/a/../b/v2.0`);
    await refused('a path for a tenant');
  });

  await step(t, h, 'nginx -t: a template issuer needs config_url (the issuer cannot say where discovery is)', async () => {
    const bad = h.nginx(`
${providerBlock('entra', op.issuer, { issuer: `"${template}"` })}
${basicServer(await h.port(), '        location / { auth_oidc entra; }')}`);
    const res = await bad.test();
    assert.equal(res.ok, false);
    assert.match(res.stderr, /the issuer ".*\{tenantid\}\/v2\.0" names each token's tenant \("\{tenantid\}"\): set config_url/);
  });
});
