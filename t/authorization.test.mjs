// auth_require (as NGINX Plus's ngx_http_auth_require_module): access only
// when every value is non-empty and not "0", checked after auth_oidc found
// the session, so that map over $oidc_claim_* decides. A denied user gets
// the directive's error (403 by default), never a login; "satisfy any"
// lets an allowed address in without a login; and the rewrite-phase "if"
// the README warns about lets everyone through, which this shows.
import assert from 'node:assert/strict';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  assertLoginRedirect, login, NAV, providerBlock, step, withSession,
} from './lib/login.mjs';

itest('auth_require: map over a claim; error=; several rules; satisfy any; the if trap', async (h, t) => {
  const op = await h.fakeOp(); // user: email fake.user@example.test
  const eveOp = await h.fakeOp({ user: { sub: 'eve', email: 'eve@contractor.example' } });
  const upstream = await h.echo();
  const port = await h.port();
  const loc = (path, body) => `
        location ${path} {
            auth_oidc fake;
${body}
            proxy_pass ${upstream.url};
        }`;
  const ngx = h.nginx(`
${providerBlock('fake', op.issuer, {})}
${providerBlock('eve', eveOp.issuer, { redirect_uri: '/cb/eve' })}
    map $oidc_claim_email $example_user { default 0; "~@example\\.test$" 1; }
    map $oidc_claim_email $contractor { default 0; "~@contractor\\.example$" 1; }
    map $oidc_claim_email $deny { default 0; "~@contractor\\.example$" 1; }
    map $oidc_claim_email $not_contractor { default 1; "" 0; "~@contractor\\.example$" 0; }
    map $oidc_claim_email $in_example { default 0; "~@example\\.test$" 1; }
${basicServer(port, `
${loc('/staff/', '            auth_require $example_user;')}
${loc('/contractors/', '            auth_require $contractor;')}
${loc('/hidden/', '            auth_require $contractor error=404;')}
${loc('/both/', '            auth_require $example_user;\n            auth_require $in_example $contractor error=402;')}
        location /iftrap/ {
            auth_oidc eve;
            if ($deny) { return 403; }
            proxy_pass ${upstream.url};
            proxy_set_header X-Deny $deny;
        }
        location /required/ {
            auth_oidc eve;
            auth_require $not_contractor;
            proxy_pass ${upstream.url};
        }
        location /inner/ {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_oidc fake;
            auth_require $contractor;
            proxy_pass ${upstream.url};
        }
        location /outer/ {
            satisfy any;
            deny all;
            auth_oidc fake;
            auth_require $example_user;
            proxy_pass ${upstream.url};
        }`)}`, { workers: 1 });
  await ngx.start();
  await ngx.waitProvider('fake', 'ready');
  const { cookie } = await login(new UserAgent(), ngx.url, '/staff/');
  const get = (path) => ngx.get(path, { headers: withSession(cookie) });

  await step(t, h, 'a string claim through map: allowed, and denied with 403 (no login loop)', async () => {
    assert.equal((await get('/staff/x')).status, 200);
    const denied = await get('/contractors/x');
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.location, undefined, 'no redirect to the provider');
    assert.match(ngx.errorLog(), /access denied by auth_require "\$contractor"/);
  });

  await step(t, h, 'error= gives the denial its code; rules are checked in order', async () => {
    assert.equal((await get('/hidden/x')).status, 404);
    assert.equal((await get('/both/x')).status, 402, 'the second rule fails: its error');
  });

  await step(t, h, 'without a session the login comes first, auth_require after it', async () => {
    assertLoginRedirect(await ngx.get('/staff/x', { headers: NAV }), `${op.issuer}/auth`);
  });

  await step(t, h, 'satisfy any: an allowed address needs no login; otherwise the login and auth_require decide', async () => {
    const inner = await ngx.get('/inner/x', { headers: NAV });
    assert.equal(inner.status, 200, 'allow 127.0.0.1 lets it in without a session');
    assertLoginRedirect(await ngx.get('/outer/x', { headers: NAV }), `${op.issuer}/auth`);
    assert.equal((await get('/outer/x')).status, 200, 'a session that auth_require accepts');
  });

  await step(t, h, 'the if trap: "if" runs before the session is found, so it lets a contractor through; auth_require does not', async () => {
    const eve = (await login(new UserAgent(), ngx.url, '/required/', { callbackPath: '/cb/eve' })).cookie;
    const trapped = await ngx.get('/iftrap/x', { headers: withSession(eve) });
    assert.equal(trapped.status, 200, 'if saw an empty claim: the contractor got in');
    assert.equal(trapped.json().headers['x-deny'], '0', 'and the value cached then even reaches the app');
    const required = await ngx.get('/required/x', { headers: withSession(eve) });
    assert.equal(required.status, 403, 'auth_require runs after the session is found');
  });
});

itest('claims of any shape: auth_oidc_claim_set for nested and array claims, auth_oidc_claim_has for membership', async (h, t) => {
  const op = await h.fakeOp({
    user: { realm_access: { roles: ['admin', 'user'] }, groups: ['staff', 'ops'], address: { country: 'FR' } },
  });
  // an element that holds a "," must not pass for two members
  const eveOp = await h.fakeOp({ user: { sub: 'eve', groups: ['x,admins', 'y'], realm_access: { roles: [] } } });
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = h.nginx(`
${providerBlock('fake', op.issuer, {})}
${providerBlock('eve', eveOp.issuer, { redirect_uri: '/cb/eve' })}
    auth_oidc_claim_set $roles realm_access roles;
    auth_oidc_claim_set $first_role realm_access roles 0;
    auth_oidc_claim_set $country address country;
    auth_oidc_claim_set $groups groups;
    auth_oidc_claim_has $is_admin realm_access roles admin;
    auth_oidc_claim_has $in_ops groups ops;
    auth_oidc_claim_has $in_admins groups admins;
${basicServer(port, `
        location /app/ {
            auth_oidc fake;
            proxy_pass ${upstream.url};
            proxy_set_header X-Roles $roles;
            proxy_set_header X-First-Role $first_role;
            proxy_set_header X-Country $country;
            proxy_set_header X-Groups $groups;
            proxy_set_header X-Is-Admin $is_admin;
            proxy_set_header X-In-Ops $in_ops;
        }
        location /admin/ {
            auth_oidc fake;
            auth_require $is_admin;
            proxy_pass ${upstream.url};
        }
        location /admins/ {
            auth_oidc eve;
            auth_require $in_admins;
            proxy_pass ${upstream.url};
        }
        location /eve/ {
            auth_oidc eve;
            proxy_pass ${upstream.url};
            proxy_set_header X-Groups $groups;
        }
        location /open/ {
            auth_oidc fake;
            auth_oidc_unauth pass;
            proxy_pass ${upstream.url};
            proxy_set_header X-Roles $roles;
            proxy_set_header X-Is-Admin $is_admin;
        }`)}`, { workers: 1 });
  await ngx.start();
  await ngx.waitProvider('fake', 'ready');

  await step(t, h, 'nested members, array elements and arrays as comma-separated lists reach the app', async () => {
    const { cookie } = await login(new UserAgent(), ngx.url, '/app/');
    const seen = (await ngx.get('/app/x', { headers: withSession(cookie) })).json().headers;
    assert.equal(seen['x-roles'], 'admin,user');
    assert.equal(seen['x-first-role'], 'admin');
    assert.equal(seen['x-country'], 'FR');
    assert.equal(seen['x-groups'], 'staff,ops');
    assert.equal(seen['x-is-admin'], '1');
    assert.equal(seen['x-in-ops'], '1');
    assert.equal((await ngx.get('/admin/x', { headers: withSession(cookie) })).status, 200);
  });

  await step(t, h, 'membership is exact: an element "x,admins" is not "admins"', async () => {
    const { cookie } = await login(new UserAgent(), ngx.url, '/eve/', { callbackPath: '/cb/eve' });
    const seen = (await ngx.get('/eve/x', { headers: withSession(cookie) })).json().headers;
    assert.equal(seen['x-groups'], 'x,admins,y', 'the list a pattern would be fooled by');
    assert.equal((await ngx.get('/admins/x', { headers: withSession(cookie) })).status, 403);
  });

  await step(t, h, 'without a session: empty, and "0" for membership', async () => {
    const res = await ngx.get('/open/x', { headers: NAV });
    assert.equal(res.status, 200);
    const seen = res.json().headers;
    assert.equal(seen['x-roles'], undefined);
    assert.equal(seen['x-is-admin'], '0');
  });
});
