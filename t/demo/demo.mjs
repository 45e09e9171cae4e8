#!/usr/bin/env node
// Demo launcher (`make demo`): the test oidc-provider, a small app that shows
// the identity headers it receives, and nginx with the auth_oidc module in
// front of it, all on 127.0.0.1. Ctrl-C stops everything.
//
// Ports: DEMO_PROVIDER_PORT (9000), DEMO_APP_PORT (9001), DEMO_PORT (8080).
// The app is protected: the first visit goes through the provider's login
// form (demo / demo); /logout ends the session.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { MODULE_PATH, Nginx, REPO } from '../lib/nginx.mjs';
import { portOpen } from '../lib/ports.mjs';
import { CLIENT_ID, CLIENT_SECRET, DEMO_USERS, OidcProvider } from '../lib/provider.mjs';

const PROVIDER_PORT = Number(process.env.DEMO_PROVIDER_PORT || 9000);
const APP_PORT = Number(process.env.DEMO_APP_PORT || 9001);
const NGINX_PORT = Number(process.env.DEMO_PORT || 8080);
const PREFIX = path.join(REPO, 'build', 'demo');

function nginxConfig(issuer) {
  const app = `http://127.0.0.1:${APP_PORT}`;
  return `
    oidc_provider demo {
        issuer ${issuer};
        client_id ${CLIENT_ID};
        client_secret ${CLIENT_SECRET};
        scope openid email profile;
        logout_uri /logout;
        post_logout_uri http://127.0.0.1:${NGINX_PORT}/;
        logout_token_hint on;
        metadata_retry 2s;
    }

    server {
        listen 127.0.0.1:${NGINX_PORT};

        location = /status { oidc_status; }

        location / {
            auth_oidc demo;
            proxy_set_header X-User-Sub   $oidc_claim_sub;
            proxy_set_header X-User-Email $oidc_claim_email;
            proxy_set_header X-User-Name  $oidc_claim_name;
            proxy_pass ${app};
        }
    }
`;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function appPage(req) {
  const ids = Object.entries(req.headers).filter(([k]) => k.startsWith('x-user-'));
  const rows = (list) => list.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n');
  const identity = ids.length
    ? `<table id="identity">${rows(ids)}</table>`
    : '<p id="no-identity">No <code>X-User-*</code> headers: nobody is logged in (or the location is not protected).</p>';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>auth_oidc demo app</title>
<style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:1em}td{font-family:monospace}</style>
</head><body>
<h1>auth_oidc demo app</h1>
<h2>Identity</h2>
${identity}
<details><summary>All request headers</summary><table>${rows(Object.entries(req.headers))}</table></details>
<p>${esc(req.method)} ${esc(req.url)}</p>
<p><a id="logout" href="/logout">Log out</a></p>
</body></html>`;
}

function startApp() {
  const server = http.createServer((req, res) => {
    const body = appPage(req);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(APP_PORT, '127.0.0.1', () => resolve(server));
  });
}

async function waitReady(ngx, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = (await ngx.status()).providers?.demo;
      if (last?.state === 'ready') return last;
    } catch (err) {
      last = { state: `status unavailable: ${err.message}` };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

function die(msg) {
  process.stderr.write(`demo: ${msg}\n`);
  process.exit(1);
}

async function main() {
  if (!fs.existsSync(MODULE_PATH)) die(`module not found at ${MODULE_PATH}: run make first`);
  for (const [what, port] of [['provider', PROVIDER_PORT], ['app', APP_PORT], ['nginx', NGINX_PORT]]) {
    if (await portOpen(port)) die(`port ${port} (${what}) is already in use on 127.0.0.1`);
  }

  const started = [];
  let stopping = false;
  const stopAll = async (code) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping demo...\n');
    for (const stop of started.reverse()) {
      try { await stop(); } catch (err) { process.stderr.write(`demo: ${err.message}\n`); }
    }
    process.exit(code);
  };
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));

  try {
    const idp = new OidcProvider({ port: PROVIDER_PORT, users: DEMO_USERS });
    await idp.start();
    started.push(() => idp.stop());

    const app = await startApp();
    started.push(() => new Promise((r) => { app.closeAllConnections?.(); app.close(() => r()); }));

    fs.mkdirSync(PREFIX, { recursive: true });
    const ngx = new Nginx(PREFIX, nginxConfig(idp.issuer), { port: NGINX_PORT, workers: 1 });
    fs.rmSync(ngx.errorLogPath, { force: true }); // this run's log only
    await ngx.start();
    started.push(() => ngx.stop());
    ngx.proc.once('exit', (code, signal) => setTimeout(() => {
      // (a Ctrl-C in the terminal signals nginx too: give our handler a moment)
      if (!stopping) {
        process.stderr.write(`demo: nginx exited unexpectedly (code ${code}, signal ${signal}); see ${ngx.errorLogPath}\n`);
        stopAll(1);
      }
    }, 300));

    const status = await waitReady(ngx);
    const base = `http://127.0.0.1:${NGINX_PORT}`;
    process.stdout.write(`
auth_oidc demo is running: the app requires a login

  App through nginx:  ${base}/
  Provider status:    ${base}/status   (provider "demo": ${status?.state ?? 'unknown'}${status?.last_error ? `, last error: ${status.last_error}` : ''})
  OIDC provider:      ${idp.issuer}/.well-known/openid-configuration
  Demo credentials:   demo / demo
  nginx error log:    ${ngx.errorLogPath}

Press Ctrl-C to stop.
`);
  } catch (err) {
    process.stderr.write(`demo: ${err.message}\n`);
    await stopAll(1);
  }
}

main();
