// Child process: a real oidc-provider on 127.0.0.1, configured from the JSON
// in env OIDC_TEST_PROVIDER_CONFIG (see provider.mjs). Prints
// "OIDC_PROVIDER_READY <issuer>" when listening and "REQ <METHOD> <path>" for
// every request. Exits when stdin closes (parent gone) or on SIGTERM/SIGINT.
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';

const cfg = JSON.parse(process.env.OIDC_TEST_PROVIDER_CONFIG || '{}');

if (!process.env.TEST_VERBOSE) {
  // oidc-provider's dev/runtime notices go through console.warn/info.
  console.warn = () => {};
  console.info = () => {};
}

const { default: Provider } = await import('oidc-provider');

const users = cfg.users || {};

function claimsFor(id) {
  const u = users[id] || {};
  return {
    sub: id,
    email: u.email ?? `${id}@example.test`,
    email_verified: true,
    name: u.name ?? id,
    preferred_username: id,
    ...(u.claims || {}),
  };
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, { error = '', login = '' } = {}) {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in - test provider</title></head>
<body>
<h1>Sign in</h1>
${error ? `<p id="error" style="color:#b00">${esc(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${esc(uid)}/login">
  <label>Username <input id="username" name="login" autocomplete="username" value="${esc(login)}" autofocus></label><br>
  <label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label><br>
  <button id="submit" type="submit">Sign in</button>
</form>
<p><a id="abort" href="/interaction/${esc(uid)}/abort">Cancel</a></p>
</body></html>`;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function checkLogin(login, password) {
  if (cfg.acceptAnyLogin && login) return true;
  return Boolean(login) && users[login] !== undefined && users[login].password === password;
}

const configuration = {
  clients: cfg.clients,
  jwks: { keys: cfg.keys },
  cookies: { keys: ['auth-oidc-test-cookie-key-0123456789'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    ...(cfg.features || {}),
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => claimsFor(id) }),
  // First-party test clients: grant what is asked, never show a consent page.
  async loadExistingGrant(ctx) {
    const { client, session } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid offline_access email profile');
    await grant.save();
    return grant;
  },
  ttl: cfg.ttl,
  // false: the ID token carries the claims of the granted scopes (email,
  // profile), as the module's $oidc_claim_* variables read the ID token.
  conformIdTokenClaims: cfg.conformIdTokenClaims ?? false,
};
if (!configuration.ttl) delete configuration.ttl;

const provider = new Provider(cfg.issuer, configuration);
provider.on('server_error', (ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));

const callback = provider.callback();

async function interaction(req, res, parts) {
  const [uid, action] = parts;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction uid mismatch');
  if (req.method === 'GET' && !action) {
    if (details.prompt.name !== 'login') {
      // consent is granted by loadExistingGrant; finish whatever is left
      const grant = new provider.Grant({ clientId: details.params.client_id, accountId: details.session.accountId });
      grant.addOIDCScope(String(details.params.scope || 'openid'));
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(loginPage(uid));
    return;
  }
  if (req.method === 'POST' && action === 'login') {
    const form = new URLSearchParams(await readBody(req));
    const login = form.get('login') || '';
    if (!checkLogin(login, form.get('password') || '')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage(uid, { error: 'Invalid username or password', login }));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return;
  }
  if (req.method === 'GET' && action === 'abort') {
    await provider.interactionFinished(req, res,
      { error: 'access_denied', error_description: 'user cancelled' }, { mergeWithLastSubmission: false });
    return;
  }
  res.writeHead(405).end();
}

function handler(req, res) {
  process.stdout.write(`REQ ${req.method} ${req.url.split('?')[0]}\n`);
  const m = /^\/interaction\/([^/?]+)(?:\/([^/?]+))?/.exec(req.url);
  if (!m) {
    callback(req, res);
    return;
  }
  interaction(req, res, [m[1], m[2]]).catch((err) => {
    process.stderr.write(`interaction error ${randomUUID()}: ${err.stack}\n`);
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`interaction failed: ${err.message}\n`);
  });
}

const server = cfg.https
  ? https.createServer({ key: cfg.https.key, cert: cfg.https.cert }, handler)
  : http.createServer(handler);

const sockets = new Set();
server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

function shutdown() {
  for (const s of sockets) s.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();

server.on('error', (err) => {
  process.stderr.write(`listen error: ${err.message}\n`);
  process.exit(2);
});
server.listen(cfg.port, cfg.host || '127.0.0.1', () => {
  process.stdout.write(`OIDC_PROVIDER_READY ${cfg.issuer}\n`);
});
