// The fake OP of the test suite (t/lib/fake-op.mjs) in a process of its own,
// for bench/run.mjs: the login loop (in the parent) and the OP's RSA signing
// do not share one event loop, and the OP's own time can be told apart.
//
// Protocol (IPC): on start the child sends {ready: true, issuer, port}. The
// parent sends {id, cmd: 'stats'} and gets {id, result: {cpuMs, paths:
// {path: {count, ms}}}}, where ms is the summed service time (request
// received -> response finished) per path; {id, cmd: 'accessToken'} gets
// {id, result: <a JWT access token>}. The child exits when the parent
// goes away (IPC disconnect) or on SIGTERM/SIGINT.
//
// BENCH_TOKENS=realistic (bench/load.mjs --tokens realistic): tokens of the
// size most providers issue, as text: an ID token of 1.5 KB (RS256, its
// claims padded with roles), a 1.5 KB JWT access token and, with
// BENCH_REFRESH=1, a 0.8 KB refresh token (600 random bytes, base64url).
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { makeRsaKey } from '../t/lib/jwks.mjs';
import { fakeOp, signJwt } from '../t/lib/fake-op.mjs';

if (!process.send) {
  process.stderr.write('bench/fake-op-child.mjs runs as a child of bench/run.mjs (needs an IPC channel)\n');
  process.exit(2);
}

const REALISTIC_BYTES = { idToken: 1500, accessToken: 1500, refreshToken: 800 };

// Claims a provider such as Keycloak or Entra ID puts in an ID token, and
// roles until a token for a 43-character nonce is `bytes` long.
function realisticUser(key, bytes) {
  const user = {
    sub: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6', email: 'jane.doe@example.test', email_verified: true,
    name: 'Jane Doe', given_name: 'Jane', family_name: 'Doe', preferred_username: 'jane.doe', locale: 'en',
    sid: crypto.randomUUID(), azp: 'test-client', acr: '1', session_state: crypto.randomUUID(), roles: [],
  };
  const size = () => signJwt({ alg: 'RS256', typ: 'JWT', kid: key.kid }, {
    iss: 'http://127.0.0.1:65535', aud: 'test-client', exp: 1e9, iat: 1e9, auth_time: 1e9, nonce: 'n'.repeat(43), ...user,
  }, key.privateKey).length;
  while (size() < bytes) user.roles.push(`role-${user.roles.length}`);
  return user;
}

function paddedJwt(key, claims, bytes) {
  const payload = { ...claims, roles: [] };
  const sign = () => signJwt({ alg: 'RS256', typ: 'at+jwt', kid: key.kid }, payload, key.privateKey);
  while (sign().length < bytes) payload.roles.push(`role-${payload.roles.length}`);
  return sign();
}

const realistic = process.env.BENCH_TOKENS === 'realistic';
const key = makeRsaKey({ kid: 'fake-1' });
let tokenFields;
if (realistic) {
  const now = Math.floor(Date.now() / 1000);
  const access = paddedJwt(key, {
    iss: 'bench', aud: 'api', sub: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6', client_id: 'bench-client', scope: 'openid profile email',
    iat: now, exp: now + 86400, jti: crypto.randomUUID(),
  }, REALISTIC_BYTES.accessToken);
  const refresh = process.env.BENCH_REFRESH === '1';
  tokenFields = () => ({
    access_token: access,
    ...(refresh ? { refresh_token: crypto.randomBytes(REALISTIC_BYTES.refreshToken / 4 * 3).toString('base64url') } : {}),
  });
}
const op = await fakeOp({
  port: Number(process.env.BENCH_OP_PORT || 0), key,
  ...(realistic ? { user: realisticUser(key, REALISTIC_BYTES.idToken), tokenFields } : {}),
});

const paths = {};
op.server.on('request', (req, res) => {
  const t0 = performance.now();
  const p = req.url.split('?')[0];
  res.on('finish', () => {
    const s = (paths[p] ??= { count: 0, ms: 0 });
    s.count += 1;
    s.ms += performance.now() - t0;
  });
});

// The fake OP records every request for the tests' assertions; a benchmark
// makes thousands, so drop what nobody will look at.
setInterval(() => {
  op.requests.length = 0;
  op.authRequests.length = 0;
  op.tokenRequests.length = 0;
  op.issued.length = 0;
  for (const [code, grant] of op.codes) if (grant.used) op.codes.delete(code);
}, 500).unref();

// A JWT access token as a provider signs one for an API (RFC 9068), for
// the audience the parent names (env BENCH_AUDIENCE).
function accessToken() {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ alg: 'RS256', typ: 'at+jwt', kid: op.signingKey.kid }, {
    iss: op.issuer, aud: process.env.BENCH_AUDIENCE, sub: 'bench-user', client_id: 'bench-client',
    scope: 'read write', iat: now, exp: now + 3600, jti: `bench-${now}`,
    email: 'bench@example.test',
  }, op.signingKey.privateKey);
}

process.on('message', (msg) => {
  if (msg?.cmd === 'stats') {
    const cpu = process.cpuUsage();
    process.send({ id: msg.id, result: { cpuMs: (cpu.user + cpu.system) / 1000, paths: structuredClone(paths) } });
  } else if (msg?.cmd === 'accessToken') {
    process.send({ id: msg.id, result: accessToken() });
  }
});

const quit = () => { op.close().finally(() => process.exit(0)); setTimeout(() => process.exit(0), 1000).unref(); };
process.on('disconnect', quit);
process.on('SIGTERM', quit);
process.on('SIGINT', quit);

// the sizes of the tokens as issued (text), for the run's report
const sample = op.makeIdToken({ nonce: 'n'.repeat(43) }).jwt.length;
const fields = tokenFields ? tokenFields() : {};
process.send({
  ready: true, issuer: op.issuer, port: op.port,
  tokenBytes: { idToken: sample, accessToken: fields.access_token?.length ?? 43, refreshToken: fields.refresh_token?.length ?? 0 },
});
