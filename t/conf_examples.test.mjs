// Every file in conf-examples/ is a complete nginx.conf that `nginx -t`
// accepts with the module, offline (each has a resolver: names are resolved
// at run time), without a warning; the providers the README promises are
// there, each with what to register at the provider.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeCA, makeServerCert } from './lib/ca.mjs';
import { itest } from './lib/harness.mjs';
import { MODULE_PATH, NGINX_BIN, REPO } from './lib/nginx.mjs';
import { secretFile } from './lib/redis.mjs';

const DIR = path.join(REPO, 'conf-examples');
const PROVIDERS = ['keycloak', 'entra-id', 'google', 'okta', 'auth0', 'authentik', 'zitadel', 'gitlab', 'dex', 'cognito'];

function nginxT(prefix, conf) {
  return new Promise((resolve) => {
    execFile(NGINX_BIN, ['-t', '-p', `${prefix}/`, '-c', conf, '-e', path.join(prefix, 'error.log'),
      '-g', `pid ${path.join(prefix, 'nginx.pid')};`], { timeout: 30000 },
    (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, stderr: String(stderr) }));
  });
}

itest('conf-examples: one complete example per provider, each saying what to register', async () => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.conf'));
  for (const p of PROVIDERS) {
    assert.ok(files.includes(`${p}.conf`), `conf-examples/${p}.conf`);
    const text = fs.readFileSync(path.join(DIR, `${p}.conf`), 'utf8');
    assert.match(text, /^# .*\n#\n# Register /m, `${p}: a comment block saying what to register`);
    assert.match(text, /https:\/\/app\.example\.com\/oidc_callback/, `${p}: the redirect URI to register`);
    assert.match(text, /^# Quirks: /m, `${p}: its quirks`);
    assert.match(text, /^\s+issuer\s+https:\/\//m, `${p}: an issuer`);
  }
});

itest('conf-examples: nginx -t accepts every example, offline, without a warning', async (h) => {
  const ca = makeCA(h.dir, 'ca');
  const cert = makeServerCert(ca, 'app');
  const secret = secretFile(h.dir, 'oidc.secret');
  for (const file of fs.readdirSync(DIR).filter((f) => f.endsWith('.conf'))) {
    const prefix = path.join(h.dir, file.replace(/\.conf$/, ''));
    fs.mkdirSync(path.join(prefix, 'logs'), { recursive: true });
    const text = fs.readFileSync(path.join(DIR, file), 'utf8');
    assert.match(text, /^\s+resolver /m, `${file}: a resolver (nginx -t then resolves nothing)`);
    // where the example names the module, certificates and secrets of a
    // real host, the test's own
    const conf = text
      .replace('load_module /usr/lib/nginx/modules/ngx_http_auth_oidc_module.so;', `load_module ${MODULE_PATH};`)
      .replaceAll('/etc/ssl/app.pem', cert.cert)
      .replaceAll('/etc/ssl/app.key', cert.key)
      .replaceAll('/etc/nginx/oidc.secret', secret);
    assert.notEqual(conf, text, `${file}: loads the module from /usr/lib/nginx/modules`);
    const confPath = path.join(prefix, 'nginx.conf');
    fs.writeFileSync(confPath, conf);
    const res = await nginxT(prefix, confPath);
    assert.equal(res.code, 0, `${file}:\n${res.stderr}`);
    assert.match(res.stderr, /test is successful/, file);
    assert.doesNotMatch(res.stderr, /\[(warn|emerg|alert|crit)\]/, `${file}:\n${res.stderr}`);
  }
});
