// A redis-server child for the Redis session store tests: its own directory
// and port on 127.0.0.1, no persistence unless asked, and redis-cli for
// looking inside. Stopped/killed/restarted on the same port and directory.
//
//   const redis = await startRedis(h, { password: 's3cret', unixsocket: true });
//   await redis.cli('SET', 'k', 'v');           // stdout as text (trimmed)
//   const v = await redis.getBuffer('oidc:s:...');  // Buffer or null
//   const keys = await redis.keys('oidc:*');    // SCAN, sorted
//   redis.kill(); await redis.restart();         // SIGKILL, then same port/dir
//
// REDIS_SERVER_BIN / REDIS_CLI_BIN override /usr/bin/redis-server / redis-cli.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './ports.mjs';
import { captureStream, sleep, tail, verbose, waitExit, waitFor } from './util.mjs';

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN || '/usr/bin/redis-server';
export const REDIS_CLI = process.env.REDIS_CLI_BIN || '/usr/bin/redis-cli';

const live = new Set();
process.on('exit', () => { for (const r of live) r.kill(); });

export function redisAvailable() {
  return fs.existsSync(REDIS_SERVER) && fs.existsSync(REDIS_CLI);
}

export class Redis {
  /**
   * dir: its directory (created; the working dir, logfile, AOF, socket);
   * opts: port (default: a free one), password (requirepass), users
   * ([{name, password}] ACL users with all keys and commands), unixsocket
   * (true: <dir>/redis.sock, mode 777), persist (AOF with fsync always, so
   * data survives SIGKILL), debug (allow DEBUG from local clients), args
   * (more redis-server arguments).
   */
  constructor(dir, opts = {}) {
    this.dir = path.resolve(dir);
    this.opts = opts;
    this.port = opts.port;
    this.password = opts.password;
    this.socket = opts.unixsocket ? path.join(this.dir, 'redis.sock') : null;
    this.logPath = path.join(this.dir, 'redis.log');
    this.proc = null;
    this.output = { text: '' };
  }

  get addr() { return `127.0.0.1:${this.port}`; }

  serverArgs() {
    const o = this.opts;
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--daemonize', 'no', '--logfile', this.logPath, '--save', '',
      '--databases', '16',
    ];
    if (o.persist) args.push('--appendonly', 'yes', '--appendfsync', 'always');
    else args.push('--appendonly', 'no');
    if (o.password) args.push('--requirepass', o.password);
    for (const u of o.users || []) args.push('--user', u.name, 'on', `>${u.password}`, '~*', '&*', '+@all');
    if (this.socket) args.push('--unixsocket', this.socket, '--unixsocketperm', '777');
    if (o.debug) args.push('--enable-debug-command', 'local');
    args.push(...(o.args || []));
    return args;
  }

  /** Start (again, same port and directory); resolves when it answers PING. */
  async start({ timeout = 10000 } = {}) {
    if (this.proc) throw new Error('redis-server already running');
    this.port ??= await freePort();
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(this.dir, 0o755);
    const proc = spawn(REDIS_SERVER, this.serverArgs(), { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    live.add(this);
    this.output = captureStream(proc.stderr, { echo: verbose() ? process.stderr : null });
    captureStream(proc.stdout, { echo: verbose() ? process.stderr : null });
    proc.once('exit', () => { live.delete(this); if (this.proc === proc) this.proc = null; });
    try {
      await this.waitReady({ timeout, proc });
    } catch (err) {
      this.kill();
      throw new Error(`redis-server did not start on ${this.addr}: ${err.message.split('\n')[0]}\n`
        + `--- redis output ---\n${tail(this.output.text, 20)}\n--- redis.log ---\n${tail(this.log(), 20)}`);
    }
    return this;
  }

  /** Resolves when PING answers PONG (the data set is loaded). */
  waitReady({ timeout = 10000, proc = this.proc } = {}) {
    return waitFor(async () => {
      if (proc && (proc.exitCode !== null || proc.signalCode !== null)) {
        throw Object.assign(new Error(`redis-server exited (${proc.exitCode ?? proc.signalCode})`), { fatal: true });
      }
      const r = await this.run(['PING'], { timeout: 1000 });
      return r.code === 0 && r.stdout.trim() === 'PONG';
    }, { timeout, interval: 30, what: `redis-server PING on ${this.addr}` });
  }

  /** SIGKILL: no shutdown, no save; the port is free at once. */
  kill() {
    const proc = this.proc;
    if (!proc) return Promise.resolve(null);
    try { proc.kill('SIGKILL'); } catch { /* gone */ }
    return waitExit(proc, 5000);
  }

  /** SIGTERM and wait (SIGKILL after `timeout`). */
  async stop({ timeout = 5000 } = {}) {
    const proc = this.proc;
    if (!proc) return null;
    proc.kill('SIGTERM');
    let res = await waitExit(proc, timeout);
    if (!res) res = await this.kill();
    return res;
  }

  /** Kill (if running) and start again on the same port and directory. */
  async restart(opts) {
    await this.kill();
    return this.start(opts);
  }

  /** redis-cli argv (auth added), resolves {code, stdout (Buffer if binary), stderr}. */
  run(args, { binary = false, timeout = 5000, input, db } = {}) {
    const base = ['-h', '127.0.0.1', '-p', String(this.port)];
    if (db !== undefined) base.push('-n', String(db));
    const env = { ...process.env };
    if (this.password) env.REDISCLI_AUTH = this.password;
    return new Promise((resolve) => {
      const child = execFile(REDIS_CLI, [...base, ...args], {
        timeout, env, encoding: binary ? 'buffer' : 'utf8', maxBuffer: 16 * 1024 * 1024,
      }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr: String(stderr) });
      });
      if (input !== undefined) child.stdin.end(input);
    });
  }

  /**
   * One command through redis-cli --raw; resolves its output (text, trimmed).
   * Throws when redis-cli fails or the reply is an error.
   */
  async cli(...args) {
    const r = await this.run(['--raw', ...args]);
    const out = String(r.stdout);
    if (r.code !== 0 || /^(ERR|WRONGTYPE|NOAUTH|WRONGPASS|NOPERM)\b/.test(out)) {
      throw new Error(`redis-cli ${args.join(' ')}: exit ${r.code}: ${out.trim()} ${r.stderr.trim()}`);
    }
    return out.replace(/\n$/, '');
  }

  /** Same, in database `db`. */
  async cliDb(db, ...args) {
    const r = await this.run(['--raw', ...args], { db });
    if (r.code !== 0) throw new Error(`redis-cli -n ${db} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return String(r.stdout).replace(/\n$/, '');
  }

  /** All keys matching `pattern` (SCAN), sorted. */
  async keys(pattern = '*', { db } = {}) {
    const r = await this.run(['--scan', '--pattern', pattern], { db });
    if (r.code !== 0) throw new Error(`redis-cli --scan: exit ${r.code}: ${r.stderr}`);
    return String(r.stdout).split('\n').filter(Boolean).sort();
  }

  /** The value of `key` byte for byte (GET in --raw mode), or null when missing. */
  async getBuffer(key, { db } = {}) {
    if ((await this.cliDb(db ?? 0, 'EXISTS', key)) !== '1') return null;
    const r = await this.run(['--raw', 'GET', key], { binary: true, db });
    if (r.code !== 0) throw new Error(`redis-cli GET ${key}: exit ${r.code}: ${r.stderr}`);
    const out = r.stdout;
    // --raw appends one newline after the value
    return out.length && out[out.length - 1] === 0x0a ? out.subarray(0, out.length - 1) : out;
  }

  /** The value as redis-cli --no-raw prints it (quoted, \xNN escapes). */
  async getEscaped(key, { db } = {}) {
    const r = await this.run(['--no-raw', 'GET', key], { db });
    if (r.code !== 0) throw new Error(`redis-cli GET ${key}: exit ${r.code}: ${r.stderr}`);
    return String(r.stdout).trim();
  }

  /** SET `key` to exactly these bytes (redis-cli -x reads the value from stdin). */
  async setBuffer(key, value) {
    const r = await this.run(['-x', 'SET', key], { input: value });
    if (r.code !== 0 || !/^OK/.test(String(r.stdout))) {
      throw new Error(`redis-cli -x SET ${key}: exit ${r.code}: ${String(r.stdout).trim()} ${r.stderr.trim()}`);
    }
  }

  log() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }
}

/**
 * A started Redis in <h.dir>/redis[N] (opts as for Redis), killed when the
 * test ends. opts.start === false: not started.
 */
export async function startRedis(h, opts = {}) {
  h.redisCount = (h.redisCount ?? 0) + 1;
  const dir = path.join(h.dir, h.redisCount === 1 ? 'redis' : `redis${h.redisCount}`);
  const redis = new Redis(dir, opts);
  h.defer(() => redis.kill());
  if (opts.start !== false) await redis.start();
  return redis;
}

/**
 * A Redis Cluster of `masters` real redis-server nodes, the 16384 slots
 * split evenly, and `replicas` more nodes, replica i of master i; every
 * node agreeing that the cluster is ok. Returns the nodes (Redis), masters
 * first, each with `id` (CLUSTER MYID) and, with `tls`, `tlsAddr`.
 */
export async function startCluster(h, masters = 3, { replicas = 0, tls } = {}) {
  const nodes = [];
  for (let i = 0; i < masters + replicas; i += 1) {
    // the bus on a free port of its own, not the port + 10000 default
    const bus = await freePort();
    const args = ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000', '--cluster-config-file', `nodes-${i}.conf`,
      '--cluster-port', String(bus)];
    // tls {cert, key, ca}: a tls-port too (the plain one stays, for the
    // harness), the bus over TLS, and the map giving TLS clients TLS ports
    const tlsPort = tls ? await freePort() : null;
    if (tls) {
      args.push('--tls-port', String(tlsPort), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key,
        '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no', '--tls-cluster', 'yes', '--tls-replication', 'yes');
    }
    nodes.push(await startRedis(h, { args }));
    nodes[i].bus = bus;
    if (tls) nodes[i].tlsAddr = `127.0.0.1:${tlsPort}`;
  }
  const per = Math.floor(16384 / masters);
  for (let i = 0; i < masters; i += 1) {
    const last = i === masters - 1 ? 16383 : (i + 1) * per - 1;
    await nodes[i].cli('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(last));
    nodes[i].id = await nodes[i].cli('CLUSTER', 'MYID');
  }
  for (let i = 1; i < nodes.length; i += 1) await nodes[0].cli('CLUSTER', 'MEET', '127.0.0.1', String(nodes[i].port), String(nodes[i].bus));
  const known = async () => {
    for (const n of nodes) {
      if ((await n.cli('CLUSTER', 'NODES')).trim().split('\n').length !== nodes.length) return false;
    }
    return true;
  };
  await waitFor(known, { timeout: 15000, what: 'the nodes know each other' });
  // replica i follows master i
  for (let i = 0; i < replicas; i += 1) {
    const replica = nodes[masters + i];
    replica.id = await replica.cli('CLUSTER', 'MYID');
    await replica.cli('CLUSTER', 'REPLICATE', nodes[i].id);
    await waitFor(async () => /master_link_status:up/.test(await replica.cli('INFO', 'replication')),
      { timeout: 15000, what: `replica of master ${i} in sync` });
  }
  await waitFor(async () => {
    for (const n of nodes) {
      if (!/cluster_state:ok/.test(await n.cli('CLUSTER', 'INFO'))) return false;
    }
    return known();
  }, { timeout: 15000, what: `a ${masters}-master Redis Cluster` });
  return nodes;
}

/** `oidc_session_store NAME cluster=ADDR ... key=value ...;` */
export function clusterStore(name, nodes, params = {}) {
  const seeds = nodes.map((n) => ` cluster=${n.addr}`).join('');
  const ps = Object.entries(params).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => ` ${k}=${v}`);
  return `    oidc_session_store ${name}${seeds}${ps.join('')};\n`;
}

/** A secret file of `bytes` random base64url characters (plus `tail`) in `dir`. */
export function secretFile(dir, name, { bytes = 48, tail: end = '\n' } = {}) {
  const file = path.join(dir, name);
  const chars = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 1) chars[i] = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(Math.floor(Math.random() * 64));
  fs.writeFileSync(file, Buffer.concat([chars, Buffer.from(end)]), { mode: 0o644 });
  return file;
}

/** `oidc_session_store NAME redis=ADDR key=value ...;` (null/undefined skipped). */
export function redisStore(name, addr, params = {}) {
  const ps = Object.entries(params).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => ` ${k}=${v}`);
  return `    oidc_session_store ${name} redis=${addr}${ps.join('')};\n`;
}

/** Regex for the Redis key names of the store: `<prefix><s|p>:<43 base64url>`. */
export const keyRe = (prefix = 'oidc:', kinds = 'sp') => new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[${kinds}]:[A-Za-z0-9_-]{43}$`);

export { sleep };
