#!/usr/bin/env node
// Benchmark of ngx_http_auth_oidc_module: what a protected request costs next
// to plain proxying (shared-memory and Redis sessions), how many logins per
// second the callback completes, and how much memory sessions take.
// `make bench` or `node bench/run.mjs [--quick] [--json]`; see bench/README.md.
//
// Everything runs on 127.0.0.1 in a temp directory and is stopped on exit,
// Ctrl-C included. The servers are the test suite's own (t/lib): the Nginx
// class, the fake OP, the Redis helper and the login helpers.
import fs from 'node:fs';
import os from 'node:os';
import { UserAgent } from '../t/lib/browser.mjs';
import { COOKIE, login, providerBlock } from '../t/lib/login.mjs';
import { moduleExists, MODULE_PATH } from '../t/lib/nginx.mjs';
import { freePort } from '../t/lib/ports.mjs';
import {
  clusterStore, REDIS_SERVER, redisAvailable, redisStore, secretFile, startCluster, startRedis,
} from '../t/lib/redis.mjs';
import { tail } from '../t/lib/util.mjs';
import { Harness } from '../t/lib/harness.mjs';
import {
  BENCH_AUDIENCE, cpuMs, fmtMs, fmtPct, frontServer, loginLoop, machine, median, memKb, pad, padl, probe,
  runWrk, SHM_STORE, startOpChild, startUpstream, stopOnSignals, storeEntries, table, upstreamBlock, WRK,
} from './lib.mjs';

// ------------------------------------------------------------------ options

const USAGE = `usage: node bench/run.mjs [options]
  --quick              smoke run: 1 round of 2 s per variant, 2 s of logins
  --json               also print the results as JSON (last thing on stdout)
  --rounds N           alternating rounds (default 5)
  --duration S         seconds per wrk run (default 5)
  --connections N      wrk connections (default 32; wrk runs 1 thread)
  --variants LIST      comma-separated subset of baseline,shm,shm-noclaims,baseline-bearer,bearer,redis,redis-noclaims,
                       redis-cluster (a three-master Redis Cluster: no target, not in the default set),
                       cookie (the cookie store: the session opened from the cookie each request; no target,
                       not in the default set)
  --login-seconds S    seconds of each login-rate run (default 5)
  --login-concurrency N  logins in flight (default 8)
  --sessions N         sessions logged in for the memory figures (default 200)
  --pin                pin the measured nginx worker to CPU 0 and wrk to CPU 1
  --no-login           skip the login-rate rows
  --no-memory          skip the session memory measurements
Environment: AUTH_OIDC_MODULE, NGINX_BIN, WRK_BIN, REDIS_SERVER_BIN,
TEST_NGINX_LEAVE=1 (keep the temp directory), TEST_VERBOSE=1.`;

// bearer: a JWT access token in Authorization, its verification cached;
// baseline-bearer: plain nginx given the same Authorization header, the
// baseline of the bearer row (the token's bytes are read and proxied too)
const ALL_VARIANTS = ['baseline', 'shm', 'shm-noclaims', 'baseline-bearer', 'bearer', 'redis', 'redis-noclaims', 'redis-cluster',
  'cookie'];
const NOT_DEFAULT = ['redis-cluster', 'cookie'];

function parseArgs(argv) {
  const o = {
    quick: false, json: false, rounds: 5, duration: 5, connections: 32, threads: 1,
    variants: ALL_VARIANTS.filter((v) => !NOT_DEFAULT.includes(v)), loginSeconds: 5, loginConcurrency: 8, sessions: 200,
    pin: false, login: true, memory: true,
  };
  const num = (i) => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${argv[i]} needs a positive number`);
    return v;
  };
  const set = new Set();
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--json': o.json = true; break;
      case '--rounds': o.rounds = Math.round(num(i)); set.add('rounds'); i += 1; break;
      case '--duration': o.duration = Math.max(1, Math.round(num(i))); set.add('duration'); i += 1; break;
      case '--connections': o.connections = Math.round(num(i)); i += 1; break;
      case '--variants':
        o.variants = String(argv[i + 1] || '').split(',').filter(Boolean);
        for (const v of o.variants) if (!ALL_VARIANTS.includes(v)) throw new Error(`unknown variant ${v}`);
        i += 1;
        break;
      case '--login-seconds': o.loginSeconds = num(i); set.add('loginSeconds'); i += 1; break;
      case '--login-concurrency': o.loginConcurrency = Math.round(num(i)); i += 1; break;
      case '--sessions': o.sessions = Math.round(num(i)); i += 1; break;
      case '--pin': o.pin = true; break;
      case '--no-login': o.login = false; break;
      case '--no-memory': o.memory = false; break;
      case '-h': case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (o.quick) {
    if (!set.has('rounds')) o.rounds = 1;
    if (!set.has('duration')) o.duration = 2;
    if (!set.has('loginSeconds')) o.loginSeconds = 2;
  }
  if (!o.variants.includes('baseline')) o.variants.unshift('baseline'); // ratios need it
  if (o.variants.includes('bearer') && !o.variants.includes('baseline-bearer')) {
    o.variants.splice(o.variants.indexOf('bearer'), 0, 'baseline-bearer');
  }
  o.variants = ALL_VARIANTS.filter((v) => o.variants.includes(v));
  return o;
}

/** Login rate through `ngx` with CPU time of the nginx worker, this process and the OP. */
async function loginRate(ngx, op, { seconds, concurrency }) {
  const worker = ngx.workerPids()[0];
  const op0 = await op.stats();
  const cpu0 = cpuMs(worker);
  const self0 = process.cpuUsage();
  const acc = await loginLoop(ngx.url, { concurrency, seconds });
  const cpu1 = cpuMs(worker);
  const self1 = process.cpuUsage(self0);
  const op1 = await op.stats();
  const n = acc.logins || NaN;
  const opPath = (p) => ((op1.paths[p]?.ms ?? 0) - (op0.paths[p]?.ms ?? 0));
  const clientMs = (acc.redirectMs + acc.authMs + acc.callbackMs) / n;
  const opServiceMs = (opPath('/auth') + opPath('/token')) / n;
  return {
    logins: acc.logins,
    errors: acc.errors,
    firstError: acc.firstError,
    seconds: acc.seconds,
    loginsPerSec: acc.logins / acc.seconds,
    concurrency,
    msPerLogin: clientMs,
    steps: { redirectMs: acc.redirectMs / n, opAuthMs: acc.authMs / n, callbackMs: acc.callbackMs / n },
    opServiceMs,
    opTokenServiceMs: opPath('/token') / n,
    opWaitMs: acc.authMs / n + opPath('/token') / n,
    opShare: opServiceMs / clientMs,
    nginxCeiling: 1000 / ((cpu1 - cpu0) / n),
    nginxCpuMsPerLogin: (cpu1 - cpu0) / n,
    clientCpuMsPerLogin: (self1.user + self1.system) / 1000 / n,
    opCpuMsPerLogin: (op1.cpuMs - op0.cpuMs) / n,
  };
}

// ------------------------------------------------------------------ memory

/** Bytes the slab allocator hands out for `size` (4 KiB pages: half a page or less rounds up to a power of two). */
function slabBytes(size, page = 4096) {
  if (size > page / 2) return Math.ceil(size / page) * page;
  let s = 8;
  while (s < size) s *= 2;
  return s;
}

const SHM_NODE_HEADER = 42; // offsetof(ngx_http_auth_oidc_store_node_t, data) on x86-64
const SEAL_OVERHEAD = 33; // AUTH_OIDC_SEAL_OVERHEAD: sealed = record + 33
async function redisUsedMemory(redis) {
  const info = await redis.cli('INFO', 'memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

/** Fill a 1m store until it evicts: zone bytes per session, measured. */
async function capacity(h, op, upstreamPort) {
  const port = await freePort();
  const size = 1024 * 1024;
  const ngx = h.nginx(`
    oidc_session_store cap size=1m;
${providerBlock('op', op.issuer, { session_store: 'cap' })}${upstreamBlock(upstreamPort)}
${frontServer(port, { auth: true, status: true })}
`, { workers: 1 });
  await ngx.start();
  await ngx.waitProvider('op', 'ready');
  let full = null;
  let logins = 0;
  while (!full && logins < 4000) {
    const acc = await loginLoop(ngx.url, { concurrency: 4, count: 32 });
    logins += acc.logins;
    const s = await storeEntries(ngx, 'cap');
    if (s.evicted > 0) full = s;
  }
  await ngx.stop();
  if (!full) return { size, logins, note: 'no eviction within 4000 logins' };
  return { size, logins, entriesWhenFull: full.entries, bytesPerSession: size / full.entries };
}

// ------------------------------------------------------------------ output


const TARGETS = {
  shm: { ratio: 0.97, p99: 0.10, text: '>=0.97, p99 <=+10%' },
  'shm-noclaims': { ratio: 0.97, p99: 0.10, text: '>=0.97, p99 <=+10%' },
  bearer: { ratio: 0.95, p99: 0.10, text: '>=0.95, p99 <=+10%' },
  redis: { ratio: 0.95, text: '>=0.95' },
  'redis-noclaims': { ratio: 0.95, text: '>=0.95' },
};

// ------------------------------------------------------------------ main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const log = (msg) => process.stderr.write(`# ${msg}\n`);

  if (!moduleExists()) throw new Error(`module not found at ${MODULE_PATH}: run make first (or set AUTH_OIDC_MODULE)`);
  if (!fs.existsSync(WRK)) throw new Error(`wrk not found at ${WRK} (apt-get install wrk, or set WRK_BIN)`);
  if (opts.variants.some((v) => v.startsWith('redis')) && !redisAvailable()) throw new Error(`redis-server not found at ${REDIS_SERVER}`);

  const info = machine();
  const h = new Harness('bench');
  const { shutdown, interrupted } = stopOnSignals(h);

  const results = { machine: info, options: { ...opts }, variants: {}, login: {}, memory: {}, warnings: [] };
  const warn = (msg) => { results.warnings.push(msg); log(`WARNING: ${msg}`); };

  try {
    log(`temp dir ${h.dir}`);
    const op = await startOpChild(h);
    log(`fake OP ${op.issuer} (pid ${op.pid})`);

    const upPort = await startUpstream(h);

    const pinMain = opts.pin ? 'worker_cpu_affinity 01;' : '';
    const fronts = {};
    const ports = {};
    for (const v of opts.variants) ports[v] = await freePort();

    if (opts.variants.includes('baseline')) {
      fronts.baseline = h.nginx(`${upstreamBlock(upPort)}
${frontServer(ports.baseline, { auth: false })}
${opts.variants.includes('baseline-bearer') ? frontServer(ports['baseline-bearer'], { auth: false }) : ''}`,
      { withModule: false, workers: 1, main: pinMain });
      fronts['baseline-bearer'] = fronts.baseline;
    }
    const shmVariants = ['shm', 'shm-noclaims', 'bearer'].filter((v) => opts.variants.includes(v));
    if (shmVariants.length) {
      ports.shmAdmin = await freePort();
      const shmNgx = h.nginx(`
${providerBlock('op', op.issuer, opts.variants.includes('bearer') ? { bearer_audience: BENCH_AUDIENCE } : {})}${upstreamBlock(upPort)}
${frontServer(ports.shmAdmin, { auth: true, claims: true, status: true })}
${opts.variants.includes('shm') ? frontServer(ports.shm, { auth: true, claims: true }) : ''}
${opts.variants.includes('shm-noclaims') ? frontServer(ports['shm-noclaims'], { auth: true, claims: false }) : ''}
${opts.variants.includes('bearer') ? frontServer(ports.bearer, { bearer: true, claims: true }) : ''}
`, { workers: 1, main: pinMain });
      for (const v of shmVariants) fronts[v] = shmNgx;
    }
    let redis = null;
    if (opts.variants.includes('redis') || opts.variants.includes('redis-noclaims')) {
      redis = await startRedis(h);
      const secret = secretFile(h.dir, 'oidc.secret');
      ports.redisAdmin = await freePort();
      fronts.redis = h.nginx(`
${redisStore('r', redis.addr, { secret_file: secret })}
${providerBlock('op', op.issuer, { session_store: 'r' })}${upstreamBlock(upPort)}
${frontServer(ports.redisAdmin, { auth: true, claims: true, status: true })}
${opts.variants.includes('redis') ? frontServer(ports.redis, { auth: true, claims: true }) : ''}
${opts.variants.includes('redis-noclaims') ? frontServer(ports['redis-noclaims'], { auth: true, claims: false }) : ''}
`, { workers: 1, main: pinMain });
      fronts['redis-noclaims'] = fronts.redis;
      log(`redis-server ${redis.addr}`);
    }
    let cluster = null;
    if (opts.variants.includes('redis-cluster')) {
      cluster = await startCluster(h, 3);
      ports.clusterAdmin = await freePort();
      fronts['redis-cluster'] = h.nginx(`
${clusterStore('c', cluster, { secret_file: secretFile(h.dir, 'cluster.secret') })}
${providerBlock('op', op.issuer, { session_store: 'c' })}${upstreamBlock(upPort)}
${frontServer(ports.clusterAdmin, { auth: true, claims: true, status: true })}
${frontServer(ports['redis-cluster'], { auth: true, claims: true })}
`, { workers: 1, main: pinMain });
      log(`redis cluster ${cluster.map((n) => n.addr).join(' ')}`);
    }
    if (opts.variants.includes('cookie')) {
      ports.cookieAdmin = await freePort();
      fronts.cookie = h.nginx(`
    oidc_session_store b cookie secret_file=${secretFile(h.dir, 'cookie.secret')};
${providerBlock('op', op.issuer, { session_store: 'b' })}${upstreamBlock(upPort)}
${frontServer(ports.cookieAdmin, { auth: true, claims: true, status: true })}
${frontServer(ports.cookie, { auth: true, claims: true })}
`, { workers: 1, main: pinMain });
    }
    for (const ngx of new Set(Object.values(fronts))) await ngx.start();
    const shmNgx = fronts.shm ?? fronts['shm-noclaims'] ?? fronts.bearer;
    for (const ngx of [shmNgx, fronts.redis, fronts['redis-cluster'], fronts.cookie].filter(Boolean)) {
      await ngx.waitProvider('op', 'ready');
    }

    // one session per store (log in once with the fake OP)
    const cookies = {};
    if (shmNgx) {
      const { cookie } = await login(new UserAgent(), shmNgx.url, '/');
      cookies.shm = `${COOKIE}=${cookie}`;
      cookies['shm-noclaims'] = cookies.shm;
    }
    if (fronts.redis) {
      const { cookie } = await login(new UserAgent(), fronts.redis.url, '/');
      cookies.redis = `${COOKIE}=${cookie}`;
      cookies['redis-noclaims'] = cookies.redis;
    }
    if (fronts['redis-cluster']) {
      const { cookie } = await login(new UserAgent(), fronts['redis-cluster'].url, '/');
      cookies['redis-cluster'] = `${COOKIE}=${cookie}`;
    }
    if (fronts.cookie) {
      const ua = new UserAgent();
      await login(ua, fronts.cookie.url, '/');
      cookies.cookie = ua.jar.header(`${fronts.cookie.url}/`);
    }
    // the baseline gets the same request bytes (its Cookie goes upstream as is)
    cookies.baseline = cookies.shm ?? cookies.redis ?? `${COOKIE}=${'x'.repeat(43)}`;
    const headers = Object.fromEntries(opts.variants.map((v) => [v, cookies[v] ? `Cookie: ${cookies[v]}` : '']));
    if (opts.variants.includes('bearer')) {
      headers.bearer = `Authorization: Bearer ${await op.accessToken()}`;
      headers['baseline-bearer'] = headers.bearer;
    }

    // every variant must answer 200 "ok\n" with its cookie: a 302 would pass
    // for a success in wrk's eyes, so its bytes per response are checked too
    const expect = {};
    for (const v of opts.variants) {
      const p = await probe(ports[v], undefined, headers[v]);
      if (p.status !== 200 || p.body !== 'ok\n') {
        throw new Error(`${v} answers ${p.status} ${JSON.stringify(p.body.slice(0, 100))} instead of 200 "ok\\n":\n${p.head}`);
      }
      expect[v] = p.bytes;
    }

    log(`warm-up: 1 s per variant`);
    for (const v of opts.variants) {
      await runWrk(`http://127.0.0.1:${ports[v]}/`, { ...opts, duration: 1, header: headers[v] });
    }

    // ---------------------------------------------------------------- rounds
    const runs = Object.fromEntries(opts.variants.map((v) => [v, []]));
    const rss = {};
    for (let round = 1; round <= opts.rounds; round += 1) {
      for (const v of opts.variants) {
        const ngx = fronts[v];
        const worker = ngx.workerPids()[0];
        const m0 = memKb(worker);
        rss[v] ??= { start: m0 };
        const c0 = cpuMs(worker);
        const viaRedis = v.startsWith('redis');
        // the session's node only does the work, but every node is counted
        const servers = v === 'redis-cluster' ? cluster : [redis];
        const redisCpu = () => servers.reduce((sum, n) => sum + cpuMs(n.proc.pid), 0);
        const r0 = viaRedis ? redisCpu() : 0;
        const r = await runWrk(`http://127.0.0.1:${ports[v]}/`, { ...opts, header: headers[v] });
        const c1 = cpuMs(worker);
        const r1 = viaRedis ? redisCpu() : 0;
        rss[v].end = memKb(worker);
        const requests = r.exact?.requests ?? r.rps * opts.duration;
        const run = {
          round,
          rps: r.rps,
          p50: r.latencyMs.p50,
          p99: r.latencyMs.p99,
          requests,
          workerCpuUsPerReq: ((c1 - c0) * 1000) / requests,
          redisCpuUsPerReq: viaRedis ? ((r1 - r0) * 1000) / requests : undefined,
          bytesPerReq: r.exact ? r.exact.bytes / r.exact.requests : NaN,
          errors: r.exact?.errors,
          non2xx3xx: r.non2xx3xx,
        };
        const errs = run.errors ? Object.values(run.errors).reduce((a, b) => a + b, 0) : r.socketErrors;
        if (errs || run.non2xx3xx) warn(`${v} round ${round}: ${errs} socket/status errors, ${run.non2xx3xx} non-2xx/3xx`);
        if (Number.isFinite(run.bytesPerReq) && Math.abs(run.bytesPerReq - expect[v]) > expect[v] * 0.01) {
          warn(`${v} round ${round}: ${run.bytesPerReq.toFixed(1)} bytes per response instead of ${expect[v]}: `
            + 'not every answer was the upstream\'s 200 (a login redirect? a 503?)');
          run.invalid = true;
        }
        runs[v].push(run);
        log(`round ${round}/${opts.rounds} ${pad(v, 14)} ${padl(run.rps.toFixed(0), 7)} req/s  p50 ${fmtMs(run.p50)}  p99 ${fmtMs(run.p99)}  worker ${run.workerCpuUsPerReq.toFixed(1)}us/req`);
      }
    }
    for (const v of opts.variants) {
      const rs = runs[v];
      results.variants[v] = {
        rps: median(rs.map((r) => r.rps)),
        rpsMin: Math.min(...rs.map((r) => r.rps)),
        rpsMax: Math.max(...rs.map((r) => r.rps)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        workerCpuUsPerReq: median(rs.map((r) => r.workerCpuUsPerReq)),
        redisCpuUsPerReq: v.startsWith('redis') ? median(rs.map((r) => r.redisCpuUsPerReq)) : undefined,
        responseBytes: expect[v],
        workerMemKb: rss[v],
        runs: rs,
      };
    }
    for (const v of opts.variants) {
      const r = results.variants[v];
      const base = (v === 'bearer' && results.variants['baseline-bearer']) || results.variants.baseline;
      r.ratio = r.rps / base.rps;
      r.p99Delta = r.p99 / base.p99 - 1;
      r.cpuDelta = r.workerCpuUsPerReq / base.workerCpuUsPerReq - 1;
      const t = TARGETS[v];
      if (t) {
        r.target = t.text;
        r.meetsTarget = r.ratio >= t.ratio && (t.p99 === undefined || r.p99Delta <= t.p99);
      }
    }

    // ---------------------------------------------------------------- memory
    if (opts.memory && shmNgx) {
      log(`memory: ${opts.sessions} logins into the shared-memory store`);
      const before = await storeEntries(shmNgx, SHM_STORE);
      const acc = await loginLoop(shmNgx.url, { concurrency: opts.loginConcurrency, count: opts.sessions });
      const after = await storeEntries(shmNgx, SHM_STORE);
      results.memory.shm = {
        store: SHM_STORE, zoneSize: after.size, logins: acc.logins,
        entriesBefore: before.entries, entriesAfter: after.entries, evicted: after.evicted,
      };
    }
    if (opts.memory && fronts.redis) {
      log(`memory: ${opts.sessions} logins into the Redis store`);
      const keys0 = await redis.keys('oidc:s:*');
      const used0 = await redisUsedMemory(redis);
      const acc = await loginLoop(fronts.redis.url, { concurrency: opts.loginConcurrency, count: opts.sessions });
      const used1 = await redisUsedMemory(redis);
      const keys1 = await redis.keys('oidc:s:*');
      const sealed = Number(await redis.cli('STRLEN', keys1[keys1.length - 1]));
      const keyLen = keys1[0].length;
      results.memory.redis = {
        logins: acc.logins, keysBefore: keys0.length, keysAfter: keys1.length,
        usedMemoryDelta: used1 - used0, bytesPerSession: (used1 - used0) / (keys1.length - keys0.length),
        sealedValueBytes: sealed, keyBytes: keyLen,
      };
      const record = sealed - SEAL_OVERHEAD;
      const node = SHM_NODE_HEADER + 'op'.length + 1 + 43 + record;
      results.memory.shmEstimate = { recordBytes: record, nodeBytes: node, slabBytes: slabBytes(node) };
    }
    if (opts.memory && shmNgx) {
      log('memory: filling a 1m store until it evicts');
      results.memory.capacity = await capacity(h, op, upPort);
    }

    // ---------------------------------------------------------------- logins
    if (opts.login) {
      for (const [label, ngx] of [['shm', shmNgx], ['redis', fronts.redis]]) {
        if (!ngx) continue;
        log(`login rate (${label}): ${opts.loginSeconds} s, ${opts.loginConcurrency} in flight`);
        results.login[label] = await loginRate(ngx, op, { seconds: opts.loginSeconds, concurrency: opts.loginConcurrency });
        const v = [label, `${label}-noclaims`].find((x) => rss[x]);
        if (rss[v]) rss[v].afterLogins = memKb(ngx.workerPids()[0]);
      }
    }

    if (rss.shm ?? rss['shm-noclaims']) results.memory.shmWorkerKb = rss.shm ?? rss['shm-noclaims'];
    if (rss.redis ?? rss['redis-noclaims']) results.memory.redisWorkerKb = rss.redis ?? rss['redis-noclaims'];
  } catch (err) {
    if (interrupted()) await new Promise(() => {}); // the signal handler exits
    const logs = h.logs();
    await shutdown();
    throw Object.assign(err, { logs });
  }
  if (interrupted()) await new Promise(() => {});
  results.machine.loadavgEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const problems = await shutdown();
  for (const p of problems) warn(`cleanup: ${p.split('\n').slice(0, 6).join(' | ')}`);
  report(results, opts);
}

function report(res, opts) {
  const out = [];
  const m = res.machine;
  out.push('nginx-auth-oidc benchmark');
  out.push(`machine: ${m.nproc} CPUs, ${m.cpu}, Linux ${m.kernel}; load average ${m.loadavgStart} (start) ${m.loadavgEnd} (end)`);
  out.push(`software: ${m.nginx}; ${m.wrk}; ${m.redis}; node ${m.node}`);
  out.push(`module: ${m.module}`);
  out.push(`run: ${opts.rounds} alternating round(s) of ${opts.duration} s per variant, wrk -t${opts.threads} -c${opts.connections}, `
    + `1 nginx worker per variant${opts.pin ? ' (pinned to CPU 0, wrk to CPU 1)' : ''}${opts.quick ? '  [--quick: a smoke run, not a measurement]' : ''}`);
  out.push('');

  const several = opts.rounds > 1;
  const rows = Object.entries(res.variants).map(([v, r]) => [
    v,
    r.rps.toFixed(0),
    ...(several ? [`${r.rpsMin.toFixed(0)}-${r.rpsMax.toFixed(0)}`] : []),
    fmtMs(r.p50),
    fmtMs(r.p99),
    v === 'baseline' ? '1.000' : r.ratio.toFixed(3),
    v === 'baseline' ? '' : fmtPct(r.p99Delta),
    `${r.workerCpuUsPerReq.toFixed(1)}us${v === 'baseline' ? '' : ` (${fmtPct(r.cpuDelta)})`}`,
    r.target ? `${r.target}: ${r.meetsTarget ? 'met' : 'MISSED'}` : '',
  ]);
  out.push(table(
    ['variant', 'req/s', ...(several ? ['range'] : []), 'p50', 'p99', 'ratio', 'p99 delta', 'worker CPU/req',
      'target (informational)'],
    rows, ['l', 'r', ...(several ? ['r'] : []), 'r', 'r', 'r', 'r', 'r', 'l'],
  ));
  const redisCpu = Object.entries(res.variants).filter(([, r]) => r.redisCpuUsPerReq !== undefined)
    .map(([v, r]) => `${r.redisCpuUsPerReq.toFixed(1)}us (${v})`);
  if (redisCpu.length) out.push(`redis-server CPU per request: ${redisCpu.join(', ')}`);
  out.push(`ratio = req/s / baseline req/s; p99 delta = p99 / baseline p99 - 1; worker CPU/req = utime+stime of the `
    + `variant's nginx worker / requests (delta vs baseline); ${several ? 'medians over the rounds' : 'one round'}.`);
  if (res.variants.bearer && res.variants['baseline-bearer']) {
    out.push('bearer is compared with baseline-bearer: plain nginx given the same Authorization header.');
  }

  if (Object.keys(res.login).length) {
    out.push('');
    const lrows = Object.entries(res.login).map(([k, l]) => [
      `login (${k})`,
      l.loginsPerSec.toFixed(0),
      fmtMs(l.msPerLogin),
      fmtMs(l.opWaitMs),
      fmtMs(l.opServiceMs),
      `${l.nginxCpuMsPerLogin.toFixed(2)}ms`,
      Number.isFinite(l.nginxCeiling) ? l.nginxCeiling.toFixed(0) : '-',
      `${l.opCpuMsPerLogin.toFixed(2)}ms`,
      `${l.clientCpuMsPerLogin.toFixed(2)}ms`,
      l.errors ? `${l.errors} (${l.firstError})` : '0',
    ]);
    out.push(table(
      ['row', 'logins/s', 'ms/login', 'OP wait', 'OP service', 'nginx CPU/login', 'nginx max/s/core',
        'OP CPU/login', 'client CPU/login', 'errors'],
      lrows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ));
    const l = Object.values(res.login)[0];
    out.push(`complete logins (GET / -> OP /auth -> callback with the token exchange), ${l.concurrency} in flight, `
      + 'a fresh client and connection each.');
    out.push('OP wait = the client\'s round trip to /auth + the OP\'s service time of /token (nginx waits for it in the '
      + 'callback); OP service = time the fake OP spent answering /auth and /token; nginx max/s/core = 1000 / nginx CPU ms per login.');
    const bound = Object.values(res.login).some((x) => x.opCpuMsPerLogin + x.clientCpuMsPerLogin > x.nginxCpuMsPerLogin);
    if (bound) {
      out.push('The OP and the client (node) spend more CPU per login than nginx: logins/s measures this harness '
        + 'on this machine; compare nginx CPU/login between builds.');
    }
  }

  const mem = res.memory;
  if (Object.keys(mem).length) {
    out.push('');
    out.push('memory:');
    if (mem.shmWorkerKb) {
      const w = mem.shmWorkerKb;
      out.push(`  shm worker VmRSS: ${w.start.rss} kB at the start of the shm runs, ${w.end.rss} kB at the end `
        + `(RssAnon ${w.start.anon} -> ${w.end.anon} kB)${w.afterLogins ? `; ${w.afterLogins.rss} kB (RssAnon ${w.afterLogins.anon}) after the memory and login runs` : ''}`);
    }
    if (mem.redisWorkerKb) {
      const w = mem.redisWorkerKb;
      out.push(`  redis worker VmRSS: ${w.start.rss} kB -> ${w.end.rss} kB (RssAnon ${w.start.anon} -> ${w.end.anon} kB)`
        + `${w.afterLogins ? `; ${w.afterLogins.rss} kB (RssAnon ${w.afterLogins.anon}) after the memory and login runs` : ''}`);
    }
    if (mem.shm) {
      const s = mem.shm;
      out.push(`  shm store "${s.store}" (${s.zoneSize / 1048576}m): ${s.entriesBefore} -> ${s.entriesAfter} entries after ${s.logins} logins`
        + `${s.evicted ? `, ${s.evicted} evicted` : ''}; oidc_status has no bytes-used figure, so:`);
    }
    if (mem.shmEstimate) {
      const e = mem.shmEstimate;
      out.push(`    estimate: record ${e.recordBytes} B + node header and key ${e.nodeBytes - e.recordBytes} B = ${e.nodeBytes} B, `
        + `slab slot ${e.slabBytes} B per session -> about ${Math.floor((mem.shm?.zoneSize ?? 10485760) / e.slabBytes)} sessions per ${(mem.shm?.zoneSize ?? 10485760) / 1048576}m (ID token of the fake OP: RS256, small claims)`);
    }
    if (mem.capacity) {
      const c = mem.capacity;
      out.push(c.entriesWhenFull
        ? `    measured: a 1m store held ${c.entriesWhenFull} sessions when it first evicted -> ${c.bytesPerSession.toFixed(0)} B of zone per session (slab bookkeeping included)`
        : `    measured: ${c.note}`);
    }
    if (mem.redis) {
      const r = mem.redis;
      out.push(`  redis: ${r.keysBefore} -> ${r.keysAfter} session keys; used_memory +${r.usedMemoryDelta} B = ${r.bytesPerSession.toFixed(0)} B per session `
        + `(sealed value ${r.sealedValueBytes} B, key ${r.keyBytes} B)`);
    }
  }
  if (res.warnings.length) {
    out.push('');
    out.push('warnings:');
    for (const w of res.warnings) out.push(`  ${w}`);
  }
  process.stdout.write(`\n${out.join('\n')}\n`);
  if (opts.json) {
    const clean = JSON.parse(JSON.stringify(res, (k, v) => (k === 'text' ? undefined : v)));
    process.stdout.write(`\n${JSON.stringify(clean, null, 2)}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack || err}\n`);
  if (err.logs) process.stderr.write(`${tail(err.logs, 60)}\n`);
  process.exit(1);
});
