// The module loads, a valid configuration passes `nginx -t`, nginx serves,
// and each configuration error is reported by `nginx -t` with its message.
import assert from 'node:assert/strict';
import { basicServer, oidcProvider } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';

const provider = (name = 'test', extra = {}) => oidcProvider(name, {
  issuer: 'http://127.0.0.1:9', client_id: 'test-client', ...extra,
});

itest('valid config: nginx -t ok, nginx starts, /plain answers, /status is JSON', async (h) => {
  const port = await h.port();
  const upstream = await h.echo();
  const ngx = h.nginx(`
${provider('test', { client_secret: 'secret', metadata_retry: '1s' })}
    auth_oidc off;
${basicServer(port, `
        location /app { auth_oidc test; proxy_pass ${upstream.url}; }
        location /app/public { auth_oidc off; proxy_pass ${upstream.url}; }`)}`);
  const t = await ngx.test();
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /syntax is ok/);
  assert.match(t.stderr, /test is successful/);

  await ngx.start();
  const plain = await ngx.get('/plain');
  assert.equal(plain.status, 200);
  assert.equal(plain.body, 'plain\n');

  const st = await ngx.status();
  assert.ok(st.providers.test, JSON.stringify(st));
  assert.equal(st.providers.test.issuer, 'http://127.0.0.1:9');
  assert.ok(['pending', 'ready', 'error'].includes(st.providers.test.state), st.providers.test.state);
});

itest('all oidc_provider directives parse', async (h) => {
  const { ca } = h.pki();
  const port = await h.port();
  const ngx = h.nginx(`
    oidc_session_store sessions size=1m;
${oidcProvider('full', {
    issuer: 'https://localhost:9443',
    client_id: 'test-client',
    client_secret: 'secret',
    config_url: 'https://localhost:9443/.well-known/openid-configuration',
    ssl_trusted_certificate: ca.cert,
    connect_timeout: '5s',
    send_timeout: '10s',
    read_timeout: '10s',
    max_response_size: '512k',
    metadata_refresh: '1h',
    metadata_retry: '10s',
    cookie_name: 'oidc_session',
    scope: '"openid email profile"',
    pkce: 'on',
    userinfo: 'off',
    session_timeout: '8h',
    logout_token_hint: 'on',
    extra_auth_args: '"prompt=login&display=page"',
    redirect_uri: '/oidc_callback',
    logout_uri: '/logout',
    post_logout_uri: 'https://app.example.com/bye',
    session_store: 'sessions',
    frontchannel_logout_uri: '/oidc_frontchannel_logout',
    keys_refetch_interval: '30s',
  })}
${basicServer(port)}`);
  const t = await ngx.test();
  assert.equal(t.code, 0, t.stderr);
});

// [name, http{} body, expected stderr pattern(s)]
const failures = [
  ['unknown provider', (p) => basicServer(p, 'location /app { auth_oidc x; return 200; }'),
    [/unknown oidc_provider "x"/]],
  ['missing issuer', (p) => oidcProvider('x', { client_id: 'c' }) + basicServer(p),
    [/"issuer" is required in oidc_provider "x"/]],
  ['missing client_id', (p) => oidcProvider('x', { issuer: 'http://127.0.0.1:9' }) + basicServer(p),
    [/"client_id" is required in oidc_provider "x"/]],
  ['issuer not a URL', (p) => oidcProvider('x', { issuer: 'not-a-url', client_id: 'c' }) + basicServer(p),
    [/invalid/, /issuer/]],
  ['issuer with ftp scheme', (p) => oidcProvider('x', { issuer: 'ftp://x', client_id: 'c' }) + basicServer(p),
    [/invalid/, /issuer/]],
  ['duplicate provider', (p) => provider('x') + provider('x') + basicServer(p),
    [/duplicate oidc_provider "x"/]],
  ['unknown provider in a nested location, reported with its line',
    (p) => provider('x') + basicServer(p, 'location /a { location /a/b { auth_oidc y; } }'),
    [/unknown oidc_provider "y" in auth_oidc in .*nginx\.conf:\d+/]],
  ['unknown directive inside oidc_provider', (p) => provider('x', { colour: 'blue' }) + basicServer(p),
    [/unknown directive "colour" in oidc_provider/]],
  ['bad on|off value', (p) => provider('x', { pkce: 'maybe' }) + basicServer(p),
    [/invalid value "maybe"/, /pkce/]],
  ['bad time value', (p) => provider('x', { read_timeout: 'soon' }) + basicServer(p),
    [/read_timeout/, /invalid value/]],
  ['redirect_uri neither a path nor a URL', (p) => provider('x', { redirect_uri: 'callback' }) + basicServer(p),
    [/invalid redirect_uri "callback"/]],
  ['config_url with a fragment', (p) => provider('x', { config_url: 'http://127.0.0.1:9/c#frag' }) + basicServer(p),
    [/invalid config_url/]],
  ['issuer host that does not resolve, without a resolver',
    (p) => oidcProvider('x', { issuer: 'http://no-such-host.invalid', client_id: 'c' }) + basicServer(p),
    [/host not found in config_url "http:\/\/no-such-host\.invalid\/\.well-known\/openid-configuration" of oidc_provider "x"/]],
  ['auth_oidc without argument', (p) => provider('x') + basicServer(p, 'location /app { auth_oidc; }'),
    [/invalid number of arguments in "auth_oidc" directive/]],
];

for (const [name, body, patterns] of failures) {
  itest(`nginx -t fails: ${name}`, async (h) => {
    const ngx = h.nginx(body(await h.port()));
    const t = await ngx.test();
    assert.notEqual(t.code, 0, `nginx -t should fail, stderr:\n${t.stderr}`);
    assert.match(t.stderr, /\[emerg\]/);
    for (const re of patterns) assert.match(t.stderr, re);
    assert.match(t.stderr, /test failed/);
  });
}
