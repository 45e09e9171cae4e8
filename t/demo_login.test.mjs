// `make demo` works end to end: the launcher starts the provider, the app and
// nginx, the demo user logs in through the provider's form, the app shows the
// identity, and Ctrl-C (SIGINT) stops everything it started.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { UserAgent } from './lib/browser.mjs';
import { itest } from './lib/harness.mjs';
import { login, NAV, withSession } from './lib/login.mjs';
import { REPO } from './lib/nginx.mjs';
import { portOpen } from './lib/ports.mjs';
import { waitExit, waitFor } from './lib/util.mjs';

itest('the demo logs the demo user in end to end', async (h) => {
  const ports = { DEMO_PORT: await h.port(), DEMO_PROVIDER_PORT: await h.port(), DEMO_APP_PORT: await h.port() };
  const env = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  const demo = spawn(process.execPath, [path.join(REPO, 't/demo/demo.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (d) => { out += d; });
  demo.stderr.on('data', (d) => { out += d; });
  h.defer(async () => {
    // SIGTERM first: the demo stops what it started (a SIGKILL would orphan its nginx)
    if (demo.exitCode === null && demo.signalCode === null) {
      demo.kill('SIGTERM');
      if (!(await waitExit(demo, 8000))) { demo.kill('SIGKILL'); await waitExit(demo, 2000); }
    }
  });

  await waitFor(() => out.includes('Press Ctrl-C'), { timeout: 20000, what: 'the demo to start', describe: () => out });
  assert.match(out, /Demo credentials:\s+demo \/ demo/);
  assert.match(out, /provider "demo": ready/);

  const base = `http://127.0.0.1:${ports.DEMO_PORT}`;
  const ua = new UserAgent();
  const { cookie, location } = await login(ua, base, '/welcome', { op: 'real', user: 'demo', password: 'demo' });
  assert.equal(location, '/welcome');

  const page = await ua.fetch(`${base}/welcome`, { headers: withSession(cookie, NAV) });
  assert.equal(page.status, 200);
  assert.match(page.body, /<th>x-user-sub<\/th><td>demo<\/td>/);
  assert.match(page.body, /<th>x-user-email<\/th><td>demo@example\.test<\/td>/);

  demo.kill('SIGINT');
  const exit = await waitExit(demo, 10000);
  assert.deepEqual(exit, { code: 0, signal: null }, out);
  for (const port of Object.values(ports)) {
    assert.equal(await portOpen(port), false, `port ${port} still open after Ctrl-C`);
  }
});
