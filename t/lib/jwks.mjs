import crypto from 'node:crypto';

/**
 * A fresh RS256 signing key. Returns {kid, privateJwk, publicJwk, privateKey}.
 * privateJwk is what oidc-provider wants in `jwks.keys`; publicJwk is what a
 * JWKS endpoint serves.
 */
export function makeRsaKey({ kid, bits = 2048, alg = 'RS256' } = {}) {
  // Generated as PEM and read back: exporting as JWK a key object that came
  // out of generateKeyPairSync can deadlock Node 20 (the export holds the
  // key's mutex, allocates, and a GC then frees the finished key generation
  // job, which takes the same mutex; seen once in CI: node stuck in a futex
  // under ExportJWK -> GC -> ~KeyGenJob). Keys read from PEM belong to no job.
  const { privateKey: pem } = crypto.generateKeyPairSync('rsa', {
    modulusLength: bits,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const privateKey = crypto.createPrivateKey(pem);
  const publicKey = crypto.createPublicKey(privateKey);
  kid ??= `test-${crypto.randomBytes(6).toString('hex')}`;
  const meta = { kid, alg, use: 'sig' };
  return {
    kid,
    privateKey,
    privateJwk: { ...privateKey.export({ format: 'jwk' }), ...meta },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), ...meta },
  };
}

/** A minimal but valid OpenID discovery document for `issuer`. */
export function discoveryDoc(issuer, overrides = {}) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/me`,
    jwks_uri: `${issuer}/jwks`,
    end_session_endpoint: `${issuer}/session/end`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    ...overrides,
  };
}
