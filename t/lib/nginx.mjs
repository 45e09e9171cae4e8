// Runs nginx (foreground master + workers) in a private prefix directory.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from './http.mjs';
import { portOpen } from './ports.mjs';
import { captureStream, sleep, tail, verbose, waitExit, waitFor } from './util.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MODULE_PATH = process.env.AUTH_OIDC_MODULE
  || path.join(REPO, 'build', 'ngx_http_auth_oidc_module.so');
export const NGINX_BIN = process.env.NGINX_BIN || '/usr/sbin/nginx';

/** Lines no test may leave in error.log or nginx's stderr. */
export const FORBIDDEN_LOG = /\[(alert|crit|emerg)\]|Sanitizer|runtime error:|AddressSanitizer|LeakSanitizer/;

const live = new Set();
process.on('exit', () => { for (const n of live) n.killHard(); });

/** Children of `ppid` according to /proc. */
export function childPids(ppid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid && fields[0] !== 'Z') out.push(Number(d));
    } catch { /* process went away */ }
  }
  return out.sort((a, b) => a - b);
}

export function moduleExists() {
  return fs.existsSync(MODULE_PATH);
}

export class Nginx {
  /**
   * prefix: directory (created); http: the http{} body;
   * opts: workers (1), errorLogLevel ('info'), withModule (true),
   *       port (default: first "listen" port in the body), main (extra
   *       main-context directives), events (extra events{} directives),
   *       statusPath ('/status').
   */
  constructor(prefix, http, opts = {}) {
    this.prefix = path.resolve(prefix);
    this.http = http;
    this.workers = opts.workers ?? 1;
    this.errorLogLevel = opts.errorLogLevel ?? 'info';
    this.withModule = opts.withModule ?? true;
    this.main = opts.main ?? '';
    this.events = opts.events ?? '';
    this.statusPath = opts.statusPath ?? '/status';
    this.port = opts.port ?? Nginx.listenPort(http);
    this.confPath = path.join(this.prefix, 'nginx.conf');
    this.errorLogPath = path.join(this.prefix, 'error.log');
    this.accessLogPath = path.join(this.prefix, 'access.log');
    this.pidPath = path.join(this.prefix, 'nginx.pid');
    this.proc = null;
    this.started = false;
    this.stderr = { text: '' };
    this.stopInfo = null;
  }

  static listenPort(http) {
    const m = /\blisten\s+(?:127\.0\.0\.1:|localhost:)?(\d+)/.exec(http || '');
    return m ? Number(m[1]) : undefined;
  }

  get url() { return `http://127.0.0.1:${this.port}`; }
  get pid() { return this.proc?.pid; }

  renderConfig() {
    const p = this.prefix;
    const load = this.withModule ? `load_module ${MODULE_PATH};\n` : '';
    return `${load}
daemon off;
master_process on;
worker_processes ${this.workers};
error_log ${this.errorLogPath} ${this.errorLogLevel};
pid ${this.pidPath};
${this.main}

events {
    worker_connections 1024;
${this.events}
}

http {
    access_log ${this.accessLogPath};
    client_body_temp_path ${p}/tmp/body;
    proxy_temp_path ${p}/tmp/proxy;
    fastcgi_temp_path ${p}/tmp/fastcgi;
    uwsgi_temp_path ${p}/tmp/uwsgi;
    scgi_temp_path ${p}/tmp/scgi;

${this.http}
}
`;
  }

  writeConfig() {
    if (this.withModule && !fs.existsSync(MODULE_PATH)) {
      throw new Error(`auth_oidc module not found at ${MODULE_PATH}: run make first (or set AUTH_OIDC_MODULE)`);
    }
    fs.mkdirSync(path.join(this.prefix, 'tmp'), { recursive: true, mode: 0o755 });
    fs.chmodSync(this.prefix, 0o755);
    fs.writeFileSync(this.confPath, this.renderConfig(), { mode: 0o644 });
  }

  args(extra = []) {
    return ['-p', `${this.prefix}/`, '-c', this.confPath, '-e', this.errorLogPath, ...extra];
  }

  /** `nginx -t`: resolves {code, stdout, stderr, ok}. */
  test() {
    this.writeConfig();
    return new Promise((resolve) => {
      execFile(NGINX_BIN, this.args(['-t']), { timeout: 30000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, ok: code === 0, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }

  /** Start nginx; resolves when the port answers and all workers exist. */
  async start({ timeout = 10000 } = {}) {
    if (this.proc) throw new Error('nginx already running');
    if (!this.port) throw new Error('no listen port: pass opts.port or use "listen 127.0.0.1:PORT" in the config');
    this.writeConfig();
    const proc = spawn(NGINX_BIN, this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.started = true;
    this.stopInfo = null;
    live.add(this);
    this.stderr = captureStream(proc.stderr, { echo: verbose() ? process.stderr : null });
    captureStream(proc.stdout, { echo: verbose() ? process.stderr : null });
    let exited = null;
    proc.once('exit', (code, signal) => { exited = { code, signal }; live.delete(this); });
    proc.once('error', (err) => { exited = { error: err }; });
    try {
      await waitFor(async () => {
        if (exited) throw Object.assign(new Error('exited'), { fatal: true });
        return (await portOpen(this.port)) && this.workerPids().length >= this.workers;
      }, { timeout, interval: 25, what: `nginx on port ${this.port}` });
    } catch (err) {
      if (!exited) await this.killHard();
      const why = exited
        ? `nginx exited during start (${JSON.stringify(exited.error?.message ?? exited)})`
        : err.message.split('\n')[0];
      throw new Error(`${why}\n--- stderr ---\n${tail(this.stderr.text, 30)}\n--- error.log ---\n${tail(this.errorLog(), 40)}`);
    }
    return this;
  }

  /** Worker pids (children of the master), excluding zombies. */
  workerPids() {
    return this.proc ? childPids(this.proc.pid) : [];
  }

  /**
   * Reload (SIGHUP); if `http` is given the config is rewritten first.
   * Resolves when `workers` new worker processes exist and the old ones have
   * exited (waits for those at most `oldTimeout` ms: they may be busy with
   * long requests); rejects with the [emerg] line if the new configuration
   * was refused.
   */
  async reload(http, { timeout = 10000, oldTimeout = 5000 } = {}) {
    if (!this.proc) throw new Error('nginx is not running');
    if (http !== undefined) this.http = http;
    this.writeConfig();
    const old = new Set(this.workerPids());
    const logOffset = this.errorLog().length;
    process.kill(this.proc.pid, 'SIGHUP');
    await waitFor(() => {
      const fresh = this.errorLog().slice(logOffset);
      const emerg = /.*\[emerg\].*/.exec(fresh);
      if (emerg) throw Object.assign(new Error(`reload refused: ${emerg[0]}`), { fatal: true });
      return this.workerPids().filter((p) => !old.has(p)).length >= this.workers;
    }, {
      timeout, interval: 25, what: 'new nginx workers after reload',
      describe: () => tail(this.errorLog().slice(logOffset), 20),
    }).catch((err) => {
      const m = /reload refused: .*/.exec(err.message);
      throw new Error(m ? m[0] : err.message);
    });
    await waitFor(() => !this.workerPids().some((p) => old.has(p)), { timeout: oldTimeout, interval: 25 })
      .catch(() => {});
    return this;
  }

  /**
   * Graceful stop: SIGQUIT, then SIGTERM after `graceful` ms, then SIGKILL.
   * Resolves {graceful, ms, code, signal}.
   */
  async stop({ graceful = 5000 } = {}) {
    if (!this.proc) return this.stopInfo;
    const proc = this.proc;
    const t0 = Date.now();
    proc.kill('SIGQUIT');
    let res = await waitExit(proc, graceful);
    let wasGraceful = Boolean(res);
    if (!res) {
      proc.kill('SIGTERM');
      res = await waitExit(proc, 2000);
    }
    if (!res) {
      await this.killHard();
      res = await waitExit(proc);
    }
    this.proc = null;
    live.delete(this);
    this.stopInfo = { graceful: wasGraceful, ms: Date.now() - t0, code: res.code, signal: res.signal };
    return this.stopInfo;
  }

  /** SIGKILL master and workers (also used from process 'exit'). */
  killHard() {
    if (!this.proc) return;
    const pids = [this.proc.pid, ...this.workerPids()];
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }

  errorLog() {
    try { return fs.readFileSync(this.errorLogPath, 'utf8'); } catch { return ''; }
  }

  accessLog() {
    try { return fs.readFileSync(this.accessLogPath, 'utf8'); } catch { return ''; }
  }

  /** Forbidden lines ([alert]/[crit]/[emerg]/sanitizer) not matching `allow`. */
  problems({ allow = [] } = {}) {
    const text = `${this.errorLog()}\n${this.stderr.text}`;
    return text.split('\n')
      .filter((l) => FORBIDDEN_LOG.test(l))
      .filter((l) => !allow.some((re) => re.test(l)));
  }

  /** Wait for a line matching `re` in error.log; resolves the match. */
  waitForLog(re, { timeout = 10000 } = {}) {
    return waitFor(() => re.exec(this.errorLog()), {
      timeout, interval: 50, what: `error.log line matching ${re}`,
      describe: () => `--- error.log tail ---\n${tail(this.errorLog(), 30)}`,
    });
  }

  /** HTTP request to this nginx: {status, headers, body, ms, json()}. */
  get(pathname, opts = {}) {
    return request(`${this.url}${pathname}`, opts);
  }

  /** GET the status location and parse it (asserts 200 + JSON). */
  async status() {
    const r = await this.get(this.statusPath);
    if (r.status !== 200) throw new Error(`${this.statusPath} answered ${r.status}: ${r.body.slice(0, 500)}`);
    if (!/application\/json/.test(r.headers['content-type'] || '')) {
      throw new Error(`${this.statusPath} content-type is ${r.headers['content-type']}`);
    }
    return JSON.parse(r.body);
  }

  /** Status object of one provider (throws if missing). */
  async providerStatus(name) {
    const s = await this.status();
    const p = s?.providers?.[name];
    if (!p) throw new Error(`provider "${name}" missing from status: ${JSON.stringify(s)}`);
    return p;
  }

  /**
   * Poll the status of provider `name` until `pred(p)` is true (or, if `pred`
   * is a string, until p.state equals it). Resolves the provider status.
   */
  async waitProvider(name, pred, { timeout = 10000, interval = 100 } = {}) {
    const test = typeof pred === 'string' ? (p) => p.state === pred : pred;
    let last;
    return waitFor(async () => {
      last = await this.providerStatus(name);
      return test(last) ? last : null;
    }, {
      timeout, interval, what: `provider "${name}" status ${typeof pred === 'string' ? `"${pred}"` : 'condition'}`,
      describe: () => `last status: ${JSON.stringify(last, null, 1)}\n--- error.log tail ---\n${tail(this.errorLog(), 20)}`,
    });
  }
}

export { sleep };
