// The Redis store behind Sentinel: one master, one replica, three real
// sentinels (redis-server --sentinel). nginx asks a sentinel where the
// master is, checks it is one (ROLE), and follows a failover: under
// steady traffic with a session, SENTINEL FAILOVER then killing the old
// master, requests recover by themselves within a stated bound, the session
// is not lost (it was replicated), and an unprotected location keeps
// answering throughout.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { login, protectedLocation, providerBlock, step, withSession } from './lib/login.mjs';
import { freePort } from './lib/ports.mjs';
import { REDIS_CLI, REDIS_SERVER, secretFile, startRedis } from './lib/redis.mjs';
import { sleep, waitFor } from './lib/util.mjs';

const MASTER = 'sessions';
// a failover here takes a few seconds; then nginx asks again within 1 s
const RECOVERY_BOUND_MS = 15000;

function cli(port, args) {
  return new Promise((resolve) => {
    execFile(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 },
      (err, stdout) => resolve(err ? '' : String(stdout).trim()));
  });
}

async function startSentinel(h, i, masterPort) {
  const port = await freePort();
  const dir = path.join(h.dir, `sentinel${i}`);
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'sentinel.conf');
  fs.writeFileSync(conf, [
    `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `logfile ${path.join(dir, 'sentinel.log')}`,
    `sentinel monitor ${MASTER} 127.0.0.1 ${masterPort} 2`,
    `sentinel down-after-milliseconds ${MASTER} 1000`,
    `sentinel failover-timeout ${MASTER} 4000`,
    `sentinel parallel-syncs ${MASTER} 1`, '',
  ].join('\n'));
  const proc = spawn(REDIS_SERVER, [conf, '--sentinel'], { stdio: 'ignore' });
  h.defer(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } });
  await waitFor(async () => (await cli(port, ['PING'])) === 'PONG', { timeout: 10000, what: `sentinel ${i}` });
  return { port, proc };
}

const masterPortOf = async (sentinel) => (await cli(sentinel.port, ['SENTINEL', 'get-master-addr-by-name', MASTER])).split('\n')[1];

/** One master, one replica in sync, three sentinels that know each other, and nginx (2 workers). */
async function sentinelSetup(h) {
  const master = await startRedis(h);
  const replica = await startRedis(h, { args: ['--replicaof', '127.0.0.1', String(master.port)] });
  await waitFor(async () => /master_link_status:up/.test((await replica.run(['INFO', 'replication'])).stdout),
    { timeout: 10000, what: 'replica in sync' });
  const sentinels = [];
  for (let i = 0; i < 3; i += 1) sentinels.push(await startSentinel(h, i, master.port));
  await waitFor(async () => /num-other-sentinels\n2/.test(await cli(sentinels[0].port, ['SENTINEL', 'master', MASTER])),
    { timeout: 15000, what: 'sentinels know each other' });

  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(`
    oidc_session_store s ${sentinels.map((s) => `sentinel=127.0.0.1:${s.port}`).join(' ')} master_name=${MASTER} secret_file=${secretFile(h.dir, 'secret')} timeout=300ms;
${providerBlock('idp', op.issuer, { session_store: 's' })}
${basicServer(port, `${protectedLocation('/app', 'idp', upstream.url)}`)}`, { workers: 2 }).start();
  await ngx.waitProvider('idp', 'ready');
  return { master, replica, sentinels, op, ngx };
}

itest('Sentinel: the master is found, followed on failover; nothing lost, nothing blocks', async (h, t) => {
  const { master, replica, sentinels, op, ngx } = await sentinelSetup(h);

  let cookie;
  await step(t, h, 'the master named by a sentinel: a login and its session', async () => {
    ({ cookie } = await login(new UserAgent(), ngx.url, '/app'));
    assert.equal((await ngx.get('/app/x', { headers: withSession(cookie) })).status, 200);
    assert.match(ngx.errorLog(), new RegExp(`sentinel 127\\.0\\.0\\.1:\\d+ names 127\\.0\\.0\\.1:${master.port} as master "${MASTER}"`));
    // replicated before the failover (Redis replication is asynchronous)
    await master.run(['WAIT', '1', '2000']);
  });

  await step(t, h, 'SENTINEL FAILOVER, then the old master killed: recovery within the bound, the session kept', async () => {
    let running = true;
    const plain = [];
    const results = [];
    const traffic = (async () => {
      while (running) {
        const t0 = Date.now();
        const [app, p] = await Promise.all([
          ngx.get('/app/x', { headers: withSession(cookie) }),
          ngx.get('/not-protected'),
        ]);
        results.push({ at: t0, status: app.status });
        plain.push(Date.now() - t0);
        assert.notEqual(p.status, 0);
        await sleep(50);
      }
    })();
    const started = Date.now();
    assert.equal(await cli(sentinels[0].port, ['SENTINEL', 'FAILOVER', MASTER]), 'OK');
    await waitFor(async () => (await masterPortOf(sentinels[0])) === String(replica.port),
      { timeout: 15000, what: 'the sentinels promote the replica' });
    await master.kill();
    // both workers follow: each names the new master, then requests pass
    // "names" is logged per connection (the store's, the cache's subscriber)
    const promoted = new RegExp(`\\[info\\] (\\d+)#\\d+: .*names 127\\.0\\.0\\.1:${replica.port} as master`, 'g');
    await waitFor(async () => {
      if (new Set([...ngx.errorLog().matchAll(promoted)].map((m) => m[1])).size < 2) return false;
      for (let i = 0; i < 6; i += 1) {
        if ((await ngx.get(`/app/after/${i}`, { headers: withSession(cookie) })).status !== 200) return false;
      }
      return true;
    }, { timeout: RECOVERY_BOUND_MS, interval: 100, what: 'both workers on the new master' });
    const recovered = Date.now() - started;
    running = false;
    await traffic;
    t.diagnostic(`recovered ${recovered} ms after SENTINEL FAILOVER; statuses seen: ${[...new Set(results.map((r) => r.status))].join(',')}`);
    assert.ok(results.every((r) => r.status === 200 || r.status === 503), 'never a login redirect: the session is kept');
    assert.ok(Math.max(...plain) < 2000, `an unprotected location kept answering (slowest ${Math.max(...plain)} ms)`);
  });
});

// Only reads, and the old master stays up (a replica now): nothing fails,
// so only the sentinels' "+switch-master" can move nginx to the new master.
itest('Sentinel: +switch-master moves every worker to the new master at once', async (h, t) => {
  const { master, replica, sentinels, ngx } = await sentinelSetup(h);
  const { cookie } = await login(new UserAgent(), ngx.url, '/app');
  assert.equal((await ngx.get('/app/x', { headers: withSession(cookie) })).status, 200);
  await master.run(['WAIT', '1', '2000']);
  // each worker listens to a sentinel before the failover
  await waitFor(async () => {
    const subs = await Promise.all(sentinels.map((s) => cli(s.port, ['CLIENT', 'LIST', 'TYPE', 'pubsub'])));
    return subs.join('\n').split('\n').filter((l) => /sub=1/.test(l)).length >= 2;
  }, { timeout: 5000, what: 'two workers subscribed to +switch-master' });

  const started = Date.now();
  assert.equal(await cli(sentinels[0].port, ['SENTINEL', 'FAILOVER', MASTER]), 'OK');
  // "names" is logged per connection (the store's and the cache's
  // subscriber): count the workers
  const promoted = new RegExp(`\\[info\\] (\\d+)#\\d+: .*names 127\\.0\\.0\\.1:${replica.port} as master`, 'g');
  const workersMoved = () => new Set([...ngx.errorLog().matchAll(promoted)].map((m) => m[1])).size;
  await waitFor(async () => {
    await ngx.get('/app/read', { headers: withSession(cookie) });
    return workersMoved() >= 2;
  }, { timeout: 15000, interval: 50, what: 'both workers on the new master', describe: () => ngx.errorLog().slice(-3000) });
  const moved = Date.now() - started;
  t.diagnostic(`both workers on the new master ${moved} ms after SENTINEL FAILOVER`);
  // without "+switch-master", only the sentinels' later demotion of the old
  // master (CLIENT KILL) moves them: about 11 s here
  assert.ok(moved <= 5000, `moved after ${moved} ms`);
  assert.match(ngx.errorLog(), new RegExp(`\\[notice\\].*oidc_session_store "s": the sentinels switched master "${MASTER}": ${MASTER} 127\\.0\\.0\\.1 ${master.port} 127\\.0\\.0\\.1 ${replica.port}`));
  // both workers answer (fresh connections spread over them)
  await waitFor(async () => {
    for (let i = 0; i < 6; i += 1) {
      if ((await ngx.get(`/app/after/${i}`, { headers: withSession(cookie) })).status !== 200) return false;
    }
    return true;
  }, { timeout: 5000, interval: 50, what: 'the session on the new master, in both workers' });
  // a write goes to the new master: a login
  const { cookie: fresh } = await login(new UserAgent(), ngx.url, '/app');
  assert.equal((await ngx.get('/app/fresh', { headers: withSession(fresh) })).status, 200);
  // the old master was up all along: the sentinels make it a replica
  await waitFor(async () => (await master.run(['ROLE'])).stdout.split('\n')[0] === 'slave',
    { timeout: 15000, interval: 100, what: 'the old master demoted, still up' });
});

itest('Sentinel: nginx -t refuses half a configuration', async (h) => {
  const port = await h.port();
  const secret = secretFile(h.dir, 'secret');
  for (const params of [
    'sentinel=127.0.0.1:26379 secret_file=' + secret,
    'master_name=m redis=127.0.0.1:6379 secret_file=' + secret,
    'sentinel=127.0.0.1:26379 master_name=m redis=127.0.0.1:6379 secret_file=' + secret,
    'redis=127.0.0.1:6379 sentinel_password=x secret_file=' + secret,
  ]) {
    const res = await h.nginx(`
    oidc_session_store s ${params};
${providerBlock('idp', 'https://idp.example.test', { session_store: 's' })}
${basicServer(port, protectedLocation('/app', 'idp', 'http://127.0.0.1:9'))}`).test();
    assert.equal(res.ok, false, params);
    assert.match(res.stderr, /"sentinel=" and "master_name=" go together, without "redis="/, params);
  }
});
