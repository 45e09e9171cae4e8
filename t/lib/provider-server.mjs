// Child process: a real oidc-provider on 127.0.0.1, configured from the JSON
// in env OIDC_TEST_PROVIDER_CONFIG (see provider.mjs). Prints
// "OIDC_PROVIDER_READY <issuer>" when listening, "REQ <METHOD> <path>" for
// every request and "GRANT <grant_type>" for every successful token
// endpoint grant. Exits when stdin closes (parent gone) or on
// SIGTERM/SIGINT.
//
// Test-only admin endpoints (no authentication: a test provider on
// loopback):
//   POST /test-admin/backchannel {"sub", "sid"?, "clientId"?}
//        the provider's own back-channel logout token to the client's
//        backchannel_logout_uri (Client#backchannelLogout, as end_session
//        does): 204 once the client answered 200/204, 500 with the error
//        text otherwise. The provider session is left alone.
//   POST /test-admin/revoke {"sub"}
//        revokes every grant of the account (its access tokens, refresh
//        tokens and codes go with it): 200 {"revoked": n}
//   GET  /test-admin/sessions?sub=...
//        live provider sessions: 200 [{sid, sub, clientIds}], one entry
//        per sid (oidc-provider makes one sid per session and client)
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
// No "exports" map in oidc-provider's package.json: its default in-memory
// adapter can be wrapped (see adapter() below).
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

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

// oidc-provider's default adapter (the same in-memory store with the same
// clock tolerance), plus the ids of the sessions and grants it saved: the
// store itself can only be read by id. Payloads are always read back from
// the store, so expiry and destruction stay the store's business.
const CLOCK_TOLERANCE = 15; // oidc-provider's default clockTolerance
const memoryAdapter = createMemoryAdapter(CLOCK_TOLERANCE);
const tracked = { Session: new Set(), Grant: new Set() };

function adapter(model) {
  const inner = memoryAdapter(model);
  const ids = tracked[model];
  if (!ids) return inner;
  return Object.assign(Object.create(inner), {
    async upsert(id, payload, expiresIn) {
      ids.add(id);
      return inner.upsert(id, payload, expiresIn);
    },
    async destroy(id) {
      ids.delete(id);
      return inner.destroy(id);
    },
  });
}

// Live payloads of a tracked model (ids the store forgot are dropped).
async function livePayloads(model) {
  const inner = memoryAdapter(model);
  const out = [];
  for (const id of [...tracked[model]]) {
    const payload = await inner.find(id);
    if (payload) out.push({ id, payload });
    else tracked[model].delete(id);
  }
  return out;
}

// oidc-provider refuses to fetch special-use addresses (SSRF protection:
// its dispatcher destroys sockets to 127.0.0.0/8, ::1, 10/8, ...), which
// is where every test client listens: for loopback URLs the dispatcher is
// dropped. Nothing else changes.
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
function testFetch(url, options) {
  if (LOOPBACK_HOSTS.has(new URL(url).hostname)) delete options.dispatcher;
  return globalThis.fetch(url, options);
}

// APIs (RFC 8707 resource indicators): {"<resource>": {scope, audience,
// accessTokenFormat: "jwt" | "opaque", accessTokenTTL}}; a token request
// with resource=<resource> gets an access token for it (client
// credentials, or a login that asked for it).
function resourceIndicators(servers) {
  if (!servers) return {};
  return {
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client, oneOf) => oneOf,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        const rs = servers[indicator];
        if (!rs) throw new Error(`unknown resource ${indicator}`);
        return {
          scope: rs.scope,
          audience: rs.audience ?? indicator,
          accessTokenFormat: rs.accessTokenFormat ?? 'jwt',
          accessTokenTTL: rs.accessTokenTTL ?? 600,
          ...(rs.accessTokenFormat === 'opaque' ? {} : { jwt: { sign: { alg: rs.alg ?? 'RS256' } } }),
        };
      },
    },
  };
}

const configuration = {
  adapter,
  fetch: testFetch,
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
    ...resourceIndicators(cfg.resourceServers),
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
// true/false: rotate on every refresh_token grant, or never. Unset:
// oidc-provider's default (for a confidential client such as test-client,
// only once 70% of the refresh token's lifetime has passed).
if (typeof cfg.rotateRefreshToken === 'boolean') configuration.rotateRefreshToken = cfg.rotateRefreshToken;

const provider = new Provider(cfg.issuer, configuration);
provider.on('server_error', (ctx, err) => process.stderr.write(`server_error: ${err.stack}\n`));
provider.on('grant.success', (ctx) => {
  process.stdout.write(`GRANT ${String(ctx.oidc.params?.grant_type ?? '-').replace(/\s/g, '_')}\n`);
});

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

// ------------------------------------------------------------ admin

class AdminError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function readJson(req) {
  const text = await readBody(req);
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new AdminError(400, 'the body is not JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AdminError(400, 'the body must be a JSON object');
  }
  return body;
}

function needString(body, name) {
  if (typeof body[name] !== 'string' || !body[name]) throw new AdminError(400, `"${name}" must be a non-empty string`);
  return body[name];
}

async function adminBackchannel(req) {
  const body = await readJson(req);
  const sub = needString(body, 'sub');
  const sid = body.sid === undefined ? undefined : needString(body, 'sid');
  const clientId = body.clientId === undefined ? 'test-client' : needString(body, 'clientId');
  const client = await provider.Client.find(clientId);
  if (!client) throw new AdminError(500, `no client ${clientId}`);
  if (!client.backchannelLogoutUri) throw new AdminError(500, `client ${clientId} has no backchannel_logout_uri`);
  try {
    await client.backchannelLogout(sub, sid);
  } catch (err) {
    const cause = err.cause ? ` (${err.cause.message ?? err.cause})` : '';
    throw new AdminError(500, `back-channel logout to ${client.backchannelLogoutUri} failed: ${err.message}${cause}`);
  }
  return { status: 204 };
}

async function adminRevoke(req) {
  const sub = needString(await readJson(req), 'sub');
  let revoked = 0;
  for (const { id, payload } of await livePayloads('Grant')) {
    if (payload.accountId !== sub) continue;
    // What oidc-provider's own revoke helper does: every token and code
    // of the grant, then the grant.
    await Promise.all([provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode]
      .map((model) => model.revokeByGrantId(id)));
    await provider.Grant.adapter.destroy(id);
    revoked += 1;
  }
  return { status: 200, json: { revoked } };
}

async function adminSessions(url) {
  const sub = url.searchParams.get('sub');
  const bySid = new Map();
  for (const { payload } of await livePayloads('Session')) {
    if (!payload.accountId || (sub !== null && payload.accountId !== sub)) continue;
    for (const [clientId, authorization] of Object.entries(payload.authorizations || {})) {
      if (!authorization?.sid) continue;
      const entry = bySid.get(authorization.sid) ?? { sid: authorization.sid, sub: payload.accountId, clientIds: [] };
      entry.clientIds.push(clientId);
      bySid.set(authorization.sid, entry);
    }
  }
  return { status: 200, json: [...bySid.values()] };
}

async function admin(req, res, url) {
  let out;
  try {
    const route = `${req.method} ${url.pathname}`;
    if (route === 'POST /test-admin/backchannel') out = await adminBackchannel(req);
    else if (route === 'POST /test-admin/revoke') out = await adminRevoke(req);
    else if (route === 'GET /test-admin/sessions') out = await adminSessions(url);
    else if (req.method === 'GET' && url.pathname.startsWith('/test-admin/settle/')) out = { status: 204 };
    else out = { status: 404, text: `no admin route ${route}\n` };
  } catch (err) {
    if (!(err instanceof AdminError)) process.stderr.write(`admin error: ${err.stack}\n`);
    out = { status: err.status ?? 500, text: `${err.message}\n` };
  }
  process.stdout.write(`ADMIN ${req.method} ${url.pathname} ${out.status}\n`);
  if (out.json !== undefined) {
    res.writeHead(out.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(out.json));
  } else if (out.text !== undefined) {
    res.writeHead(out.status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(out.text);
  } else {
    res.writeHead(out.status).end();
  }
}

function handler(req, res) {
  process.stdout.write(`REQ ${req.method} ${req.url.split('?')[0]}\n`);
  if (req.url.startsWith('/test-admin/')) {
    admin(req, res, new URL(req.url, 'http://admin.invalid'));
    return;
  }
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
