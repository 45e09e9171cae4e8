// Helpers for the login-flow tests: nginx config snippets for protected
// locations, request header sets, cookie checks, and scripted logins
// against the real oidc-provider (login form) and the fake OP (no form).
import assert from 'node:assert/strict';
import net from 'node:net';
import { oidcProvider } from './conf.mjs';
import { CLIENT_ID, CLIENT_SECRET } from './provider.mjs';
import { sleep, tail } from './util.mjs';

export const COOKIE = 'NGX_OIDC_SESSION';
export const CALLBACK = '/oidc_callback';

/** What a browser sends for a top-level navigation typed into the URL bar. */
export const NAV = Object.freeze({
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-site': 'none',
  'sec-fetch-dest': 'document',
});

/** A fetch()/XHR from a page script. */
export const XHR = Object.freeze({
  accept: 'application/json',
  'x-requested-with': 'XMLHttpRequest',
  'sec-fetch-mode': 'cors',
  'sec-fetch-site': 'same-origin',
});

/** oidc_provider block for test-client/test-secret at `issuer`. */
export function providerBlock(name, issuer, directives = {}) {
  return oidcProvider(name, {
    issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, metadata_retry: '1s', ...directives,
  });
}

/** The identity headers every protected test location sends upstream. */
export const IDENTITY_HEADERS = `
            proxy_set_header X-User-Sub $oidc_claim_sub;
            proxy_set_header X-User-Email $oidc_claim_email;
            proxy_set_header X-User-Groups $oidc_claim_groups;
            proxy_set_header X-User-Address $oidc_claim_address;
            proxy_set_header X-Id-Token $oidc_id_token;
            proxy_set_header X-Access-Token $oidc_access_token;
            proxy_set_header X-Session-Expires $oidc_session_expires;`;

/** `location PATH { auth_oidc PROVIDER; [auth_oidc_unauth MODE;] proxy_pass UPSTREAM; identity headers }` */
export function protectedLocation(path, provider, upstreamUrl, { unauth, extra = '' } = {}) {
  return `
        location ${path} {
            auth_oidc ${provider};${unauth ? `\n            auth_oidc_unauth ${unauth};` : ''}
            proxy_pass ${upstreamUrl};${IDENTITY_HEADERS}
${extra}
        }`;
}

// ---------------------------------------------------------------- cookies

/** Parsed Set-Cookie lines of a response: [{name, value, attrs: {lowercase: value|true}, raw}]. */
export function setCookies(res) {
  return [].concat(res.headers['set-cookie'] || []).map((raw) => {
    const [pair, ...rest] = raw.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const attrs = {};
    for (const a of rest) {
      if (!a) continue;
      const i = a.indexOf('=');
      if (i < 0) attrs[a.toLowerCase()] = true;
      else attrs[a.slice(0, i).trim().toLowerCase()] = a.slice(i + 1).trim();
    }
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs, raw };
  });
}

/** The Set-Cookie of the session cookie `name`, or undefined. */
export function sessionSetCookie(res, name = COOKIE) {
  return setCookies(res).find((c) => c.name === name);
}

/**
 * Asserts the response sets a fresh session cookie with the contract's
 * attributes; returns its value.
 */
export function assertSessionCookie(res, { name = COOKIE, secure = false } = {}) {
  const c = sessionSetCookie(res, name);
  assert.ok(c, `no Set-Cookie ${name} in ${JSON.stringify(res.headers['set-cookie'])} (status ${res.status})`);
  // a session id, or a cookie store's sealed session: "<parts>." and base64url
  assert.match(c.value, /^([A-Za-z0-9_-]{43}|[1-9]\.[A-Za-z0-9_-]{100,3800})$/,
    `session id: 43 base64url characters, or a sealed session (${c.raw})`);
  assert.equal(c.attrs.path, '/', `Path=/ (${c.raw})`);
  assert.equal(c.attrs.httponly, true, `HttpOnly (${c.raw})`);
  assert.equal(String(c.attrs.samesite).toLowerCase(), 'lax', `SameSite=Lax (${c.raw})`);
  if (secure) assert.equal(c.attrs.secure, true, `Secure over https (${c.raw})`);
  else assert.equal(c.attrs.secure, undefined, `no Secure over http (${c.raw})`);
  return c.value;
}

/** Asserts no session cookie with a value is set (a deletion would be harmless). */
export function assertNoSession(res, name = COOKIE) {
  const c = sessionSetCookie(res, name);
  assert.ok(!c || c.value === '', `unexpected session cookie: ${c?.raw}`);
}

/** Asserts the response deletes the session cookie (empty value, Max-Age=0 or past Expires). */
export function assertCookieCleared(res, name = COOKIE) {
  const c = sessionSetCookie(res, name);
  assert.ok(c, `no Set-Cookie ${name} clearing the session: ${JSON.stringify(res.headers['set-cookie'])}`);
  assert.equal(c.value, '', `cleared cookie has an empty value (${c.raw})`);
  const gone = c.attrs['max-age'] === '0' || (c.attrs.expires && Date.parse(c.attrs.expires) < Date.now());
  assert.ok(gone, `Max-Age=0 (or an Expires in the past): ${c.raw}`);
  assert.equal(c.attrs.path, '/', `Path=/ (${c.raw})`);
}

// ------------------------------------------------------------ redirects

/** Asserts `res` is the redirect to the provider's authorization endpoint; returns the URL. */
export function assertLoginRedirect(res, authorizationEndpoint) {
  assert.equal(res.status, 302, `expected a redirect to the provider, got ${res.status}: ${res.body?.slice(0, 300)}`);
  const loc = new URL(res.headers.location);
  const ep = new URL(authorizationEndpoint);
  assert.equal(`${loc.origin}${loc.pathname}`, `${ep.origin}${ep.pathname}`, `Location ${res.headers.location}`);
  assert.equal(loc.searchParams.get('response_type'), 'code');
  assert.ok(loc.searchParams.get('state'), 'state present');
  return loc;
}

/**
 * The local target of a redirect from nginx at `base`: the Location itself
 * when it is a path, or its path+query when it is an absolute URL of the
 * same origin (nginx's absolute_redirect makes "/x" into
 * "http://host:port/x"). Fails for a Location on another origin.
 */
export function redirectPath(res, base) {
  const loc = res.headers.location;
  assert.ok(loc, `no Location (status ${res.status})`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(loc)) {
    const u = new URL(loc);
    assert.equal(u.origin, new URL(base).origin, `redirect off the site: ${loc}`);
    return loc.slice(u.origin.length);
  }
  return loc;
}

const isCallback = (base, path = CALLBACK) => (u) => {
  const url = new URL(u);
  return url.origin === new URL(base).origin && url.pathname === path;
};

/** GET `path` on nginx as a navigation; asserts the redirect; returns {res, authUrl}. */
export async function startLogin(ua, base, path, { headers = NAV, authorizationEndpoint } = {}) {
  const res = await ua.fetch(`${base}${path}`, { headers });
  assert.equal(res.status, 302, `GET ${path}: expected 302 to the provider, got ${res.status}: ${res.body.slice(0, 300)}`);
  const authUrl = authorizationEndpoint ? assertLoginRedirect(res, authorizationEndpoint).href : res.headers.location;
  return { res, authUrl };
}

/**
 * Real oidc-provider: follow `authUrl` to the login form, sign in, follow the
 * provider's redirects up to (not including) nginx's callback. Returns the
 * callback URL.
 */
export async function signInAtProvider(ua, authUrl, base, { user = 'demo', password = user, callbackPath } = {}) {
  const stopAt = isCallback(base, callbackPath);
  const form = await ua.go(authUrl, { headers: NAV, stopAt });
  if (form.next) return form.next; // provider session still alive: no form
  assert.equal(form.status, 200, `login page: ${form.status} ${form.body.slice(0, 300)}`);
  assert.match(form.body, /id="login-form"/, 'provider login form');
  const back = await ua.submitForm(form, { login: user, password }, { headers: NAV, stopAt });
  assert.ok(back.next, `provider did not redirect to ${base}${callbackPath ?? CALLBACK}: `
    + `${back.chain.map((r) => `${r.status} ${r.url}`).join(' -> ')}\n${back.body.slice(0, 500)}`);
  return back.next;
}

/** Fake OP: its authorization endpoint redirects at once; returns the callback URL. */
export async function passFakeOp(ua, authUrl, base, { callbackPath } = {}) {
  const res = await ua.go(authUrl, { headers: NAV, stopAt: isCallback(base, callbackPath) });
  assert.ok(res.next, `fake OP did not redirect to the callback: ${res.status} ${res.body.slice(0, 300)}`);
  return res.next;
}

/**
 * Whole login through nginx: navigation to `path` → provider → callback.
 * op: 'fake' or 'real' (form login as user/password). Returns
 * {callback (the callback response), cookie (session id), location (local
 * target, see redirectPath), callbackUrl}.
 * Asserts the callback succeeded with a session cookie.
 */
export async function login(ua, base, path, {
  op = 'fake', user, password, headers = NAV, callbackPath, cookieName = COOKIE,
} = {}) {
  const { authUrl } = await startLogin(ua, base, path, { headers });
  const callbackUrl = op === 'real'
    ? await signInAtProvider(ua, authUrl, base, { user, password, callbackPath })
    : await passFakeOp(ua, authUrl, base, { callbackPath });
  const callback = await ua.fetch(callbackUrl, { headers: NAV });
  assert.equal(callback.status, 302, `callback answered ${callback.status}: ${callback.body.slice(0, 400)}`);
  const cookie = assertSessionCookie(callback, { name: cookieName, secure: base.startsWith('https:') });
  return { callback, cookie, location: redirectPath(callback, base), callbackUrl, authUrl };
}

/** Request headers carrying only the session cookie `id`. */
export const withSession = (id, headers = NAV, name = COOKIE) => ({ ...headers, cookie: `${name}=${id}` });

// ------------------------------------------------------------- logs

/** A mark in the error log; .since() is what was written after it. */
export function logMark(ngx) {
  const offset = ngx.errorLog().length;
  return { since: () => ngx.errorLog().slice(offset) };
}

/**
 * Asserts an error-level "auth_oidc:" line was written since `mark` (waits
 * up to `timeout` ms: a line may be written as the request is finalised,
 * after the response went out); resolves the line.
 */
export async function assertErrorLogged(mark, re = /./, { timeout = 1500 } = {}) {
  const find = () => mark.since().split('\n')
    .filter((l) => /\[error\]/.test(l) && /auth_oidc:/.test(l))
    .find((l) => re.test(l));
  const deadline = Date.now() + timeout;
  let hit = find();
  while (!hit && Date.now() < deadline) {
    await sleep(50);
    hit = find();
  }
  assert.ok(hit, `expected an [error] "auth_oidc: ..." line${re.source !== '.' ? ` matching ${re}` : ''}; `
    + `log since the request:\n${tail(mark.since(), 15)}`);
  assert.match(hit, /\[error\] \d+#\d+: (\*\d+ )?auth_oidc: /, `the message starts with "auth_oidc:": ${hit}`);
  return hit;
}

/** Asserts none of `secrets` (strings) appears in the error log. */
export function assertLogHasNo(ngx, secrets, what = 'secret') {
  const log = ngx.errorLog();
  for (const s of secrets.filter(Boolean)) {
    const line = log.split('\n').find((l) => l.includes(s));
    assert.equal(line, undefined, `${what} ${s.slice(0, 8)}... found in error.log, in the line: `
      + `${line?.split(s).join(`<${what}>`).slice(0, 400)}`);
  }
}

// ------------------------------------------------------------- raw HTTP

/**
 * One HTTP/1.1 request written byte for byte (so the request target can be
 * anything, e.g. "//evil.com/" or "/\\evil.com"). Resolves
 * {status, headers (lowercase; set-cookie an array), body}.
 */
export function rawRequest(port, target, headers = {}, { method = 'GET', timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const chunks = [];
    sock.setTimeout(timeout, () => { sock.destroy(); reject(new Error(`raw request ${target} timed out`)); });
    sock.on('error', reject);
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split >= 0 ? text.slice(0, split) : text;
      const [statusLine, ...lines] = head.split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      if (!m) { reject(new Error(`bad response to ${target}: ${text.slice(0, 200)}`)); return; }
      const hdrs = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        const k = l.slice(0, i).trim().toLowerCase();
        const v = l.slice(i + 1).trim();
        if (k === 'set-cookie') (hdrs[k] ??= []).push(v);
        else hdrs[k] = hdrs[k] === undefined ? v : `${hdrs[k]}, ${v}`;
      }
      resolve({ status: Number(m[1]), headers: hdrs, body: split >= 0 ? text.slice(split + 4) : '' });
    });
    const all = { host: `127.0.0.1:${port}`, connection: 'close', ...headers };
    const lines = [`${method} ${target} HTTP/1.1`, ...Object.entries(all).map(([k, v]) => `${k}: ${v}`)];
    sock.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  });
}

/** Run `fn` as a subtest; on failure append the nginx error.log tails. */
export function step(t, h, name, fn) {
  return t.test(name, async (st) => {
    try {
      await fn(st);
    } catch (err) {
      if (err instanceof Error) {
        try { err.message += `\n${h.logs()}`; } catch { /* read-only */ }
      }
      throw err;
    }
  });
}
