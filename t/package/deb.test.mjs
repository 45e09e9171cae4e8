// The Debian package (make deb) on this machine, as root (make test-deb,
// run by CI on a fresh Debian 12): it installs, nginx loads the module
// through /etc/nginx/modules-enabled, the demo's login works with the
// installed module, and removal then purge leave nothing behind.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { itest } from '../lib/harness.mjs';
import { REPO } from '../lib/nginx.mjs';

const DEB = process.env.DEB_FILE;
const PKG = 'libnginx-mod-http-auth-oidc';
const SO = '/usr/lib/nginx/modules/ngx_http_auth_oidc_module.so';
const AVAILABLE = '/usr/share/nginx/modules-available/mod-http-auth-oidc.conf';
const ENABLED = '/etc/nginx/modules-enabled/50-mod-http-auth-oidc.conf';

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 120000, maxBuffer: 16 << 20, ...opts }, (err, stdout, stderr) => resolve({
      code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr),
    }));
  });
}

const exists = (p) => { try { fs.lstatSync(p); return true; } catch { return false; } };

/** Everything of the package anywhere it could be. */
function leftovers() {
  return [SO, AVAILABLE, ENABLED, `${ENABLED}.removed`, `/usr/share/doc/${PKG}`].filter(exists);
}

itest('make deb: the package installs, loads through modules-enabled, runs the demo, and remove + purge leave nothing', { timeout: 600000 }, async (h, t) => {
  assert.ok(DEB && fs.existsSync(DEB), `DEB_FILE=${DEB}: run make test-deb`);
  assert.equal(process.getuid(), 0, 'installing a package needs root');
  assert.notEqual((await run('dpkg-query', ['-W', PKG])).code, 0, `${PKG} must not be installed before the test`);
  h.defer(() => run('dpkg', ['--purge', PKG]));

  await t.test('the package: nginx-abi and the linked libraries in Depends, the module and its load file', async () => {
    const depends = (await run('dpkg-deb', ['-f', DEB, 'Depends'])).stdout;
    const abi = fs.readFileSync('/usr/share/nginx/src/debian/libnginx-mod.abisubstvars', 'utf8')
      .match(/^nginx:abi=(\S+)/m)[1];
    assert.match(depends, new RegExp(`\\b${abi.replace(/[.]/g, '\\.')}\\b`), `Depends names ${abi}: ${depends}`);
    // OpenSSL's symbols come from nginx itself, as for Debian's own modules
    for (const lib of ['libcjose0', 'libjansson4', 'libhiredis0.14', 'libstdc\\+\\+6', 'libc6']) {
      assert.match(depends, new RegExp(`\\b${lib}\\b`), `Depends (dpkg-shlibdeps) names ${lib}: ${depends}`);
    }
    const files = (await run('dpkg-deb', ['-c', DEB])).stdout;
    for (const f of [SO, AVAILABLE, `/usr/share/doc/${PKG}/copyright`, `/usr/share/doc/${PKG}/changelog.gz`]) {
      assert.match(files, new RegExp(` \\.${f.replace(/[.+]/g, '\\$&')}\\n`), `${f} in the package`);
    }
  });

  await t.test('dpkg -i: the module, its load file, and the modules-enabled link', async () => {
    const res = await run('dpkg', ['-i', DEB]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.ok(fs.existsSync(SO));
    assert.equal(fs.readFileSync(AVAILABLE, 'utf8'), 'load_module modules/ngx_http_auth_oidc_module.so;\n');
    assert.equal(fs.readlinkSync(ENABLED), AVAILABLE);
  });

  await t.test('nginx -t loads it through modules-enabled: its directives are known; the system configuration still passes', async () => {
    const dir = path.join(h.dir, 'conf');
    fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
    const conf = path.join(dir, 'nginx.conf');
    const port = await h.port();
    fs.writeFileSync(conf, `include /etc/nginx/modules-enabled/*.conf;
events {}
http {
    oidc_provider idp { issuer http://127.0.0.1:9; client_id app; }
    server { listen 127.0.0.1:${port}; location / { auth_oidc idp; } }
}
`);
    // nginx's own prefix: load_module's modules/ is /usr/share/nginx/modules
    const res = await run('/usr/sbin/nginx', ['-t', '-c', conf, '-e', path.join(dir, 'error.log'),
      '-g', `pid ${path.join(dir, 'nginx.pid')};`]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /test is successful/);
    const system = await run('/usr/sbin/nginx', ['-t']);
    assert.equal(system.code, 0, system.stderr);
  });

  await t.test('the demo logs in with the installed module', async () => {
    // a test run of its own, not a subtest of this one
    const env = { ...process.env, AUTH_OIDC_MODULE: SO };
    delete env.NODE_TEST_CONTEXT;
    const res = await new Promise((resolve) => {
      const p = spawn(process.execPath, ['--test', path.join(REPO, 't/demo_login.test.mjs')], {
        env, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { out += d; });
      p.on('exit', (code) => resolve({ code, out }));
    });
    assert.equal(res.code, 0, res.out);
    assert.match(res.out, /# pass [1-9]/);
  });

  await t.test('dpkg -r: the module and its load file go, the link is put aside; nginx -t still passes', async () => {
    const res = await run('dpkg', ['-r', PKG]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.ok(!exists(SO) && !exists(AVAILABLE) && !exists(ENABLED), leftovers().join(', '));
    const system = await run('/usr/sbin/nginx', ['-t']);
    assert.equal(system.code, 0, system.stderr);
  });

  await t.test('dpkg -P: nothing is left', async () => {
    const res = await run('dpkg', ['-P', PKG]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.deepEqual(leftovers(), []);
    assert.notEqual((await run('dpkg-query', ['-W', PKG])).code, 0, 'not known to dpkg any more');
  });
});
