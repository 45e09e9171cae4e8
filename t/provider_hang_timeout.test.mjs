// A provider that accepts the connection and never answers: the fetch times
// out after read_timeout, and nginx keeps serving other requests meanwhile
// (the fetch must not block the worker).
import assert from 'node:assert/strict';
import { basicServer, oidcProvider } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';

const FAST_MS = 300;

async function checkResponsive(ngx, name) {
  for (let i = 0; i < 5; i += 1) {
    const plain = await ngx.get('/plain', { timeout: 2000 });
    assert.equal(plain.status, 200);
    assert.ok(plain.ms < FAST_MS, `/plain took ${plain.ms.toFixed(0)} ms while the fetch hangs`);
  }
  const st = await ngx.get('/status', { timeout: 2000 });
  assert.equal(st.status, 200);
  assert.ok(st.ms < FAST_MS, `/status took ${st.ms.toFixed(0)} ms while the fetch hangs`);
  const p = JSON.parse(st.body).providers[name];
  assert.ok(['pending', 'error'].includes(p.state), `state while hanging: ${p.state}`);
  assert.notEqual(p.state, 'ready');
}

async function run(h, { name, scheme, minMs }) {
  const hang = await h.hang();
  const port = await h.port();
  const base = `${scheme}://127.0.0.1:${hang.port}`;
  const ngx = await h.nginx(`
${oidcProvider(name, {
    issuer: base, client_id: 'test-client',
    config_url: `${base}/.well-known/openid-configuration`,
    connect_timeout: '1s', send_timeout: '1s', read_timeout: '2s', metadata_retry: '30s',
  })}
${basicServer(port)}`, { workers: 1 }).start();

  const conn = await hang.waitConnection(1, 5000);
  await checkResponsive(ngx, name);

  const p = await ngx.waitProvider(name, (s) => s.last_error !== null, { timeout: 6000, interval: 50 });
  const elapsed = Date.now() - conn.at;
  assert.match(p.last_error, /timed out/i);
  assert.equal(p.state, 'error');
  assert.ok(p.failures >= 1);
  assert.ok(elapsed >= minMs, `timed out after ${elapsed} ms, too early for the configured timeouts`);
  await ngx.waitForLog(new RegExp(`\\[error\\].*auth_oidc: provider "${name}".*timed out`, 'i'));
  await checkResponsive(ngx, name);
  return { hang, ngx };
}

itest('hanging provider (http): read_timeout fires, nginx stays responsive', async (h) => {
  const { hang } = await run(h, { name: 'hang', scheme: 'http', minMs: 1500 }); // read_timeout 2s
  assert.ok(hang.connections[0].bytes > 0, 'the module sent its request');
});

itest('hanging provider (TLS handshake never answered): times out, nginx stays responsive', async (h) => {
  // the handshake may be bounded by connect_timeout (1s) or read_timeout (2s)
  await run(h, { name: 'hangtls', scheme: 'https', minMs: 800 });
});
