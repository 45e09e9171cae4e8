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
import { performance } from 'node:perf_hooks';
import { fakeOp, signJwt } from '../t/lib/fake-op.mjs';

if (!process.send) {
  process.stderr.write('bench/fake-op-child.mjs runs as a child of bench/run.mjs (needs an IPC channel)\n');
  process.exit(2);
}

const op = await fakeOp({ port: Number(process.env.BENCH_OP_PORT || 0) });

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

process.send({ ready: true, issuer: op.issuer, port: op.port });
