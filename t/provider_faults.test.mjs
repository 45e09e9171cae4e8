// Providers that fail in the middle of an answer, or cannot even be found:
// each failure is said in the status and the error log, nginx keeps
// serving, and no worker dies.
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { basicServer, oidcProvider } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { discoveryDoc } from './lib/jwks.mjs';

/* A raw HTTP server answering every request with `answer(socket)`. */
async function rawServer(h, answer) {
  const server = net.createServer((socket) => {
    socket.once('data', () => answer(socket));
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.defer(() => new Promise((resolve) => server.close(() => resolve())));
  return { port: server.address().port, url: `http://127.0.0.1:${server.address().port}` };
}

async function startNginx(h, name, issuer, extra = {}, prelude = '') {
  const port = await h.port();
  return h.nginx(`
${prelude}
${oidcProvider(name, { issuer, client_id: 'c', metadata_retry: '30s', read_timeout: '2s', ...extra })}
${basicServer(port)}`, { workers: 1 }).start();
}

async function expectFailure(ngx, name, re) {
  const pids = ngx.workerPids();
  const p = await ngx.waitProvider(name, (s) => s.last_error !== null, { timeout: 8000 });
  assert.match(p.last_error, re);
  assert.equal(p.state, 'error');
  assert.equal(p.metadata, null);
  await ngx.waitForLog(new RegExp(`\\[error\\].*auth_oidc: provider "${name}".*(${re.source})`));
  assert.equal((await ngx.get('/plain')).status, 200);
  assert.deepEqual(ngx.workerPids(), pids, 'no worker died');
}

itest('the provider closes the connection in the middle of its answer', async (h) => {
  const srv = await rawServer(h, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"issuer":');
    setTimeout(() => socket.destroy(), 50);
  });
  const ngx = await startNginx(h, 'cut', srv.url);
  await expectFailure(ngx, 'cut', /closed the connection before the response was complete/);
});

itest('the provider sends less than its Content-Length says, then hangs', async (h) => {
  const srv = await rawServer(h, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n{"issuer":"x"}');
  });
  const ngx = await startNginx(h, 'short', srv.url, { read_timeout: '1s' });
  await expectFailure(ngx, 'short', /timed out/);
});

itest('the provider sends more than its Content-Length says: the rest is ignored', async (h) => {
  let base;
  const srv = await rawServer(h, (socket) => {
    const body = JSON.stringify(discoveryDoc(base));
    // declares 10 bytes less: what is kept is not JSON
    socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length - 10}\r\n\r\n${body}`);
  });
  base = srv.url;
  const ngx = await startNginx(h, 'long', srv.url);
  await expectFailure(ngx, 'long', /invalid JSON/);
});

itest('the provider answers something that is not HTTP', async (h) => {
  const srv = await rawServer(h, (socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n'));
  const ngx = await startNginx(h, 'nothttp', srv.url);
  await expectFailure(ngx, 'nothttp', /invalid HTTP status line/);
});

itest('with a resolver, a name that cannot be resolved is said, not blocked on', async (h) => {
  // a DNS server that answers every query with "no such name" (RCODE 3)
  const dns = dgram.createSocket('udp4');
  dns.on('message', (msg, rinfo) => {
    const reply = Buffer.from(msg);
    reply[2] = 0x81; // response, recursion desired
    reply[3] = 0x83; // recursion available, NXDOMAIN
    dns.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise((resolve) => dns.bind(0, '127.0.0.1', resolve));
  h.defer(() => new Promise((resolve) => dns.close(resolve)));

  const ngx = await startNginx(h, 'nodns', 'http://idp.example.invalid', {},
    `    resolver 127.0.0.1:${dns.address().port} ipv6=off;\n    resolver_timeout 2s;`);
  await expectFailure(ngx, 'nodns', /could not be resolved/);
});
