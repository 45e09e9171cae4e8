// Per-test harness: a fresh temp dir, free ports, and every server/nginx the
// test starts, all torn down afterwards. After each test the error.log of
// every nginx that was started must have no [alert]/[crit]/[emerg]/sanitizer
// lines, and nginx must exit on SIGQUIT within 5 s.
//
//   import { itest } from './lib/harness.mjs';
//   itest('provider becomes ready', async (h) => {
//     const idp = await h.provider();
//     const ngx = await h.nginx(`server { listen 127.0.0.1:${await h.port()}; ... }`).start();
//   });
import path from 'node:path';
import { test } from 'node:test';
import { makeTestPKI } from './ca.mjs';
import { echoServer } from './echo.mjs';
import { fakeOp } from './fake-op.mjs';
import { hangServer, staticServer } from './faults.mjs';
import { Nginx } from './nginx.mjs';
import { freePort } from './ports.mjs';
import { OidcProvider } from './provider.mjs';
import { makeTempDir, removeTempDir } from './tmp.mjs';
import { tail } from './util.mjs';

export class Harness {
  constructor(name) {
    this.name = name;
    this.dir = makeTempDir(name);
    this.cleanups = [];
    this.nginxes = [];
    this.allowed = [];
    this.gracefulStop = 5000;
  }

  defer(fn) { this.cleanups.push(fn); }

  port() { return freePort(); }

  /** Allow log lines matching these regexes in the post-test check. */
  allowLog(...res) { this.allowed.push(...res); }

  /** New (not started) Nginx in <dir>/nginx[N]. See Nginx for opts. */
  nginx(http, opts = {}) {
    const n = this.nginxes.length;
    const ngx = new Nginx(path.join(this.dir, n ? `nginx${n + 1}` : 'nginx'), http, opts);
    this.nginxes.push(ngx);
    this.defer(async () => {
      if (!ngx.proc) return;
      const info = await ngx.stop({ graceful: this.gracefulStop });
      if (!info.graceful) {
        throw new Error(`nginx did not exit within ${this.gracefulStop} ms of SIGQUIT `
          + '(a non-cancelable timer or a connection the module keeps open?)');
      }
    });
    return ngx;
  }

  /** oidc-provider child (started unless opts.start === false). */
  async provider(opts = {}) {
    const p = new OidcProvider(opts);
    this.defer(() => p.stop());
    if (opts.start !== false) await p.start();
    return p;
  }

  /** Test CA, server cert (localhost/127.0.0.1) and an unrelated CA. */
  pki() {
    this._pki ??= makeTestPKI(this.dir);
    return this._pki;
  }

  async hang(opts) { const s = await hangServer(opts); this.defer(() => s.close()); return s; }

  async static(routes, opts) { const s = await staticServer(routes, opts); this.defer(() => s.close()); return s; }

  async echo(opts) { const s = await echoServer(opts); this.defer(() => s.close()); return s; }

  /** Scriptable fake OpenID provider (t/lib/fake-op.mjs). */
  async fakeOp(opts) { const s = await fakeOp(opts); this.defer(() => s.close()); return s; }

  logs() {
    return this.nginxes.filter((n) => n.started).map((n) => [
      `--- ${n.errorLogPath} (tail) ---`, tail(n.errorLog(), 80),
      n.stderr.text.trim() ? `--- nginx stderr ---\n${tail(n.stderr.text, 40)}` : '',
    ].filter(Boolean).join('\n')).join('\n');
  }

  /** Tear everything down (LIFO, each step at most 20 s); returns a list of problems. */
  async cleanup() {
    const problems = [];
    while (this.cleanups.length) {
      const fn = this.cleanups.pop();
      try {
        await withTimeout(Promise.resolve().then(fn), 20000, `cleanup step ${fn.toString().slice(0, 60)}`);
      } catch (err) { problems.push(err.message); }
    }
    for (const n of this.nginxes.filter((x) => x.started)) {
      const bad = n.problems({ allow: this.allowed });
      if (bad.length) problems.push(`forbidden lines in ${n.errorLogPath} / stderr:\n${bad.join('\n')}`);
    }
    return problems;
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => {
      const active = process.getActiveResourcesInfo().join(', ');
      reject(new Error(`${what} did not finish within ${ms} ms (active resources: ${active})`));
    }, ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

const keepHint = (dir) => (process.env.TEST_NGINX_LEAVE === '1'
  ? `(test files kept in ${dir})` : '(set TEST_NGINX_LEAVE=1 to keep the test directory)');

/**
 * Like node:test's test(), but `fn` gets (h, t) with a fresh Harness.
 * options.timeout (default 90 s) bounds `fn`; cleanup always runs after it.
 * On failure the error.log tails are appended to the error message;
 * TEST_NGINX_CATLOG=1 prints them always.
 */
export function itest(name, options, fn) {
  if (typeof options === 'function') { fn = options; options = {}; }
  const { timeout = 90000, ...testOptions } = options;
  return test(name, testOptions, async (t) => {
    const h = new Harness(name);
    let failure = null;
    try {
      await withTimeout(fn(h, t), timeout, `test "${name}"`);
    } catch (err) {
      failure = err;
    }
    const problems = await h.cleanup();
    const logs = h.logs();
    if (process.env.TEST_NGINX_CATLOG === '1' && logs) process.stderr.write(`# ${name}\n${logs}\n`);
    removeTempDir(h.dir);
    if (failure) {
      const extra = [problems.length ? `cleanup problems:\n${problems.join('\n')}` : '', logs,
        keepHint(h.dir)].filter(Boolean).join('\n');
      if (failure instanceof Error) {
        try { failure.message += `\n${extra}`; } catch { /* read-only message */ }
      }
      throw failure;
    }
    if (problems.length) {
      throw new Error(`${problems.join('\n')}\n${logs}\n${keepHint(h.dir)}`);
    }
  });
}
