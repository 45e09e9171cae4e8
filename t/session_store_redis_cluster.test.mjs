// The Redis store on a real Redis Cluster (three masters, redis-server
// --cluster-enabled): nginx is given one seed node, learns the slot map
// (CLUSTER SLOTS), sends each command to the master of its key's slot, and
// follows a slot that moves while traffic runs: ASK while it is being
// migrated, MOVED once it has, then the new map. No request fails, no
// session is lost, and a logout deletes the session on the node that holds it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { UserAgent } from './lib/browser.mjs';
import { makeCA, makeServerCert } from './lib/ca.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import {
  assertLoginRedirect, login, NAV, protectedLocation, providerBlock, step, withSession, XHR,
} from './lib/login.mjs';
import { clusterStore, REDIS_CLI, secretFile, startCluster } from './lib/redis.mjs';
import { sleep, waitFor } from './lib/util.mjs';
import { pastExpiry, REFRESHING, seen, shortTokens } from './lib/refresh.mjs';

const SESSIONS = 9;

function conf(op, upstream, port, seeds, secret) {
  return `
${clusterStore('cl', seeds, { secret_file: secret, timeout: '500ms' })}
${providerBlock('p', op.issuer, { session_store: 'cl', logout_uri: '/logout' })}
${basicServer(port, protectedLocation('/app', 'p', upstream.url))}`;
}

/** The session keys on each node: [[key, ...], ...]. */
const keysByNode = (nodes) => Promise.all(nodes.map((n) => n.keys('oidc:s:*')));

const storeStatus = async (ngx) => (await ngx.status()).stores.cl;

/** Logs in `n` users; their session cookies. */
async function logins(ngx, n) {
  const cookies = [];
  for (let i = 0; i < n; i += 1) cookies.push((await login(new UserAgent(), ngx.url, '/app')).cookie);
  return cookies;
}

/** Every session answered 200 with its identity; returns the statuses otherwise. */
async function allServed(ngx, cookies, what) {
  for (const [i, cookie] of cookies.entries()) {
    const res = await ngx.get(`/app/${what}/${i}`, { headers: withSession(cookie) });
    assert.equal(res.status, 200, `${what}: session #${i}: ${res.status} ${res.body.slice(0, 200)}`);
    assert.equal(res.json().headers['x-user-sub'] !== undefined, true, `${what}: identity upstream`);
  }
}

/** Requests with every session in a loop until stop(); resolves the failures. */
function traffic(ngx, cookies) {
  let running = true;
  const failures = [];
  let count = 0;
  const loop = (async () => {
    while (running) {
      for (const [i, cookie] of cookies.entries()) {
        const res = await ngx.get(`/app/traffic/${i}`, { headers: withSession(cookie) });
        count += 1;
        if (res.status !== 200) failures.push(`#${i}: ${res.status}`);
      }
    }
  })();
  return { stop: async () => { running = false; await loop; return { failures, count }; }, get count() { return count; } };
}

itest('Redis Cluster, three masters: the map from one seed, sessions spread over the nodes, each read from its master, logout deletes it there', async (h, t) => {
  const nodes = await startCluster(h, 3);
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  // one seed: the other masters are learned from the map
  const ngx = await h.nginx(conf(op, upstream, port, [nodes[1]], secretFile(h.dir, 'secret')), { workers: 1 }).start();
  await ngx.waitProvider('p', 'ready');

  let cookies;
  await step(t, h, 'logins: sessions land on every master, each key on its slot\'s node', async () => {
    cookies = await logins(ngx, SESSIONS);
    const keys = await keysByNode(nodes);
    assert.equal(keys.flat().length, SESSIONS, keys.map((k) => k.length).join(','));
    assert.ok(keys.filter((k) => k.length).length >= 2, `sessions on at least two nodes: ${keys.map((k) => k.length)}`);
    await allServed(ngx, cookies, 'spread');
  });

  await step(t, h, 'oidc_status: three masters connected, every slot known, no redirect once the map is read', async () => {
    const s = await storeStatus(ngx);
    assert.equal(s.connected, true, JSON.stringify(s));
    assert.equal(s.cluster.masters, 3, JSON.stringify(s));
    assert.equal(s.cluster.masters_connected, 3);
    assert.equal(s.cluster.slots, 16384);
    assert.ok(s.cluster.maps >= 1);
    await allServed(ngx, cookies, 'again');
    assert.equal((await storeStatus(ngx)).cluster.redirects, s.cluster.redirects, 'the map routes every key right');
  });

  await step(t, h, 'logout: the session key is deleted on its node, the others live', async () => {
    const ua = new UserAgent();
    const { cookie } = await login(ua, ngx.url, '/app');
    const before = (await keysByNode(nodes)).flat().length;
    const res = await ua.fetch(`${ngx.url}/logout`, {
      method: 'POST',
      headers: { ...NAV, 'sec-fetch-site': 'same-origin', origin: ngx.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(res.status, 302, `${res.status} ${res.body.slice(0, 200)}`);
    await waitFor(async () => (await keysByNode(nodes)).flat().length === before - 1, { timeout: 2000, interval: 50, what: 'the key deleted' });
    assertLoginRedirect(await ngx.get('/app/x', { headers: withSession(cookie) }), `${op.issuer}/auth`);
    await allServed(ngx, cookies, 'after-logout');
  });
});

itest('Redis Cluster: a slot migrated while traffic runs (ASK, then MOVED, then the new map) and a node resharded away lose nothing', async (h, t) => {
  const nodes = await startCluster(h, 3);
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const ngx = await h.nginx(conf(op, upstream, port, nodes, secretFile(h.dir, 'secret')), { workers: 1 }).start();
  await ngx.waitProvider('p', 'ready');
  const cookies = await logins(ngx, SESSIONS);
  await allServed(ngx, cookies, 'before');

  // a node that holds a session, its key and slot, and where it goes
  const keys = await keysByNode(nodes);
  const from = keys.findIndex((k) => k.length);
  const src = nodes[from];
  const dst = nodes[(from + 1) % 3];
  const key = keys[from][0];
  const slot = await src.cli('CLUSTER', 'KEYSLOT', key);
  const load = traffic(ngx, cookies);

  await step(t, h, 'the slot is migrating and its key already moved: the source answers ASK, nginx asks the target', async () => {
    await dst.cli('CLUSTER', 'SETSLOT', slot, 'IMPORTING', src.id);
    await src.cli('CLUSTER', 'SETSLOT', slot, 'MIGRATING', dst.id);
    const redirects = (await storeStatus(ngx)).cluster.redirects;
    assert.equal(await src.cli('MIGRATE', '127.0.0.1', String(dst.port), key, '0', '5000'), 'OK');
    assert.match(await dst.cli('EXISTS', key), /^MOVED /, 'outside ASKING, the importing node sends the key back');
    await allServed(ngx, cookies, 'ask');
    assert.ok((await storeStatus(ngx)).cluster.redirects > redirects, 'ASK followed');
  });

  await step(t, h, 'the slot moved: the source answers MOVED, nginx follows it and reads the new map', async () => {
    const maps = (await storeStatus(ngx)).cluster.maps;
    for (const n of [dst, src, ...nodes.filter((n) => n !== dst && n !== src)]) {
      await n.cli('CLUSTER', 'SETSLOT', slot, 'NODE', dst.id);
    }
    await allServed(ngx, cookies, 'moved');
    await waitFor(async () => (await storeStatus(ngx)).cluster.maps > maps, { timeout: 3000, interval: 50, what: 'the map read again' });
    await allServed(ngx, cookies, 'settled');
    const redirects = (await storeStatus(ngx)).cluster.redirects;
    await allServed(ngx, cookies, 'mapped');
    assert.equal((await storeStatus(ngx)).cluster.redirects, redirects, 'no redirect with the new map');
  });

  await step(t, h, 'every slot of a node resharded to another under traffic (redis-cli --cluster reshard)', async () => {
    const away = nodes[(from + 2) % 3];
    const line = (await away.cli('CLUSTER', 'NODES')).split('\n').find((l) => l.startsWith(away.id));
    const slots = line.trim().split(' ').slice(8).filter((r) => /^\d+(-\d+)?$/.test(r))
      .reduce((n, r) => { const [a, b = a] = r.split('-').map(Number); return n + b - a + 1; }, 0);
    assert.ok(slots > 0, 'the node holds slots');
    await new Promise((resolve, reject) => {
      execFile(REDIS_CLI, ['--cluster', 'reshard', away.addr, '--cluster-from', away.id, '--cluster-to', src.id,
        '--cluster-slots', String(slots), '--cluster-yes'], { timeout: 120000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(`reshard: ${err.message} ${stderr}`)) : resolve(stdout)));
    });
    assert.deepEqual(await away.keys('oidc:s:*'), [], 'the node holds no session now');
    await sleep(200);
    await allServed(ngx, cookies, 'resharded');
  });

  await step(t, h, 'the traffic throughout: every request 200', async () => {
    const { failures, count } = await load.stop();
    assert.ok(count >= SESSIONS * 3, `traffic ran: ${count} requests`);
    assert.deepEqual(failures, [], `${failures.length} of ${count} requests failed`);
    assert.equal((await keysByNode(nodes)).flat().length, SESSIONS, 'no session lost');
  });
});

// The worker's session cache on a Cluster: each master's connection reads
// with CLIENT TRACKING, invalidations come to a subscriber on the same
// node. A logout on another host is refused here within the bound; after
// the session's slot moved to another master, still.
const INVALIDATION_BOUND_MS = 500;

itest('Redis Cluster with the worker cache: sessions from memory, kept exact by every master, across a slot migration', async (h, t) => {
  const nodes = await startCluster(h, 3);
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const secret = secretFile(h.dir, 'secret');
  const [a, b] = [await h.port(), await h.port()].map((port) => h.nginx(conf(op, upstream, port, nodes, secret), { workers: 1 }));
  await a.start();
  await b.start();
  await a.waitProvider('p', 'ready');
  await b.waitProvider('p', 'ready');
  await waitFor(async () => (await storeStatus(a)).cache?.tracking === true, { timeout: 5000, what: 'tracking on every master' });
  const logout = async (ua, ngx) => {
    const res = await ua.fetch(`${ngx.url}/logout`, {
      method: 'POST',
      headers: { ...NAV, 'sec-fetch-site': 'same-origin', origin: ngx.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(res.status, 302, `logout: ${res.status}`);
  };
  /** ms until host `ngx` refuses the session. */
  const refusedWithin = async (ngx, cookie) => {
    const t0 = Date.now();
    await waitFor(async () => (await ngx.get('/app/api', { headers: withSession(cookie, XHR) })).status === 401,
      { timeout: INVALIDATION_BOUND_MS, interval: 5, what: 'the session refused on the other host' });
    return Date.now() - t0;
  };

  await step(t, h, 'a session read once, then answered from the worker\'s memory', async () => {
    const cookies = await logins(a, 3);
    await allServed(a, cookies, 'fill');
    const before = await storeStatus(a);
    await allServed(a, cookies, 'hit');
    await allServed(a, cookies, 'hit2');
    const after = await storeStatus(a);
    assert.equal(after.cache.hits - before.cache.hits, 6, JSON.stringify(after.cache));
    assert.equal(after.commands, before.commands, 'no command for a cached session');
  });

  await step(t, h, `a logout on host B: host A refuses the session within ${INVALIDATION_BOUND_MS} ms`, async () => {
    const ua = new UserAgent();
    const { cookie } = await login(ua, a.url, '/app');
    await allServed(a, [cookie], 'cached');
    await allServed(a, [cookie], 'cached');
    await logout(ua, b);
    t.diagnostic(`refused on A ${await refusedWithin(a, cookie)} ms after the logout on B`);
  });

  await step(t, h, 'the session\'s slot migrated to another master: still served, and a logout on B still reaches A', async () => {
    const ua = new UserAgent();
    const before = new Set((await keysByNode(nodes)).flat());
    const { cookie } = await login(ua, a.url, '/app');
    const keys = await keysByNode(nodes);
    const from = keys.findIndex((k) => k.some((key) => !before.has(key)));
    const key = keys[from].find((k) => !before.has(k));
    await allServed(a, [cookie], 'before-move');
    const src = nodes[from];
    const dst = nodes[(from + 1) % 3];
    const slot = await src.cli('CLUSTER', 'KEYSLOT', key);
    await dst.cli('CLUSTER', 'SETSLOT', slot, 'IMPORTING', src.id);
    await src.cli('CLUSTER', 'SETSLOT', slot, 'MIGRATING', dst.id);
    assert.equal(await src.cli('MIGRATE', '127.0.0.1', String(dst.port), key, '0', '5000'), 'OK');
    await allServed(a, [cookie], 'asked');
    for (const n of [dst, src, ...nodes.filter((n) => n !== dst && n !== src)]) {
      await n.cli('CLUSTER', 'SETSLOT', slot, 'NODE', dst.id);
    }
    await allServed(a, [cookie], 'moved');
    await sleep(300); // the map read again
    await allServed(a, [cookie], 'mapped');
    const hits = (await storeStatus(a)).cache.hits;
    await allServed(a, [cookie], 'cached-on-dst');
    assert.equal((await storeStatus(a)).cache.hits, hits + 1, 'cached again, from its new master');
    await logout(ua, b);
    t.diagnostic(`after the move: refused on A ${await refusedWithin(a, cookie)} ms after the logout on B`);
  });
});

// a failover here: node timeout 2 s, then the replica's election
const RECOVERY_BOUND_MS = 15000;

itest('Redis Cluster: a master killed under traffic fails over to its replica: 503 meanwhile (never a login), then every session back, none lost', async (h, t) => {
  const nodes = await startCluster(h, 3, { replicas: 1 });
  const [master, , , replica] = nodes;
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  // basicServer has /plain, which needs no session
  const ngx = await h.nginx(conf(op, upstream, port, nodes.slice(0, 3), secretFile(h.dir, 'secret')), { workers: 2 }).start();
  await ngx.waitProvider('p', 'ready');
  const cookies = await logins(ngx, SESSIONS);
  // the killed master must hold a session, whose requests then get 503
  for (let i = 0; i < 30 && (await master.keys('oidc:s:*')).length === 0; i += 1) {
    cookies.push(...await logins(ngx, 1));
  }
  await waitFor(async () => (await replica.keys('oidc:s:*')).length === (await master.keys('oidc:s:*')).length,
    { timeout: 5000, what: 'the replica has the master\'s sessions' });
  const onMaster = (await master.keys('oidc:s:*')).length;
  const load = traffic(ngx, cookies);

  await step(t, h, `the master killed: requests recover within ${RECOVERY_BOUND_MS} ms, /plain answers throughout`, async () => {
    const killed = Date.now();
    await master.kill();
    let statuses = [];
    const plain = [];
    const all = () => Promise.all(cookies.map((c, i) => ngx.get(`/app/failover/${i}`, { headers: withSession(c) })
      .then((r) => r.status)));
    // first the outage (a worker may answer from its cache until it sees the
    // connection close: the record did not change), then the recovery
    await waitFor(async () => (await all()).includes(503), { timeout: 5000, interval: 20, what: 'a 503 for a session of the killed master' });
    await waitFor(async () => {
      plain.push((await ngx.get('/plain')).status);
      statuses = await all();
      return statuses.every((s) => s === 200);
    }, { timeout: RECOVERY_BOUND_MS, interval: 100, what: 'every session served again', describe: () => statuses.join(',') });
    assert.deepEqual(plain.filter((s) => s !== 200), [], '/plain while failing over');
    t.diagnostic(`recovered ${Date.now() - killed} ms after the kill; ${onMaster} of ${cookies.length} sessions were on the killed master`);
    assert.match(await replica.cli('ROLE'), /^master/, 'the replica was promoted');
  });

  await step(t, h, 'the traffic throughout: only 503 while failing over, never a login or a 401', async () => {
    const { failures, count } = await load.stop();
    assert.ok(count > 0);
    for (const f of failures) assert.match(f, /: 503$/, `a failure that is not a 503: ${failures}`);
    await allServed(ngx, cookies, 'after');
    assert.equal((await ngx.status()).stores.cl.cluster.masters_connected, 3);
  });

  await step(t, h, 'error.log: the incident said once per worker and kind (node lost, cluster down), not per request', async () => {
    const errors = ngx.errorLog().split('\n').filter((l) => /\[error\]/.test(l));
    const perWorker = new Map();
    for (const l of errors) {
      const pid = /\[error\] (\d+)#/.exec(l)[1];
      perWorker.set(pid, (perWorker.get(pid) || 0) + 1);
    }
    for (const [pid, n] of perWorker) assert.ok(n <= 3, `worker ${pid}: ${n} [error] lines:\n${errors.join('\n')}`);
    assert.match(errors.join('\n'), /oidc_session_store "cl": connection to Redis 127\.0\.0\.1:\d+ lost/);
  });
});

// A record's names under two secrets hash to two slots: after a rotation a
// session sealed with the old secret is read, refreshed and deleted under
// its old name, each a command of its own on the node of that name.
itest('Redis Cluster after a secret rotation: an old session is read, refreshed once by two hosts, and logged out where it lives', async (h, t) => {
  const nodes = await startCluster(h, 3);
  const idp = await shortTokens(h);
  const upstream = await h.echo();
  const secretA = secretFile(h.dir, 'a.secret');
  const secretB = secretFile(h.dir, 'b.secret');
  const ports = [await h.port(), await h.port()];
  const conf2 = (port, params) => `
${clusterStore('cl', nodes, params)}
${providerBlock('idp', idp.issuer, { ...REFRESHING, session_store: 'cl', logout_uri: '/logout' })}
${basicServer(port, protectedLocation('/app', 'idp', upstream.url))}`;
  const [a, b] = ports.map((port) => h.nginx(conf2(port, { secret_file: secretA }), { workers: 2 }));
  await a.start();
  await b.start();
  await a.waitProvider('idp', 'ready');
  await b.waitProvider('idp', 'ready');
  const ua = new UserAgent();
  const { cookie } = await login(ua, a.url, '/app/', { op: 'real' });
  const [oldKey] = (await keysByNode(nodes)).flat();
  const since = Date.now();
  await seen(b, cookie);

  await step(t, h, 'rotated (secret B, previous A) on both hosts: the old session still works', async () => {
    for (const n of [a, b]) await n.reload(conf2(n === a ? ports[0] : ports[1], { secret_file: secretB, previous_secret_file: secretA }));
    await seen(a, cookie);
    await seen(b, cookie);
  });

  await step(t, h, 'past expiry, 20 requests on both hosts: one refresh, the record replaced under its old name', async () => {
    // the tokens may have been refreshed already while the hosts reloaded
    // (due half-way through their 4 s, under ASan): past the latest ones
    await idp.settled();
    const before = idp.grantCount('refresh_token');
    await pastExpiry(Math.max(since, ...idp.grants.filter((g) => g.type === 'refresh_token').map((g) => g.at)));
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).get(`/app/r${i}`, {
      headers: withSession(cookie, XHR),
    })));
    assert.deepEqual(all.map((r) => r.status), Array(20).fill(200));
    assert.equal(new Set(all.map((r) => r.json().headers['x-access-token'])).size, 1, 'one access token on both hosts');
    await idp.settled();
    assert.equal(idp.grantCount('refresh_token'), before + 1, 'one refresh for both hosts');
    assert.deepEqual((await keysByNode(nodes)).flat(), [oldKey], 'one record, where it was');
  });

  await step(t, h, 'logout on B: the record under the old name is deleted', async () => {
    const res = await ua.fetch(`${b.url}/logout`, {
      method: 'POST',
      headers: { ...NAV, 'sec-fetch-site': 'same-origin', origin: b.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(res.status, 302, `${res.status} ${res.body.slice(0, 200)}`);
    await waitFor(async () => (await keysByNode(nodes)).flat().length === 0, { timeout: 2000, interval: 50, what: 'the record deleted' });
    assert.equal((await a.get('/app/x', { headers: withSession(cookie, XHR) })).status, 401);
  });
});

// TLS to every node: the seeds as tls://, the nodes the map names reached
// with TLS as well, each certificate verified for the same name.
itest('Redis Cluster over TLS (cluster=tls://): every master reached with TLS and verified; a wrong CA fails closed', async (h, t) => {
  const ca = makeCA(h.dir, 'ca');
  const other = makeCA(h.dir, 'other');
  const server = makeServerCert(ca, 'redis', { eku: 'serverAuth,clientAuth' });
  const nodes = await startCluster(h, 3, { tls: { cert: server.cert, key: server.key, ca: ca.cert } });
  const op = await h.fakeOp();
  const upstream = await h.echo();
  const port = await h.port();
  const tlsConf = (trusted) => `
    oidc_session_store cl cluster=tls://${nodes[0].tlsAddr} ssl_trusted_certificate=${trusted} secret_file=${secretFile(h.dir, 'secret')} timeout=500ms;
${providerBlock('p', op.issuer, { session_store: 'cl' })}
${basicServer(port, protectedLocation('/app', 'p', upstream.url))}`;

  await step(t, h, 'the test CA: sessions on every master, all served', async () => {
    const ngx = await h.nginx(tlsConf(ca.cert), { workers: 1 }).start();
    await ngx.waitProvider('p', 'ready');
    const cookies = await logins(ngx, SESSIONS);
    const keys = await keysByNode(nodes);
    assert.ok(keys.filter((k) => k.length).length >= 2, `sessions on at least two nodes: ${keys.map((k) => k.length)}`);
    await allServed(ngx, cookies, 'tls');
    const s = await storeStatus(ngx);
    assert.equal(s.cluster.masters_connected, 3, JSON.stringify(s));
    // every master's TLS port: the map gave TLS ports to a TLS client
    const clients = await Promise.all(nodes.map((n) => n.cli('CLIENT', 'LIST')));
    for (const [i, list] of clients.entries()) {
      assert.match(list, new RegExp(`laddr=${nodes[i].tlsAddr.replace(/\./g, '\\.')} `), `node ${i}: nginx on its TLS port`);
    }
    await ngx.stop();
  });

  await step(t, h, 'another CA: 503, one error line naming the verification, never plaintext', async () => {
    const ngx = await h.nginx(tlsConf(other.cert), { workers: 1 }).start();
    await ngx.waitProvider('p', 'ready');
    const res = await ngx.get('/app/x', { headers: NAV });
    assert.equal(res.status, 503, `${res.status}`);
    assert.equal((await ngx.get('/app/y', { headers: NAV })).status, 503);
    const errors = ngx.errorLog().split('\n').filter((l) => /\[error\]/.test(l));
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0], /SSL certificate verify error for Redis (tls:\/\/)?127\.0\.0\.1:\d+: \(19:self-signed certificate in certificate chain\)/);
    await ngx.stop();
  });
});

itest('Redis Cluster: nginx -t refuses cluster= with redis=, sentinel=, db= or half TLS', async (h) => {
  const port = await h.port();
  const secret = secretFile(h.dir, 'secret');
  for (const [params, re] of [
    ['cluster=127.0.0.1:7000 redis=127.0.0.1:6379', /"cluster=" goes without "redis=", "sentinel=" and "db="/],
    ['cluster=tls://127.0.0.1:7000 cluster=127.0.0.1:7001', /every seed node is reached with TLS \("tls:\/\/"\) or none/],
    ['cluster=127.0.0.1:7000 sentinel=127.0.0.1:26379 master_name=m', /go together, without "redis="|"cluster=" goes without/],
    ['cluster=127.0.0.1:7000 db=2', /"cluster=" goes without .*"db=" \(a Cluster has database 0 only\)/],
    ['cluster=unix:/tmp/x.sock', /a Redis Cluster is reached over TCP/],
    ['cluster=127.0.0.1:7000 ssl_name=x', /"ssl_\*=" parameters need "redis=tls:\/\/\.\.\."/],
  ]) {
    const res = await h.nginx(`
    oidc_session_store s ${params} secret_file=${secret};
${providerBlock('idp', 'http://127.0.0.1:9', { session_store: 's' })}
${basicServer(port, protectedLocation('/app', 'idp', 'http://127.0.0.1:9'))}`).test();
    assert.equal(res.ok, false, params);
    assert.match(res.stderr, re, params);
  }
  const ok = await h.nginx(`
    oidc_session_store s cluster=127.0.0.1:7000 cluster=localhost:7001 secret_file=${secret} timeout=200ms cache=16m cache_max_age=10s;
${providerBlock('idp', 'http://127.0.0.1:9', { session_store: 's' })}
${basicServer(port, protectedLocation('/app', 'idp', 'http://127.0.0.1:9'))}`).test();
  assert.equal(ok.ok, true, ok.stderr);
  const tls = await h.nginx(`
    oidc_session_store s cluster=tls://127.0.0.1:7000 cluster=tls://127.0.0.1:7001 ssl_name=redis.internal secret_file=${secret};
${providerBlock('idp', 'http://127.0.0.1:9', { session_store: 's' })}
${basicServer(port, protectedLocation('/app', 'idp', 'http://127.0.0.1:9'))}`).test();
  assert.equal(tls.ok, true, tls.stderr);
});
