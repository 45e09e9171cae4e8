#!/usr/bin/env node
// Load and scale run of ngx_http_auth_oidc_module (`make load`): many logins
// into one shared-memory store, the cost of a request as the store grows
// (requests spread over a sample of all sessions), then a long run of
// authenticated requests; throughout, worker pids, worker memory and the
// error log are watched. See bench/README.md, "Load and store size".
//
// Like bench/run.mjs, everything runs on 127.0.0.1 in a temp directory and
// is stopped on exit, Ctrl-C included; the servers are the test suite's own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Harness } from '../t/lib/harness.mjs';
import { COOKIE, providerBlock } from '../t/lib/login.mjs';
import { moduleExists, MODULE_PATH } from '../t/lib/nginx.mjs';
import { freePort } from '../t/lib/ports.mjs';
import {
  REDIS_SERVER, redisAvailable, redisStore, secretFile, startRedis,
} from '../t/lib/redis.mjs';
import { tail } from '../t/lib/util.mjs';
import {
  cpuMs, fmtMs, frontServer, loginLoop, machine, median, memKb, probe, runWrk,
  startOpChild, startUpstream, stopOnSignals, storeEntries, table, upstreamBlock, WRK,
} from './lib.mjs';

const USAGE = `usage: node bench/load.mjs [options]
  --sessions LIST      store sizes to measure at, in logins (default 1000,10000,100000);
                       the largest is the number of logins of the run
  --requests N         authenticated requests of the long run at the end (default 1000000)
  --sample N           sessions the requests spread over (default 10000)
  --pending N          then add N started logins (GET / without a cookie, by wrk) to
                       the store and measure once more: a store of sessions + N
                       entries without N more complete logins (default 0)
  --seconds S          seconds per wrk run at each store size (default 5; 2 rounds)
  --connections N      wrk connections (default 32; wrk runs 1 thread)
  --workers N          nginx workers of the nginx under test and the baseline (default 2)
  --store shm|redis    where the sessions live (default shm: one shared-memory zone
                       sized for the largest --sessions)
  --tokens small|realistic  the fake OP's tokens: small (an 0.9 KB ID token, a 43-byte
                       access token; default) or realistic (1.5 KB ID token, 1.5 KB JWT
                       access token, 0.8 KB refresh token with --keep all)
  --keep none|all      what sessions keep: none (the configuration names no token and
                       has revoke_tokens off, the OP issues no refresh token; default)
                       or all (session_tokens all, and a refresh token)
  --zone SIZE          the shm zone's size (e.g. 3584m); default: sized for the largest
                       --sessions; the run fails if a session is evicted
  --login-concurrency N  logins in flight (default 8)
  --quick              smoke run: --sessions 200,1000 --requests 50000 --seconds 2
  --json               also print the results as JSON
Environment: AUTH_OIDC_MODULE, NGINX_BIN (t/lib/nginx-asan.sh for a sanitizer
run), WRK_BIN, TEST_NGINX_LEAVE=1, TEST_VERBOSE=1.`;

function parseArgs(argv) {
  const o = {
    sessions: [1000, 10000, 100000], requests: 1000000, sample: 10000, pending: 0, seconds: 5, connections: 32,
    threads: 1, workers: 2, loginConcurrency: 8, json: false, store: 'shm', tokens: 'small', keep: 'none', zone: null,
  };
  const num = (i) => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${argv[i]} needs a positive number`);
    return Math.round(v);
  };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    switch (a) {
      case '--sessions':
        o.sessions = String(argv[i + 1] || '').split(',').map(Number);
        if (!o.sessions.length || o.sessions.some((n) => !Number.isInteger(n) || n <= 0)) {
          throw new Error('--sessions needs a list of positive integers');
        }
        i += 1;
        break;
      case '--requests': o.requests = num(i); i += 1; break;
      case '--sample': o.sample = num(i); i += 1; break;
      case '--pending': o.pending = num(i); i += 1; break;
      case '--seconds': o.seconds = num(i); i += 1; break;
      case '--connections': o.connections = num(i); i += 1; break;
      case '--workers': o.workers = num(i); i += 1; break;
      case '--login-concurrency': o.loginConcurrency = num(i); i += 1; break;
      case '--store':
        o.store = argv[i + 1];
        if (!['shm', 'redis'].includes(o.store)) throw new Error('--store is shm or redis');
        i += 1;
        break;
      case '--tokens':
        o.tokens = argv[i + 1];
        if (!['small', 'realistic'].includes(o.tokens)) throw new Error('--tokens is small or realistic');
        i += 1;
        break;
      case '--keep':
        o.keep = argv[i + 1];
        if (!['none', 'all'].includes(o.keep)) throw new Error('--keep is none or all');
        i += 1;
        break;
      case '--zone': {
        const m = /^(\d+)([km]?)$/i.exec(argv[i + 1] || '');
        if (!m) throw new Error('--zone is a size such as 3584m');
        o.zone = Number(m[1]) * ({ k: 1024, m: 1048576 }[m[2].toLowerCase()] ?? 1);
        i += 1;
        break;
      }
      case '--quick': Object.assign(o, { sessions: [200, 1000], requests: 50000, seconds: 2 }); break;
      case '--json': o.json = true; break;
      case '-h': case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  o.sessions = [...new Set(o.sessions)].sort((a, b) => a - b);
  return o;
}

// What a session takes of the zone (bench/README.md, "Load and store
// size"): with no token kept 256 bytes, with every realistic token about
// 3.2 KiB, with the small tokens of the fake OP 512 bytes to 2 KiB; a
// started login a 256-byte slot. Slab bookkeeping and the hash buckets get
// the margin.
const zoneBytesPerSession = (o) => (o.tokens === 'realistic' ? (o.keep === 'all' ? 3584 : 512)
  : (o.keep === 'all' ? 2304 : 768));
const ZONE_BYTES_PER_PENDING = 400;
const STORE = 'load';

/** A uniform sample of k out of two uniform samples of na and nb items. */
function mergeSamples(a, na, b, nb, k) {
  const shuffled = (xs) => xs.map((x) => [Math.random(), x]).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
  const [sa, sb] = [shuffled(a), shuffled(b)];
  const out = [];
  while (out.length < k && (sa.length || sb.length)) {
    const fromA = !sb.length || (sa.length && Math.random() < na / (na + nb));
    out.push(fromA ? sa.pop() : sb.pop());
  }
  return out;
}

const workersCpuMs = (pids) => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
const workersMem = (pids) => Object.fromEntries(pids.map((pid) => [pid, memKb(pid)]));

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const log = (msg) => process.stderr.write(`# ${msg}\n`);
  if (!moduleExists()) throw new Error(`module not found at ${MODULE_PATH}: run make first (or set AUTH_OIDC_MODULE)`);
  if (!fs.existsSync(WRK)) throw new Error(`wrk not found at ${WRK}`);
  if (opts.store === 'redis' && !redisAvailable()) throw new Error(`redis-server not found at ${REDIS_SERVER}`);

  const info = machine();
  const h = new Harness('load');
  const { shutdown } = stopOnSignals(h);

  const maxSessions = opts.sessions[opts.sessions.length - 1];
  const zoneMb = opts.zone ? Math.ceil(opts.zone / 1048576)
    : Math.ceil((maxSessions * zoneBytesPerSession(opts) + opts.pending * ZONE_BYTES_PER_PENDING) / 1048576) + 32;
  const res = {
    machine: info, options: opts, zoneMb, checkpoints: [], logins: { total: 0, errors: 0, firstError: null },
    long: null, workers: {}, warnings: [],
  };
  const warn = (msg) => { res.warnings.push(msg); log(`WARNING: ${msg}`); };

  let ngx;
  let redis = null;
  // shm: the zone's entries (sessions and logins under way); Redis: its keys
  const entries = async () => (redis
    ? { entries: Number(await redis.cli('DBSIZE')), evicted: 0 }
    : storeEntries(ngx, STORE));
  try {
    log(`temp dir ${h.dir}`);
    const op = await startOpChild(h, {
      BENCH_TOKENS: opts.tokens, BENCH_REFRESH: opts.keep === 'all' ? '1' : '0',
    });
    res.tokenBytes = op.tokenBytes;
    const upPort = await startUpstream(h);

    const basePort = await freePort();
    const baseline = h.nginx(`${upstreamBlock(upPort)}
${frontServer(basePort, { auth: false })}`, { withModule: false, workers: opts.workers });
    const port = await freePort();
    let storeDirective = `    oidc_session_store ${STORE} size=${zoneMb}m;\n`;
    if (opts.store === 'redis') {
      redis = await startRedis(h);
      storeDirective = redisStore(STORE, redis.addr, { secret_file: secretFile(h.dir, 'oidc.secret') });
    }
    ngx = h.nginx(`
${storeDirective}${providerBlock('op', op.issuer, {
    session_store: STORE, login_timeout: '1h', ...(opts.keep === 'all' ? { session_tokens: 'all' } : { revoke_tokens: 'off' }),
  })}${upstreamBlock(upPort)}
${frontServer(port, { auth: true, claims: true, status: true })}
`, { workers: opts.workers });
    await baseline.start();
    await ngx.start();
    await ngx.waitProvider('op', 'ready');
    log(`nginx under test: ${opts.workers} worker(s), store "${STORE}" ${redis ? `in Redis ${redis.addr}` : `size=${zoneMb}m`}; fake OP pid ${op.pid}`);

    const pids = ngx.workerPids().slice().sort();
    const memStart = workersMem(pids);
    let sample = [];
    let expectBytes = null;
    const cookieFile = path.join(h.dir, 'cookies.txt');

    const steps = opts.sessions.map((target) => ({ target }));
    if (opts.pending) steps.push({ target: maxSessions, pending: opts.pending });
    for (const { target, pending } of steps) {
      const need = target - res.logins.total;
      if (need > 0) {
        log(`logins: ${need} more, to ${target} sessions`);
        const acc = await loginLoop(ngx.url, { concurrency: opts.loginConcurrency, count: need, sample: opts.sample });
        sample = mergeSamples(sample, res.logins.total, acc.cookies, acc.logins, opts.sample);
        res.logins.total += acc.logins;
        res.logins.errors += acc.errors;
        res.logins.firstError ??= acc.firstError;
        res.logins.seconds = (res.logins.seconds ?? 0) + acc.seconds;
        if (acc.errors) warn(`${acc.errors} failed logins on the way to ${target}: ${acc.firstError}`);
      }
      if (pending) {
        // started logins: every GET / without a cookie stores one and answers 302
        log(`started logins: ${pending} more, by wrk`);
        const goal = (await entries()).entries + pending;
        for (let left = pending; left > 0;) {
          const r = await runWrk(`http://127.0.0.1:${port}/`, { ...opts, duration: Math.max(1, Math.min(20, Math.ceil(left / 8000))), cookie: '' });
          const now = await entries();
          left = goal - now.entries;
          if (!r.exact?.requests) throw new Error('wrk made no requests while adding started logins');
          if (now.evicted) {
            warn(`the store evicted ${now.evicted} entries while adding started logins: it is full`);
            break;
          }
        }
      }
      const store = await entries();
      const status = await storeEntries(ngx, STORE);
      fs.writeFileSync(cookieFile, `${sample.map((c) => `${COOKIE}=${c}`).join('\n')}\n`);

      const p = await probe(port, `${COOKIE}=${sample[0]}`);
      if (p.status !== 200 || p.body !== 'ok\n') throw new Error(`a sampled session answers ${p.status}:\n${p.head}`);
      expectBytes = p.bytes;

      const runs = { baseline: [], module: [] };
      for (let round = 0; round < 2; round += 1) {
        for (const [label, server, serverPort] of [['baseline', baseline, basePort], ['module', ngx, port]]) {
          const wp = server.workerPids();
          const c0 = workersCpuMs(wp);
          const r = await runWrk(`http://127.0.0.1:${serverPort}/`, { ...opts, duration: opts.seconds, cookieFile });
          const c1 = workersCpuMs(wp);
          const requests = r.exact?.requests ?? r.rps * opts.seconds;
          const bytesPerReq = r.exact ? r.exact.bytes / r.exact.requests : NaN;
          const errors = r.exact ? Object.values(r.exact.errors).reduce((a, b) => a + b, 0) : r.socketErrors;
          if (errors || r.non2xx3xx || Math.abs(bytesPerReq - expectBytes) > expectBytes * 0.01) {
            warn(`${label} at ${target} sessions: ${errors} errors, ${r.non2xx3xx} non-2xx/3xx, `
              + `${bytesPerReq.toFixed(1)} bytes per response instead of ${expectBytes}`);
          }
          runs[label].push({ rps: r.rps, p50: r.latencyMs.p50, p99: r.latencyMs.p99, cpuUsPerReq: ((c1 - c0) * 1000) / requests });
        }
      }
      const m = (label, k) => median(runs[label].map((x) => x[k]));
      const cp = {
        sessions: res.logins.total, pending: pending ?? 0, entries: store.entries, evicted: store.evicted ?? 0, sampled: sample.length,
        rps: m('module', 'rps'), p50: m('module', 'p50'), p99: m('module', 'p99'), cpuUsPerReq: m('module', 'cpuUsPerReq'),
        baseRps: m('baseline', 'rps'), baseP99: m('baseline', 'p99'), baseCpuUsPerReq: m('baseline', 'cpuUsPerReq'),
        memKb: workersMem(pids),
        sessionBytes: status.session_bytes, evictedSessions: status.evicted_sessions ?? 0,
      };
      if (cp.evictedSessions) warn(`${cp.evictedSessions} live sessions evicted by ${target} sessions: the zone is too small`);
      cp.ratio = cp.rps / cp.baseRps;
      cp.moduleUsPerReq = cp.cpuUsPerReq - cp.baseCpuUsPerReq;
      res.checkpoints.push(cp);
      log(`${cp.sessions} sessions (${cp.entries} entries): ${cp.rps.toFixed(0)} req/s vs ${cp.baseRps.toFixed(0)} `
        + `(${cp.ratio.toFixed(3)}), worker CPU ${cp.cpuUsPerReq.toFixed(1)} us/req vs ${cp.baseCpuUsPerReq.toFixed(1)}`);
    }
    const memAfterLogins = workersMem(pids);

    // the long run: wrk in slices until opts.requests requests are done
    log(`long run: ${opts.requests} requests over ${sample.length} sessions`);
    const long = { requests: 0, errors: 0, non2xx3xx: 0, wrongBytes: 0, seconds: 0, slices: 0 };
    const c0 = workersCpuMs(pids);
    while (long.requests < opts.requests) {
      const lastRps = res.checkpoints[res.checkpoints.length - 1]?.rps || 5000;
      const duration = Math.max(1, Math.min(30, Math.ceil((opts.requests - long.requests) / lastRps)));
      const r = await runWrk(`http://127.0.0.1:${port}/`, { ...opts, duration, cookieFile });
      const n = r.exact?.requests ?? Math.round(r.rps * duration);
      long.requests += n;
      long.seconds += duration;
      long.slices += 1;
      long.errors += r.exact ? Object.values(r.exact.errors).reduce((a, b) => a + b, 0) : r.socketErrors;
      long.non2xx3xx += r.non2xx3xx;
      if (r.exact && Math.abs(r.exact.bytes / n - expectBytes) > 0.5) long.wrongBytes += 1;
      long.p99 = Math.max(long.p99 ?? 0, r.latencyMs.p99);
    }
    long.cpuUsPerReq = ((workersCpuMs(pids) - c0) * 1000) / long.requests;
    long.rps = long.requests / long.seconds;
    res.long = long;
    if (long.errors || long.non2xx3xx || long.wrongBytes) {
      warn(`long run: ${long.errors} errors, ${long.non2xx3xx} non-2xx/3xx, ${long.wrongBytes} slices with other answers than the upstream's 200`);
    }

    const pidsEnd = ngx.workerPids().slice().sort();
    const memEnd = workersMem(pidsEnd);
    res.workers = {
      pidsStart: pids, pidsEnd, restarted: pids.join(',') !== pidsEnd.join(','),
      memStart, memAfterLogins, memEnd,
      exitedLines: ngx.errorLog().split('\n').filter((l) => /worker process \d+ exited/.test(l)),
      problems: ngx.problems(),
      finalStore: await entries(),
    };
    if (res.workers.restarted) warn(`worker pids changed: ${pids} -> ${pidsEnd}`);
    for (const l of [...res.workers.exitedLines, ...res.workers.problems]) warn(`error log: ${l}`);
  } catch (err) {
    const logs = h.logs();
    await shutdown();
    throw Object.assign(err, { logs });
  }
  res.machine.loadavgEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const problems = await shutdown();
  for (const p of problems) warn(`cleanup: ${p.split('\n').slice(0, 6).join(' | ')}`);
  report(res, opts);
  process.exitCode = res.warnings.length ? 1 : 0;
}

function report(res, opts) {
  const out = [];
  const m = res.machine;
  out.push('nginx-auth-oidc load and store-size run');
  out.push(`machine: ${m.nproc} CPUs, ${m.cpu}, Linux ${m.kernel}; load average ${m.loadavgStart} (start) ${m.loadavgEnd} (end)`);
  out.push(`software: ${m.nginx}; ${m.wrk}; node ${m.node}`);
  out.push(`module: ${m.module}`);
  out.push(`nginx under test and baseline: ${opts.workers} worker(s) each; store ${opts.store === 'redis' ? 'Redis' : `size=${res.zoneMb}m`}; wrk -t${opts.threads} `
    + `-c${opts.connections}, requests spread over a uniform sample of up to ${opts.sample} sessions (wrk-cookies.lua)`);
  out.push('');
  if (res.tokenBytes) {
    const t = res.tokenBytes;
    out.push(`tokens as issued: ID token ${t.idToken} bytes, access token ${t.accessToken}, refresh token ${t.refreshToken || 'none'}; `
      + `sessions keep ${opts.keep === 'all' ? 'all of them (session_tokens all)' : 'none (session_tokens auto, no token named, revoke_tokens off)'}`);
  }
  out.push(table(
    ['sessions', 'entries', 'bytes/session', 'req/s', 'baseline', 'ratio', 'p50', 'p99', 'baseline p99', 'worker CPU/req', 'baseline CPU/req', 'module CPU/req'],
    res.checkpoints.map((c) => [
      c.sessions, c.entries, c.sessionBytes, c.rps.toFixed(0), c.baseRps.toFixed(0), c.ratio.toFixed(3), fmtMs(c.p50), fmtMs(c.p99),
      fmtMs(c.baseP99), `${c.cpuUsPerReq.toFixed(1)}us`, `${c.baseCpuUsPerReq.toFixed(1)}us`, `${c.moduleUsPerReq.toFixed(1)}us`,
    ]),
    ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  ));
  out.push(`bytes/session: oidc_status's session_bytes: ${opts.store === 'redis'
    ? 'the key and the sealed record in Redis (as the answering worker wrote them)'
    : 'the slab slots a session takes in the zone (node and chunks)'}; `
    + `zone ${opts.store === 'redis' ? '-' : `${res.zoneMb} MiB for ${res.checkpoints.at(-1)?.sessions ?? 0} sessions`}`);
  out.push('medians of 2 alternating rounds per size; CPU/req = utime+stime of all workers / requests; '
    + 'module CPU/req = the difference (the session lookup, the claim variables, the cookie strip).');
  out.push('');
  const l = res.logins;
  out.push(`logins: ${l.total} complete logins, ${l.errors} failed, ${(l.total / l.seconds).toFixed(0)}/s `
    + `(${opts.loginConcurrency} in flight)`);
  if (res.long) {
    const g = res.long;
    out.push(`long run: ${g.requests} authenticated requests in ${g.slices} wrk run(s), ${g.seconds} s, `
      + `${g.rps.toFixed(0)} req/s; ${g.errors} socket errors, ${g.non2xx3xx} non-2xx/3xx, ${g.wrongBytes} runs with `
      + `other answers; worst p99 ${fmtMs(g.p99)}; worker CPU ${g.cpuUsPerReq.toFixed(1)} us/req`);
  }
  const w = res.workers;
  if (w.pidsStart) {
    out.push(`workers: ${w.pidsStart.join(', ')} at the start, ${w.pidsEnd.join(', ')} at the end `
      + `(${w.restarted ? 'RESTARTED' : 'no restart'}); ${w.exitedLines.length} "exited" and `
      + `${w.problems.length} [alert]/[crit]/[emerg]/sanitizer line(s) in the error log`);
    out.push(`store at the end: ${w.finalStore.entries} entries, ${w.finalStore.evicted ?? 0} evicted`);
    for (const pid of w.pidsStart) {
      const s = w.memStart[pid];
      const a = w.memAfterLogins[pid];
      const e = w.memEnd[pid];
      if (!s || !a || !e) continue;
      out.push(`  worker ${pid}: VmRSS ${s.rss} -> ${a.rss} (after the logins) -> ${e.rss} kB (after the long run); `
        + `RssAnon ${s.anon} -> ${a.anon} -> ${e.anon} kB`);
    }
    out.push('  VmRSS grows with the shared-memory pages the store touches; RssAnon is the worker\'s private memory.');
  }
  if (res.warnings.length) {
    out.push('');
    out.push('warnings:');
    for (const x of res.warnings) out.push(`  ${x}`);
  }
  process.stdout.write(`\n${out.join('\n')}\n`);
  if (opts.json) process.stdout.write(`\n${JSON.stringify(res, null, 2)}\n`);
}

main().catch((err) => {
  process.stderr.write(`load run failed: ${err.stack || err}\n`);
  if (err.logs) process.stderr.write(`${tail(err.logs, 60)}\n`);
  process.exit(1);
});
