// What bench/run.mjs and bench/load.mjs share: /proc readings, the fake OP
// in a child process, wrk runs and their parsing, the nginx configurations
// under test, the login loop and the output helpers.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { UserAgent } from '../t/lib/browser.mjs';
import { assertSessionCookie, NAV, passFakeOp, startLogin } from '../t/lib/login.mjs';
import { MODULE_PATH, NGINX_BIN } from '../t/lib/nginx.mjs';
import { freePort } from '../t/lib/ports.mjs';
import { REDIS_SERVER } from '../t/lib/redis.mjs';
import { removeTempDir } from '../t/lib/tmp.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const WRK = process.env.WRK_BIN || '/usr/bin/wrk';
const WRK_LUA = path.join(HERE, 'wrk-report.lua');
const WRK_COOKIES_LUA = path.join(HERE, 'wrk-cookies.lua');
export const CLK_TCK = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();


// ------------------------------------------------------------------ /proc

/** utime+stime of a process in ms. */
export function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** {rss, anon} in kB from /proc/<pid>/status (VmRSS, RssAnon). */
export function memKb(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

export function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  // version banners go to stdout or stderr depending on the tool
  const run = (bin, args) => {
    const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 10000 });
    return `${r.stdout || ''}${r.stderr || ''}`.trim() || String(r.error?.message ?? '');
  };
  const nginxVersion = run(NGINX_BIN, ['-v']);
  const stat = fs.statSync(MODULE_PATH);
  return {
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    cpu: model,
    kernel: os.release(),
    nginx: nginxVersion.trim(),
    wrk: run(WRK, ['-v']).split('\n')[0].trim(),
    redis: run(REDIS_SERVER, ['--version']).split('\n')[0].trim(),
    node: process.version,
    module: `${MODULE_PATH} (${(stat.size / 1048576).toFixed(1)} MB, built ${stat.mtime.toISOString()})`,
    loadavgStart: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

// ------------------------------------------------------------------ stats

export const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};


// ------------------------------------------------------------------ processes

export const wrks = new Set();
process.on('exit', () => { for (const c of wrks) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

/**
 * Stops what `h` started (and any wrk) once: on demand with shutdown(),
 * which resolves the cleanup's problems, or on SIGINT, SIGTERM or SIGHUP,
 * then exits 130 (a second Ctrl-C exits at once; exit handlers SIGKILL the
 * rest). interrupted() says whether a signal came.
 */
export function stopOnSignals(h) {
  let stopping = null;
  let interrupted = false;
  const shutdown = () => {
    stopping ??= (async () => {
      for (const c of wrks) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
      const problems = await h.cleanup();
      removeTempDir(h.dir);
      return problems;
    })();
    return stopping;
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      process.stderr.write(`\n# ${sig}: stopping everything...\n`);
      shutdown().finally(() => process.exit(130));
    });
  }
  return { shutdown, interrupted: () => interrupted };
}

/** The audience of the fake OP's access tokens (bearer_audience). */
export const BENCH_AUDIENCE = 'https://bench-api.test';

/** The fake OP (t/lib/fake-op.mjs) in a child process: {issuer, pid, stats(), accessToken()}. */
export async function startOpChild(h, env = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(HERE, 'fake-op-child.mjs')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env, BENCH_OP_PORT: String(port), BENCH_AUDIENCE },
  });
  const killChild = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
  process.on('exit', killChild);
  h.defer(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(killChild, 2000);
    await exited;
    clearTimeout(timer);
  });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fake OP child did not start within 10 s')), 10000);
    child.once('message', (m) => { clearTimeout(timer); resolve(m); });
    child.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`fake OP child exited (${code ?? sig})`)); });
  });
  let seq = 0;
  const waiting = new Map();
  child.on('message', (m) => {
    const cb = waiting.get(m.id);
    waiting.delete(m.id);
    cb?.(m.result);
  });
  const ask = (cmd) => new Promise((resolve, reject) => {
    seq += 1;
    const id = seq;
    const timer = setTimeout(() => { waiting.delete(id); reject(new Error(`fake OP ${cmd}: no answer`)); }, 5000);
    waiting.set(id, (s) => { clearTimeout(timer); resolve(s); });
    child.send({ id, cmd });
  });
  return {
    issuer: ready.issuer,
    pid: child.pid,
    tokenBytes: ready.tokenBytes,
    stats: () => ask('stats'),
    /** A JWT access token (RFC 9068) for audience BENCH_AUDIENCE, an hour long. */
    accessToken: () => ask('accessToken'),
  };
}

/** One response read byte for byte over a keep-alive connection, as wrk sends it. */
export function probe(port, cookie, header = cookie ? `Cookie: ${cookie}` : '') {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`probe of port ${port} timed out`)); }, 5000);
    const done = (v) => { clearTimeout(timer); sock.destroy(); resolve(v); };
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length >= end + 4 + len) {
        done({
          status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]),
          bytes: end + 4 + len,
          head,
          body: buf.subarray(end + 4, end + 4 + len).toString('utf8'),
        });
      }
    });
    sock.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${header ? `${header}\r\n` : ''}\r\n`);
  });
}

export const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60000 };

/** wrk's text report (--latency) and the BENCHJSON line of wrk-report.lua. */
export function parseWrk(text) {
  const out = { latencyMs: {} };
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  out.rps = rps ? Number(rps[1]) : NaN;
  for (const m of text.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$/gm)) {
    out.latencyMs[`p${m[1]}`] = Number(m[2]) * UNIT_MS[m[3]];
  }
  const nonOk = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  out.non2xx3xx = nonOk ? Number(nonOk[1]) : 0;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  out.socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const j = /^BENCHJSON (.*)$/m.exec(text);
  out.exact = j ? JSON.parse(j[1]) : null;
  return out;
}

/**
 * One wrk run. Either `cookie` (one Cookie header value on every request, a
 * static request; none when empty), `header` (one whole header line, such
 * as an Authorization, instead), or `cookieFile` (one Cookie header value
 * per line, taken in turn by wrk-cookies.lua, which costs wrk a Lua call per
 * request).
 */
export async function runWrk(url, {
  duration, connections, threads, cookie, header = cookie ? `Cookie: ${cookie}` : '', cookieFile, pin,
}) {
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${duration}s`, '--latency',
    ...(cookieFile ? ['-s', WRK_COOKIES_LUA, url, '--', cookieFile]
      : ['-s', WRK_LUA, ...(header ? ['-H', header] : []), url])];
  const [bin, argv] = pin ? ['taskset', ['-c', '1', WRK, ...args]] : [WRK, args];
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  wrks.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const killer = setTimeout(() => child.kill('SIGKILL'), (duration + 20) * 1000);
  const code = await new Promise((resolve) => {
    child.once('exit', (c, s) => resolve(c ?? s));
    child.once('error', (err) => resolve(err.message));
  });
  clearTimeout(killer);
  wrks.delete(child);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${stderr}${stdout}`);
  const r = parseWrk(stdout);
  if (!Number.isFinite(r.rps) || r.latencyMs.p99 === undefined) throw new Error(`cannot parse wrk output:\n${stdout}`);
  r.text = stdout;
  return r;
}


// ------------------------------------------------------------------ nginx configs

export const COMMON = `
        access_log off;
        keepalive_requests 100000;`;
export const PROXY = `
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;`;
export const CLAIM_HEADERS = `
            proxy_set_header X-User $oidc_claim_sub;
            proxy_set_header X-Email $oidc_claim_email;`;
export const upstreamBlock = (port) => `
    upstream app {
        server 127.0.0.1:${port};
        keepalive 32;
    }`;

/** The upstream: a second nginx, without the module, answering 200 "ok\n"; resolves its port. */
export async function startUpstream(h) {
  const port = await freePort();
  const upstream = h.nginx(`
    server {
        listen 127.0.0.1:${port};${COMMON}
        location / { return 200 "ok\\n"; }
    }`, { withModule: false, workers: 1 });
  await upstream.start();
  return port;
}

export function frontServer(port, { auth, bearer, claims, status }) {
  return `
    server {
        listen 127.0.0.1:${port};${COMMON}
        location / {${auth ? '\n            auth_oidc op;' : ''}${bearer ? '\n            auth_oidc_bearer op;' : ''}${claims ? CLAIM_HEADERS : ''}${PROXY}
        }${status ? '\n        location = /status { oidc_status; }' : ''}
    }`;
}


// ------------------------------------------------------------------ logins

/**
 * Logins through nginx at `base` with the fake OP, `concurrency` at a time,
 * until `seconds` have passed or `count` logins succeeded. Each login is a
 * fresh user agent: GET / (302 to the OP), the OP's /auth (302 back), the
 * callback (302 with the session cookie); times each step. `cookies` keeps
 * a uniform sample of `sample` of the session cookies (reservoir sampling).
 */
export async function loginLoop(base, { concurrency, seconds, count, sample = 4 }) {
  const acc = {
    logins: 0, errors: 0, firstError: null, redirectMs: 0, authMs: 0, callbackMs: 0, cookies: [],
  };
  const t0 = performance.now();
  const deadline = seconds ? t0 + seconds * 1000 : Infinity;
  let started = 0;
  const more = () => performance.now() < deadline && (count === undefined || started < count);
  async function worker() {
    while (more()) {
      started += 1;
      const ua = new UserAgent();
      const a = performance.now();
      try {
        const { authUrl } = await startLogin(ua, base, '/');
        const b = performance.now();
        const callbackUrl = await passFakeOp(ua, authUrl, base);
        const c = performance.now();
        const res = await ua.fetch(callbackUrl, { headers: NAV });
        assert.equal(res.status, 302, `callback answered ${res.status}: ${res.body.slice(0, 200)}`);
        const cookie = assertSessionCookie(res);
        const d = performance.now();
        acc.logins += 1;
        acc.redirectMs += b - a;
        acc.authMs += c - b;
        acc.callbackMs += d - c;
        if (acc.cookies.length < sample) acc.cookies.push(cookie);
        else {
          const j = Math.floor(Math.random() * acc.logins);
          if (j < sample) acc.cookies[j] = cookie;
        }
      } catch (err) {
        started -= 1;
        acc.errors += 1;
        acc.firstError ??= err.message.split('\n')[0];
        if (acc.errors >= 20 && acc.errors > acc.logins) {
          throw new Error(`logins through ${base} keep failing: ${acc.firstError}`);
        }
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  acc.seconds = (performance.now() - t0) / 1000;
  return acc;
}


export const SHM_STORE = 'auth_oidc_sessions';

export async function storeEntries(ngx, store) {
  const s = (await ngx.status()).stores?.[store];
  if (!s) throw new Error(`oidc_status has no store "${store}": ${JSON.stringify(await ngx.status())}`);
  return s;
}


export const fmtMs = (ms) => (!Number.isFinite(ms) ? '-' : ms < 1 ? `${(ms * 1000).toFixed(0)}us` : ms < 100 ? `${ms.toFixed(2)}ms` : `${ms.toFixed(0)}ms`);
export const fmtPct = (x) => (!Number.isFinite(x) ? '-' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);
export const pad = (s, n) => String(s).padEnd(n);
export const padl = (s, n) => String(s).padStart(n);

export function table(headers, rows, align) {
  const widths = headers.map((hd, i) => Math.max(hd.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (align[i] === 'r' ? padl(c, widths[i]) : pad(c, widths[i]))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

