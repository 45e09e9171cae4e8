// Logout tokens (OpenID Connect Back-Channel Logout 1.0, section 2.4) made
// the way a provider makes them, and every kind of broken one, signed with
// node:crypto alone; and the POST a provider sends to a client's
// backchannel_logout_uri.
import crypto from 'node:crypto';
import { request } from './http.mjs';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

const b64u = (data) => Buffer.from(data).toString('base64url');

const DIGEST = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

/** The JWS signature of `input` (RFC 7518, section 3) for `alg`. */
function sign(alg, key, input) {
  const data = Buffer.from(input);
  const m = /^(RS|PS|ES|HS)(256|384|512)$/.exec(alg);
  if (alg === 'EdDSA' || alg === 'Ed25519') return crypto.sign(null, data, key);
  if (!m) throw new Error(`makeLogoutToken: unsupported alg ${alg}`);
  const digest = DIGEST[m[2]];
  switch (m[1]) {
    case 'RS':
      return crypto.sign(digest, data, key);
    case 'PS':
      return crypto.sign(digest, data, {
        key,
        padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
        saltLength: Number(m[2]) / 8,
      });
    case 'ES':
      // JWS wants R || S, not DER.
      return crypto.sign(digest, data, { key, dsaEncoding: 'ieee-p1363' });
    default: // HS: the key is the secret (string, Buffer or secret KeyObject)
      return crypto.createHmac(digest, key).update(data).digest();
  }
}

/**
 * A logout token as a compact JWS.
 *   privateKey  node KeyObject (jwks.mjs makeRsaKey().privateKey, or an EC
 *               P-256 key for ES256); the secret for HS*; unused for 'none'
 *   kid         header "kid" (left out when undefined)
 *   alg         RS256 (default), RS384/512, PS256/384/512, ES256/384/512,
 *               EdDSA, HS256/384/512, or 'none' (unsigned, empty signature)
 *   iss, aud    claims as given (aud: a string or an array)
 *   sub, sid    each only when given
 *   jti         default: random
 *   iat         default: now (Unix seconds)
 *   exp         only when given
 *   events      default: {BACKCHANNEL_LOGOUT_EVENT: {}}
 *   nonce       only when given (a logout token must have none)
 *   typ         header "typ", default 'logout+jwt'; null or '' leaves it out
 *   extraClaims merged over the claims above
 *   extraHeader merged over the header
 *   omit        claim names to leave out, e.g. ['events', 'iat', 'jti']
 */
export function makeLogoutToken({
  privateKey, kid, alg = 'RS256', iss, aud, sub, sid,
  jti = crypto.randomBytes(16).toString('base64url'),
  iat = Math.floor(Date.now() / 1000), exp,
  events = { [BACKCHANNEL_LOGOUT_EVENT]: {} },
  nonce, typ = 'logout+jwt', extraClaims = {}, extraHeader = {}, omit = [],
} = {}) {
  const header = { alg };
  if (typ) header.typ = typ;
  if (kid !== undefined) header.kid = kid;
  Object.assign(header, extraHeader);

  const claims = { iss, aud, iat, jti, events };
  if (sub !== undefined) claims.sub = sub;
  if (sid !== undefined) claims.sid = sid;
  if (exp !== undefined) claims.exp = exp;
  if (nonce !== undefined) claims.nonce = nonce;
  Object.assign(claims, extraClaims);
  for (const name of omit) delete claims[name];
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined) delete claims[name];
  }

  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  if (alg === 'none') return `${input}.`;
  if (!privateKey) throw new Error(`makeLogoutToken: ${alg} needs a privateKey`);
  return `${input}.${sign(alg, privateKey, input).toString('base64url')}`;
}

/** Header and claims of a compact JWS, unverified: {header, claims}. */
export function decodeJwt(token) {
  const [h, p] = String(token).split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
  };
}

/**
 * POSTs logout_token=<token> as application/x-www-form-urlencoded, as a
 * provider does (section 2.5). Resolves {status, headers, body} (see
 * http.mjs request(); opts such as ca or timeout go to it).
 */
export function postLogoutToken(url, token, opts = {}) {
  return request(url, {
    ...opts,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(opts.headers || {}) },
    body: new URLSearchParams({ logout_token: token }).toString(),
  });
}
