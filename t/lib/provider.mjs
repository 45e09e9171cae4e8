// Runs a real oidc-provider (t/lib/provider-server.mjs) in a child process so
// tests can stop/kill it and start it again on the same port.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.mjs';
import { request } from './http.mjs';
import { makeRsaKey } from './jwks.mjs';
import { captureStream, tail, verbose, waitExit, waitFor } from './util.mjs';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'provider-server.mjs');

export const CLIENT_ID = 'test-client';
export const CLIENT_SECRET = 'test-secret';
export const DEMO_USERS = {
  demo: { password: 'demo', name: 'Demo User', email: 'demo@example.test' },
  alice: { password: 'alice', name: 'Alice Liddell', email: 'alice@example.test' },
  bob: { password: 'bob', name: 'Bob Builder', email: 'bob@example.test' },
};

const live = new Set();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });

const pem = (v) => (v && !String(v).startsWith('-----BEGIN') ? fs.readFileSync(v, 'utf8') : v);

/**
 * The default client: "native" application type so that oidc-provider accepts
 * loopback redirect URIs (http://127.0.0.1 / http://localhost) on ANY port
 * (RFC 8252 7.3); only the path must match. Exact extra URIs can be added.
 */
export function defaultClient({ redirectUris = [], postLogoutRedirectUris = [], ...rest } = {}) {
  return {
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    application_type: 'native',
    redirect_uris: [
      'http://127.0.0.1/oidc_callback',
      'http://localhost/oidc_callback',
      ...redirectUris,
    ],
    post_logout_redirect_uris: [
      'http://127.0.0.1/',
      'http://localhost/',
      ...postLogoutRedirectUris,
    ],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...rest,
  };
}

export class OidcProvider {
  /**
   * opts: port (default: a free one), https: {key, cert} (paths or PEM) | null,
   *       clients: full client list (default [defaultClient(...)]),
   *       redirectUris / postLogoutRedirectUris: extra URIs for the default client,
   *       users: {login: {password, name, email, claims}} (default DEMO_USERS),
   *       acceptAnyLogin, keys: private JWKs (default: one fresh RS256 key,
   *       kept across restarts), features, ttl, issuer (override),
   *       conformIdTokenClaims (default false: scope claims such as email
   *       and name are in the ID token, not only at userinfo),
   *       rotateRefreshToken (true: a new refresh token on every
   *       refresh_token grant, false: never; unset: oidc-provider's default,
   *       which for a confidential client rotates only after 70% of the
   *       refresh token's lifetime, 14 days by default),
   *       resourceServers: APIs for access tokens (see provider-server.mjs).
   *
   * Back-channel logout: features {backchannelLogout: {enabled: true}} and a
   * client with backchannel_logout_uri (any http(s) URL, also
   * http://127.0.0.1:<port>/...) and backchannel_logout_session_required:
   * true for a "sid" in the logout token (and in ID tokens).
   */
  constructor(opts = {}) {
    this.opts = opts;
    this.port = opts.port;
    this.keys = opts.keys || [makeRsaKey().privateJwk];
    this.requests = [];
    /** Successful token endpoint grants: [{type, at}], type e.g. 'refresh_token'. */
    this.grants = [];
    this.child = null;
  }

  get scheme() { return this.opts.https ? 'https' : 'http'; }

  get issuer() {
    if (this.opts.issuer) return this.opts.issuer;
    const host = this.opts.https ? 'localhost' : '127.0.0.1';
    return `${this.scheme}://${host}:${this.port}`;
  }

  get discoveryUrl() { return `${this.issuer}/.well-known/openid-configuration`; }

  /** kids of the signing keys, in order. */
  get kids() { return this.keys.map((k) => k.kid); }

  get running() { return Boolean(this.child); }

  config() {
    const o = this.opts;
    return {
      issuer: this.issuer,
      port: this.port,
      https: o.https ? { key: pem(o.https.key), cert: pem(o.https.cert) } : null,
      clients: o.clients || [defaultClient({
        redirectUris: o.redirectUris, postLogoutRedirectUris: o.postLogoutRedirectUris,
      })],
      users: o.users || DEMO_USERS,
      acceptAnyLogin: Boolean(o.acceptAnyLogin),
      keys: this.keys,
      features: o.features,
      ttl: o.ttl,
      conformIdTokenClaims: o.conformIdTokenClaims,
      rotateRefreshToken: o.rotateRefreshToken,
      resourceServers: o.resourceServers,
    };
  }

  /** Start (or restart) the child. Resolves once it listens. */
  async start() {
    if (this.child) throw new Error('provider already running');
    this.port ??= await freePort();
    const child = spawn(process.execPath, [SERVER], {
      env: { ...process.env, OIDC_TEST_PROVIDER_CONFIG: JSON.stringify(this.config()) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    child.on('exit', () => { live.delete(child); if (this.child === child) this.child = null; });
    this.stderr = captureStream(child.stderr, { echo: verbose() ? process.stderr : null });
    const ready = new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith('OIDC_PROVIDER_READY')) resolve();
          const m = /^REQ (\S+) (\S+)/.exec(line);
          if (m) this.requests.push({ method: m[1], path: m[2], at: Date.now() });
          const g = /^GRANT (\S+)/.exec(line);
          if (g) this.grants.push({ type: g[1], at: Date.now() });
          if (verbose()) process.stderr.write(`[provider:${this.port}] ${line}\n`);
        }
      });
      child.once('exit', (code, signal) => reject(new Error(
        `oidc-provider child exited (code ${code}, signal ${signal}) before it was ready:\n${tail(this.stderr.text)}`)));
    });
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`oidc-provider did not start within 20 s:\n${tail(this.stderr.text)}`)), 20000);
    });
    try {
      await Promise.race([ready, timeout]);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return this;
  }

  /** Stop the child: SIGTERM (or the given signal), SIGKILL after 3 s. */
  async stop({ signal = 'SIGTERM' } = {}) {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    if (!(await waitExit(child, 3000))) {
      child.kill('SIGKILL');
      await waitExit(child);
    }
    this.child = null;
  }

  /** Kill it hard, like a crash. */
  kill() { return this.stop({ signal: 'SIGKILL' }); }

  hits(pathname) { return this.requests.filter((r) => r.path === pathname).length; }

  /**
   * Resolves once every request the provider received so far is in
   * requests (and grants): its REQ lines come on its stdout, which may be
   * read after nginx's answer to the test. A marker request is sent, and
   * its own REQ line waited for; the lines before it came first.
   */
  async settled() {
    this.markers = (this.markers ?? 0) + 1;
    const marker = `/test-admin/settle/${this.markers}`;
    await this.#admin('GET', marker);
    await waitFor(() => this.requests.some((r) => r.path === marker), { timeout: 5000, interval: 5, what: 'the provider\'s log' });
  }

  /** Successful token endpoint grants of `type` (all grants without one). */
  grantCount(type) {
    return type === undefined ? this.grants.length : this.grants.filter((g) => g.type === type).length;
  }

  // The admin endpoints of provider-server.mjs, straight at the listener
  // (whatever the issuer says; TLS unchecked, it is our own test server).
  async #admin(method, pathname, body) {
    if (!this.child) throw new Error('provider not running');
    return request(`${this.scheme}://127.0.0.1:${this.port}${pathname}`, {
      method, body, rejectUnauthorized: false, servername: this.opts.https ? 'localhost' : undefined,
    });
  }

  /**
   * Makes the provider send its back-channel logout token for `sub` (and
   * `sid`, when given and the client has backchannel_logout_session_required)
   * to the client's backchannel_logout_uri. Resolves once the client
   * answered 200 or 204; rejects with the provider's error text otherwise.
   * The provider's own session stays.
   */
  async adminBackchannel({ sub, sid, clientId } = {}) {
    const res = await this.#admin('POST', '/test-admin/backchannel', { sub, sid, clientId });
    if (res.status !== 204) throw new Error(`admin backchannel: ${res.status} ${res.body.trim()}`);
  }

  /** Revokes every grant of account `sub`; resolves how many there were. */
  async adminRevoke(sub) {
    const res = await this.#admin('POST', '/test-admin/revoke', { sub });
    if (res.status !== 200) throw new Error(`admin revoke: ${res.status} ${res.body.trim()}`);
    return res.json().revoked;
  }

  /**
   * Live provider sessions of `sub` (all accounts without one):
   * [{sid, sub, clientIds}], one entry per sid (one sid per session and
   * client, the sid of that client's ID tokens and logout tokens).
   */
  async adminSessions(sub) {
    const query = sub === undefined ? '' : `?sub=${encodeURIComponent(sub)}`;
    const res = await this.#admin('GET', `/test-admin/sessions${query}`);
    if (res.status !== 200) throw new Error(`admin sessions: ${res.status} ${res.body.trim()}`);
    return res.json();
  }
}

export async function startProvider(opts) {
  const p = new OidcProvider(opts);
  await p.start();
  return p;
}
