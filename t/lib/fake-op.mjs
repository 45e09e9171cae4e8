// A small, scriptable (and, on request, misbehaving) OpenID provider on
// 127.0.0.1 for login-flow tests. No login page: its authorization endpoint
// answers at once with a redirect back to redirect_uri (code + state), and
// its token endpoint signs an ID token with node:crypto whose header,
// claims and signature each test can tweak.
//
//   const op = await h.fakeOp();           // or fakeOp() + op.close()
//   op.set({ idToken: { claims: { aud: 'someone-else' } } });
//   op.set({ idToken: { mode: 'flip' } });  // 'good' | 'flip' | 'none'
//   op.set({ idToken: { signWith: makeRsaKey() } }); // a key not in the JWKS
//   op.set({ token: { garbage: true } });   // or {hang}, {reset}, {status, json}
//   op.set({ authError: { error: 'access_denied' } });
//   op.set({ discoveryDelay: 800 });        // discovery documents answer late (ms)
//   op.set({ userinfo: { sub: 'other' } });  // /me answers these claims over the user's
//   op.rotate(makeRsaKey());                // JWKS serves (and signs with) a new key
//   op.reset();
//
// Paths: /.well-known/openid-configuration, /jwks, /auth, /token, /me,
// /session/end. `variants` serve other discovery documents for the same
// issuer at /<variant>/.well-known/openid-configuration (point config_url at
// op.configUrl(variant)), e.g. { nologout: { end_session_endpoint: undefined } }.
import crypto from 'node:crypto';
import http from 'node:http';
import { listen } from './echo.mjs';
import { respond } from './faults.mjs';
import { discoveryDoc, makeRsaKey } from './jwks.mjs';

export const FAKE_CLIENT_ID = 'test-client';
export const FAKE_CLIENT_SECRET = 'test-secret';

const DISCOVERY = '/.well-known/openid-configuration';

export const b64url = (v) => Buffer.from(typeof v === 'string' || Buffer.isBuffer(v) ? v : JSON.stringify(v))
  .toString('base64url');

/** Compact JWS: RS256 with `key` (a KeyObject), or alg "none" when key is null. */
export function signJwt(header, payload, key) {
  const input = `${b64url(header)}.${b64url(payload)}`;
  if (!key) return `${input}.`;
  const sig = crypto.sign('sha256', Buffer.from(input), key); // RSASSA-PKCS1-v1_5
  return `${input}.${sig.toString('base64url')}`;
}

/** {header, payload} of a compact JWS (no verification). */
export function decodeJwt(jwt) {
  const [h, p] = String(jwt).split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
  };
}

/** The same JWS with one bit of its signature flipped. */
export function flipSignature(jwt) {
  const parts = jwt.split('.');
  const sig = Buffer.from(parts[2], 'base64url');
  sig[Math.floor(sig.length / 2)] ^= 0x01;
  parts[2] = sig.toString('base64url');
  return parts.join('.');
}

export const s256 = (verifier) => crypto.createHash('sha256').update(verifier).digest('base64url');

const randomToken = (bytes = 24) => crypto.randomBytes(bytes).toString('base64url');

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, {
    'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers,
  });
  res.end(body);
}

function clientFromRequest(req, form) {
  const auth = req.headers.authorization || '';
  const m = /^Basic\s+(\S+)$/i.exec(auth);
  if (m) {
    const dec = Buffer.from(m[1], 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i < 0) return { method: 'basic', id: null, secret: null };
    const unform = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { method: 'client_secret_basic', id: unform(dec.slice(0, i)), secret: unform(dec.slice(i + 1)) };
  }
  if (form.has('client_secret')) {
    return { method: 'client_secret_post', id: form.get('client_id'), secret: form.get('client_secret') };
  }
  return { method: 'none', id: form.get('client_id'), secret: null };
}

const DEFAULT_USER = {
  sub: 'fake-user-1',
  email: 'fake.user@example.test',
  email_verified: true,
  name: 'Fake User',
  groups: ['staff', 'ops'],
  address: { country: 'FR', locality: 'Paris' },
};

/**
 * Start a fake OP. opts: port, key (makeRsaKey() result; default a fresh
 * key with kid "fake-1"), discovery (overrides of the main discovery doc;
 * undefined values remove members), variants ({name: overrides}),
 * clientId / clientSecret, user (claims for the ID token), idTokenTtl (s),
 * tokenFields (grant params => members that replace or join the token
 * answer's: another access_token, a refresh_token).
 */
export async function fakeOp(opts = {}) {
  const clientId = opts.clientId ?? FAKE_CLIENT_ID;
  const op = {
    requests: [], // {method, path, url, headers, at}
    authRequests: [], // parsed authorization request parameters
    tokenRequests: [], // {client, form, status, error}
    issued: [], // {code, id_token, access_token, claims}
    endSessionRequests: [], // parsed query
    codes: new Map(), // code -> {params, used}
    signingKey: opts.key ?? makeRsaKey({ kid: 'fake-1' }),
    jwksKeys: null,
    user: { ...DEFAULT_USER, ...(opts.user || {}) },
    behavior: {},
    discoveryOverrides: opts.discovery || {},
    variants: opts.variants || {},
    idTokenTtl: opts.idTokenTtl ?? 3600,
    clientSecret: opts.clientSecret ?? FAKE_CLIENT_SECRET, // a test may rotate it
  };
  op.jwksKeys = [op.signingKey];

  /** Merge into the behaviour: {idToken: {claims (an object, or (payload, authorization params) => payload), header, mode, signWith}, token, authError}. */
  op.set = (b) => { op.behavior = { ...op.behavior, ...b }; return op; };
  op.reset = () => { op.behavior = {}; return op; };
  /** Serve `key` in the JWKS (with the old ones if keepOld) and sign with it. */
  op.rotate = (key, { keepOld = false } = {}) => {
    op.jwksKeys = keepOld ? [...op.jwksKeys, key] : [key];
    op.signingKey = key;
    return op;
  };
  op.hits = (p) => op.requests.filter((r) => r.path === p).length;
  op.discovery = (variant) => {
    const doc = discoveryDoc(op.issuer, { ...op.discoveryOverrides, ...(variant ? op.variants[variant] : {}) });
    return JSON.parse(JSON.stringify(doc)); // drops members set to undefined
  };
  op.configUrl = (variant) => (variant ? `${op.issuer}/${variant}${DISCOVERY}` : `${op.issuer}${DISCOVERY}`);

  /** ID token for an authorization request (params) as the behaviour says. */
  op.makeIdToken = (params) => {
    const now = Math.floor(Date.now() / 1000);
    const spec = op.behavior.idToken || {};
    let payload = {
      iss: op.issuer,
      sub: op.user.sub,
      aud: clientId,
      exp: now + op.idTokenTtl,
      iat: now,
      auth_time: now,
      ...(params.nonce !== undefined ? { nonce: params.nonce } : {}),
      ...Object.fromEntries(Object.entries(op.user).filter(([k]) => k !== 'sub')),
    };
    if (typeof spec.claims === 'function') payload = spec.claims(payload, params) ?? payload;
    else {
      for (const [k, v] of Object.entries(spec.claims || {})) {
        if (v === undefined) delete payload[k];
        else payload[k] = v;
      }
    }
    const key = spec.signWith ?? op.signingKey;
    if (spec.mode === 'none') return { jwt: signJwt({ alg: 'none', ...(spec.header || {}) }, payload, null), payload };
    const header = { alg: 'RS256', typ: 'JWT', kid: key.kid, ...(spec.header || {}) };
    let jwt = signJwt(header, payload, key.privateKey);
    if (spec.mode === 'flip') jwt = flipSignature(jwt);
    return { jwt, payload };
  };

  async function authorize(req, res, url) {
    const params = Object.fromEntries(url.searchParams);
    op.authRequests.push(params);
    const redirect = params.redirect_uri;
    if (!redirect || params.client_id !== clientId) {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'bad client_id or redirect_uri' });
      return;
    }
    const back = new URL(redirect);
    if (op.behavior.authError) {
      for (const [k, v] of Object.entries(op.behavior.authError)) back.searchParams.set(k, v);
    } else {
      const code = randomToken(24);
      op.codes.set(code, { params, used: false });
      back.searchParams.set('code', code);
    }
    if (params.state !== undefined) back.searchParams.set('state', params.state);
    res.writeHead(302, { location: back.href, 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
  }

  async function token(req, res) {
    const form = new URLSearchParams(await readBody(req));
    const client = clientFromRequest(req, form);
    const entry = { client, form: Object.fromEntries(form), headers: req.headers, status: 0, error: null };
    op.tokenRequests.push(entry);
    const fail = (status, error, description) => {
      entry.status = status;
      entry.error = error;
      sendJson(res, status, { error, error_description: description });
    };
    if (op.behavior.token) { // canned answer (garbage, hang, status...) or {reset: true}
      entry.status = -1;
      if (op.behavior.token.reset) { req.socket.destroy(); return; }
      await respond(req, res, op.behavior.token);
      return;
    }
    if (req.method !== 'POST') { fail(405, 'invalid_request', 'POST only'); return; }
    if (client.id !== clientId || client.secret !== op.clientSecret) {
      fail(401, 'invalid_client', 'client authentication failed');
      return;
    }
    if (form.get('grant_type') !== 'authorization_code') {
      fail(400, 'unsupported_grant_type', String(form.get('grant_type')));
      return;
    }
    const code = form.get('code');
    const grant = code && op.codes.get(code);
    if (!grant || grant.used) { fail(400, 'invalid_grant', 'unknown or used code'); return; }
    grant.used = true;
    if (form.get('redirect_uri') !== grant.params.redirect_uri) {
      fail(400, 'invalid_grant', 'redirect_uri mismatch');
      return;
    }
    if (grant.params.code_challenge !== undefined) {
      const verifier = form.get('code_verifier');
      if (!verifier || grant.params.code_challenge_method !== 'S256' || s256(verifier) !== grant.params.code_challenge) {
        fail(400, 'invalid_grant', 'PKCE verification failed');
        return;
      }
    } else if (form.has('code_verifier')) {
      fail(400, 'invalid_grant', 'code_verifier without code_challenge');
      return;
    }
    const { jwt, payload } = op.makeIdToken(grant.params);
    const answer = {
      access_token: randomToken(32), token_type: 'Bearer', expires_in: 3600, id_token: jwt, scope: grant.params.scope,
      ...(opts.tokenFields ? opts.tokenFields(grant.params) : {}),
    };
    op.issued.push({ code, id_token: jwt, access_token: answer.access_token, claims: payload });
    entry.status = 200;
    sendJson(res, 200, answer);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const path = url.pathname;
    op.requests.push({ method: req.method, path, url: req.url, headers: req.headers, at: Date.now() });
    res.on('error', () => {});
    const fail = (err) => { if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(err) }); else res.destroy(); };
    const variant = /^\/([^/]+)\/\.well-known\/openid-configuration$/.exec(path);
    const late = (fn) => (op.behavior.discoveryDelay ? setTimeout(fn, op.behavior.discoveryDelay) : fn());
    if (path === DISCOVERY) late(() => sendJson(res, 200, op.discovery()));
    else if (variant && op.variants[variant[1]]) late(() => sendJson(res, 200, op.discovery(variant[1])));
    else if (path === '/jwks') sendJson(res, 200, { keys: op.jwksKeys.map((k) => k.publicJwk) });
    else if (path === '/auth') authorize(req, res, url).catch(fail);
    else if (path === '/token') token(req, res).catch(fail);
    else if (path === '/me') sendJson(res, 200, { ...op.user, ...(op.behavior.userinfo || {}) });
    else if (path === '/session/end') {
      op.endSessionRequests.push(Object.fromEntries(url.searchParams));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>signed out</title><p id="op-signed-out">signed out at the fake OP</p>');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  });
  const srv = await listen(server, opts.port ?? 0);
  Object.assign(op, srv);
  op.issuer = srv.url;
  return op;
}
