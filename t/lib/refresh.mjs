// Sessions that refresh at the real oidc-provider: a provider whose tokens
// live a few seconds, and what a test waits for and looks at.
import assert from 'node:assert/strict';
import { withSession, NAV } from './login.mjs';
import { sleep } from './util.mjs';

export const REFRESHING = {
  scope: 'openid offline_access email profile',
  extra_auth_args: '"prompt=consent"',
};

const TOKEN_TTL = 4;

/** A real provider whose tokens live TOKEN_TTL seconds. */
export function shortTokens(h, { tokenTtl = TOKEN_TTL, ...opts } = {}) {
  return h.provider({
    ttl: { AccessToken: tokenTtl, IdToken: tokenTtl, RefreshToken: 3600, Session: 3600, Grant: 3600 },
    ...opts,
  });
}

/** What the app saw for one request with the session, asserting a 200. */
export async function seen(ngx, cookie, headers = NAV, path = '/app/x') {
  const res = await ngx.get(path, { headers: withSession(cookie, headers) });
  assert.equal(res.status, 200, `${path} with the session: ${res.status} ${res.headers.location || ''} ${res.body.slice(0, 200)}`);
  return res.json().headers;
}

/** Sleeps until the tokens obtained at `since` (ms) have expired. */
export const pastExpiry = (since, ttl = TOKEN_TTL) => sleep(Math.max(0, since + ttl * 1000 + 1100 - Date.now()));
