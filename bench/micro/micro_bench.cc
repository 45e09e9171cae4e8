// Micro-benchmarks of the core's hot paths, through the public C API (what
// the nginx module calls), plus the signature step of the ID-token check
// through the core's C++ API, to set beside `openssl speed`. Every input is
// built once, outside the timed loops. `make bench-micro` builds and runs them (bench/README.md).

#include <benchmark/benchmark.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "auth_oidc_core.h"
#include "jwk/jwks.h"
#include "jwt/algorithm.h"
#include "jwt/jws.h"
#include "jwt/signing_keys.h"  // src/core/test: throwaway signing keys

namespace {

[[noreturn]] void die(const char *what, const auth_oidc_error_t *err = nullptr) {
    std::fprintf(stderr, "auth_oidc_micro: setup failed: %s%s%s\n", what,
                 err ? ": " : "", err ? err->msg : "");
    std::exit(1);
}

auth_oidc_str_t view(const std::string &s) {
    return {reinterpret_cast<const unsigned char *>(s.data()), s.size()};
}

std::string b64(const unsigned char *data, size_t len) {
    std::string out(AUTH_OIDC_BASE64URL_LEN(len), '\0');
    auth_oidc_base64url_encode(data, len,
                               reinterpret_cast<unsigned char *>(&out[0]),
                               out.size());
    return out;
}

std::string b64(const std::string &s) {
    return b64(reinterpret_cast<const unsigned char *>(s.data()), s.size());
}

EVP_PKEY *loadKey(const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (key == nullptr) {
        die("signing key does not load");
    }
    return key;
}

std::string bnParam(const EVP_PKEY *key, const char *name, int padTo = 0) {
    BIGNUM *bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
        die(name);
    }
    const int len = padTo > 0 ? padTo : BN_num_bytes(bn);
    std::vector<unsigned char> out(static_cast<size_t>(len));
    BN_bn2binpad(bn, out.data(), len);
    BN_free(bn);
    return b64(out.data(), out.size());
}

// {"keys":[<public half of key, with kid and alg>]}
std::string jwksFor(EVP_PKEY *key, const std::string &kid, const std::string &alg) {
    std::string jwk;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        jwk = R"({"kty":"RSA","n":")" + bnParam(key, OSSL_PKEY_PARAM_RSA_N) +
              R"(","e":")" + bnParam(key, OSSL_PKEY_PARAM_RSA_E) + '"';
        break;
    case EVP_PKEY_EC:
        jwk = R"({"kty":"EC","crv":"P-256","x":")" +
              bnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, 32) + R"(","y":")" +
              bnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32) + '"';
        break;
    case EVP_PKEY_ED25519: {
        unsigned char raw[32];
        size_t len = sizeof raw;
        if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1) {
            die("Ed25519 public key");
        }
        jwk = R"({"kty":"OKP","crv":"Ed25519","x":")" + b64(raw, len) + '"';
        break;
    }
    default:
        die("unexpected key type");
    }
    return R"({"keys":[)" + jwk + R"(,"kid":")" + kid + R"(","alg":")" + alg +
           R"(","use":"sig"}]})";
}

// Compact JWS, signed the way a provider signs (raw R || S for ES256).
std::string signToken(EVP_PKEY *key, const std::string &alg,
                      const std::string &header, const std::string &payload) {
    const std::string input = b64(header) + '.' + b64(payload);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = alg == "EdDSA" ? nullptr : EVP_sha256();
    size_t len = 0;
    const auto *data = reinterpret_cast<const unsigned char *>(input.data());
    if (EVP_DigestSignInit(ctx, nullptr, md, nullptr, key) != 1 ||
        EVP_DigestSign(ctx, nullptr, &len, data, input.size()) != 1) {
        die("sign");
    }
    std::vector<unsigned char> sig(len);
    if (EVP_DigestSign(ctx, sig.data(), &len, data, input.size()) != 1) {
        die("sign");
    }
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        const unsigned char *p = sig.data();
        ECDSA_SIG *der = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
        std::vector<unsigned char> raw(64);
        BN_bn2binpad(ECDSA_SIG_get0_r(der), raw.data(), 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(der), raw.data() + 32, 32);
        ECDSA_SIG_free(der);
        sig = raw;
    }
    return input + '.' + b64(sig.data(), sig.size());
}

const std::string kIssuer = "https://login.example.com/realms/production";
const std::string kClientId = "nginx-frontend-prod";
const std::string kNonce = "q2Vq5Jx0cH9x2ZQm0bV1fN3kL8pR7sT4uW6yA1cD3eF";

// A typical provider ID token payload: 8 claims, about 380 bytes of JSON.
std::string claimsJson(int64_t now) {
    return R"({"iss":")" + kIssuer +
           R"(","sub":"f3b1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d","aud":")" + kClientId +
           R"(","exp":)" + std::to_string(now + 3600) +
           R"(,"iat":)" + std::to_string(now) + R"(,"nonce":")" + kNonce +
           R"(","email":"jane.doe@engineering.example.com",)"
           R"("groups":["engineering","platform-team","oncall-primary",)"
           R"("release-managers","observability","vpn-users"]})";
}

std::string header(const std::string &alg, const std::string &kid) {
    return R"({"alg":")" + alg + R"(","kid":")" + kid + R"(","typ":"JWT"})";
}

// Everything the benchmarks read, built once per process.
struct Inputs {
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    std::string claims;
    std::string tokenRs, tokenEs, tokenEd;
    std::string jwksRs, jwksEs, jwksEd;
    std::vector<unsigned char> session;  // encoded session record
    std::string sessionId;               // 43 characters, as in the cookie
    std::string lookupKey;
    std::string keyName;                 // "<prefix>s:<lookup key>", the aad
    std::vector<unsigned char> sealed;
    auth_oidc_keyring_t *keyring = nullptr;

    Inputs() {
        claims = claimsJson(now);
        EVP_PKEY *rsa = loadKey(auth_oidc::test::kRsaPrivateKeyPem);
        EVP_PKEY *ec = loadKey(auth_oidc::test::kP256PrivateKeyPem);
        EVP_PKEY *ed = loadKey(auth_oidc::test::kEd25519PrivateKeyPem);
        tokenRs = signToken(rsa, "RS256", header("RS256", "rsa-2048"), claims);
        tokenEs = signToken(ec, "ES256", header("ES256", "p-256"), claims);
        tokenEd = signToken(ed, "EdDSA", header("EdDSA", "ed25519"), claims);
        jwksRs = jwksFor(rsa, "rsa-2048", "RS256");
        jwksEs = jwksFor(ec, "p-256", "ES256");
        jwksEd = jwksFor(ed, "ed25519", "EdDSA");
        EVP_PKEY_free(rsa);
        EVP_PKEY_free(ec);
        EVP_PKEY_free(ed);

        // The session the callback stores after a login with tokenRs (no access
        // token kept): about 1.2 KB.
        auth_oidc_session_fields_t f{};
        const std::string sub = "f3b1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
        f.sub = view(sub);
        f.id_token = view(tokenRs);
        f.claims = view(claims);
        f.created = now;
        f.expires = now + 8 * 3600;
        auth_oidc_error_t err;
        size_t needed = 0;
        if (auth_oidc_session_encode(&f, nullptr, 0, &needed, &err) != AUTH_OIDC_OK) {
            die("session encode", &err);
        }
        session.resize(needed);
        if (auth_oidc_session_encode(&f, session.data(), session.size(), &needed,
                                     &err) != AUTH_OIDC_OK) {
            die("session encode", &err);
        }

        unsigned char rnd[32];
        for (unsigned i = 0; i < sizeof rnd; i++) {
            rnd[i] = static_cast<unsigned char>(i * 37 + 11);
        }
        sessionId = b64(rnd, sizeof rnd);
        const std::string secret = "bench-secret-0123456789-abcdefghijklmnop";
        if (auth_oidc_keyring_new(view(secret), {nullptr, 0}, &keyring, &err) !=
            AUTH_OIDC_OK) {
            die("keyring", &err);
        }
        lookupKey.assign(AUTH_OIDC_LOOKUP_KEY_LEN, '\0');
        if (auth_oidc_keyring_lookup_key(
                keyring, view(std::string("s")), view(sessionId), 0,
                reinterpret_cast<unsigned char *>(&lookupKey[0]),
                lookupKey.size()) != AUTH_OIDC_LOOKUP_KEY_LEN) {
            die("lookup key");
        }
        keyName = "auth_oidc:s:" + lookupKey;
        const unsigned char nonce[AUTH_OIDC_SEAL_NONCE_LEN] = {1, 2, 3, 4, 5, 6,
                                                               7, 8, 9, 10, 11, 12};
        const auth_oidc_str_t plain = {session.data(), session.size()};
        sealed.resize(session.size() + AUTH_OIDC_SEAL_OVERHEAD);
        if (auth_oidc_seal(keyring, view(keyName), plain, nonce, sealed.data(),
                           sealed.size(), &needed, &err) != AUTH_OIDC_OK) {
            die("seal", &err);
        }
    }
};

const Inputs &inputs() {
    static const Inputs in;
    return in;
}

void BM_SessionDecode(benchmark::State &state) {
    const Inputs &in = inputs();
    auth_oidc_error_t err;
    for (auto _ : state) {
        auth_oidc_session_t *s = nullptr;
        if (auth_oidc_session_decode(in.session.data(), in.session.size(), &s,
                                     &err) != AUTH_OIDC_OK) {
            state.SkipWithError(err.msg);
            break;
        }
        benchmark::DoNotOptimize(s);
        auth_oidc_session_free(s);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() *
                            static_cast<int64_t>(in.session.size()));
    state.counters["record_bytes"] = static_cast<double>(in.session.size());
    state.counters["id_token_bytes"] = static_cast<double>(in.tokenRs.size());
}
BENCHMARK(BM_SessionDecode);

// One item = one auth_oidc_session_claim() call; 3 per iteration.
void BM_ClaimLookup(benchmark::State &state) {
    const Inputs &in = inputs();
    auth_oidc_error_t err;
    auth_oidc_session_t *s = nullptr;
    if (auth_oidc_session_decode(in.session.data(), in.session.size(), &s, &err) !=
        AUTH_OIDC_OK) {
        state.SkipWithError(err.msg);
        return;
    }
    const std::string names[3] = {"sub", "email", "groups"};
    const auth_oidc_str_t views[3] = {view(names[0]), view(names[1]),
                                      view(names[2])};
    for (auto _ : state) {
        for (const auth_oidc_str_t &name : views) {
            auth_oidc_str_t value;
            int found = auth_oidc_session_claim(s, name, &value);
            benchmark::DoNotOptimize(found);
            benchmark::DoNotOptimize(value);
        }
    }
    auth_oidc_str_t check;
    if (!auth_oidc_session_claim(s, views[2], &check)) {
        state.SkipWithError("claim missing");
    }
    auth_oidc_session_free(s);
    state.SetItemsProcessed(state.iterations() * 3);
}
BENCHMARK(BM_ClaimLookup);

// The callback's ID token check: signature, then the claims.
void idTokenVerify(benchmark::State &state, const std::string &token,
                   const std::string &jwksDoc) {
    const Inputs &in = inputs();
    auth_oidc_error_t err;
    auth_oidc_jwks_t *jwks = nullptr;
    if (auth_oidc_jwks_parse(reinterpret_cast<const unsigned char *>(jwksDoc.data()),
                             jwksDoc.size(), &jwks, &err) != AUTH_OIDC_OK) {
        state.SkipWithError(err.msg);
        return;
    }
    auth_oidc_id_token_expect_t expect{};
    expect.issuer = view(kIssuer);
    expect.client_id = view(kClientId);
    expect.nonce = view(kNonce);
    expect.now = in.now;
    expect.leeway = 60;
    for (auto _ : state) {
        auth_oidc_claims_t *claims = nullptr;
        if (auth_oidc_id_token_validate(view(token), jwks, &expect, &claims, &err) !=
            AUTH_OIDC_OK) {
            state.SkipWithError(err.msg);
            break;
        }
        benchmark::DoNotOptimize(claims);
        auth_oidc_claims_free(claims);
    }
    auth_oidc_jwks_free(jwks);
    state.SetItemsProcessed(state.iterations());
    state.counters["token_bytes"] = static_cast<double>(token.size());
}

void BM_IdTokenVerifyRS256(benchmark::State &state) {
    idTokenVerify(state, inputs().tokenRs, inputs().jwksRs);
}
BENCHMARK(BM_IdTokenVerifyRS256);

void BM_IdTokenVerifyES256(benchmark::State &state) {
    idTokenVerify(state, inputs().tokenEs, inputs().jwksEs);
}
BENCHMARK(BM_IdTokenVerifyES256);

void BM_IdTokenVerifyEdDSA(benchmark::State &state) {
    idTokenVerify(state, inputs().tokenEd, inputs().jwksEd);
}
BENCHMARK(BM_IdTokenVerifyEdDSA);

// The signature step alone: split and decode the token, hash the signing
// input, verify with the key (what `openssl speed` compares to, plus the
// hash). validate adds the header and claims JSON and the claim checks.
void jwsSignature(benchmark::State &state, const std::string &token,
                  const std::string &jwksDoc) {
    auto jwks = auth_oidc::Jwks::parse(jwksDoc);
    if (!jwks || jwks.value().keys().empty()) {
        state.SkipWithError("JWKS does not parse");
        return;
    }
    const auth_oidc::Jwk &key = jwks.value().keys().front();
    for (auto _ : state) {
        auto jws = auth_oidc::CompactJws::parse(token);
        const auto alg = jws ? auth_oidc::algFromName(jws.value().alg) : std::nullopt;
        if (!alg || !auth_oidc::verifySignature(*alg, key, jws.value().signingInput,
                                                jws.value().signature)) {
            state.SkipWithError("signature refused");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_JwsSignatureRS256(benchmark::State &state) {
    jwsSignature(state, inputs().tokenRs, inputs().jwksRs);
}
BENCHMARK(BM_JwsSignatureRS256);

void BM_JwsSignatureES256(benchmark::State &state) {
    jwsSignature(state, inputs().tokenEs, inputs().jwksEs);
}
BENCHMARK(BM_JwsSignatureES256);

void BM_JwsSignatureEdDSA(benchmark::State &state) {
    jwsSignature(state, inputs().tokenEd, inputs().jwksEd);
}
BENCHMARK(BM_JwsSignatureEdDSA);

// A bearer token's first verification, the whole bearer flow as the module
// runs it: start, metadata in hand, the JWT validated (signature and
// claims), the cache record encoded, done. The header says "JWT", so the
// lenient type check; the audience is the client id the token names.
void bearerFirstVerify(benchmark::State &state, const std::string &token,
                       const std::string &jwksDoc) {
    const Inputs &in = inputs();
    auth_oidc_error_t err;
    auth_oidc_jwks_t *jwks = nullptr;
    auth_oidc_discovery_t *discovery = nullptr;
    const std::string doc = R"({"issuer":")" + kIssuer +
                            R"(","authorization_endpoint":")" + kIssuer +
                            R"(/auth","token_endpoint":")" + kIssuer +
                            R"(/token","jwks_uri":")" + kIssuer + R"(/certs"})";
    if (auth_oidc_jwks_parse(reinterpret_cast<const unsigned char *>(jwksDoc.data()),
                             jwksDoc.size(), &jwks, &err) != AUTH_OIDC_OK ||
        auth_oidc_discovery_parse(reinterpret_cast<const unsigned char *>(doc.data()),
                                  doc.size(), view(kIssuer), &discovery,
                                  &err) != AUTH_OIDC_OK) {
        state.SkipWithError(err.msg);
        auth_oidc_jwks_free(jwks);
        return;
    }
    const std::string provider = "op", empty;
    auth_oidc_bearer_params_t p{};
    p.provider = view(provider);
    p.issuer = view(kIssuer);
    p.client_id = view(kClientId);
    p.client_secret = view(empty);
    p.algorithms = view(empty);
    p.audiences = view(kClientId);
    p.validation = AUTH_OIDC_BEARER_AUTO;
    p.strict_type = 0;
    p.leeway = 60;
    p.cache_valid = 300;
    p.cache_invalid = 10;
    p.token = view(token);
    p.now = in.now;
    auth_oidc_step_result_t metadata{};
    metadata.discovery = discovery;
    metadata.jwks = jwks;
    auth_oidc_step_result_t stored{};
    for (auto _ : state) {
        auth_oidc_flow_t *flow = nullptr;
        auth_oidc_step_t step{};
        if (auth_oidc_bearer_flow(&p, &flow, &step, &err) != AUTH_OIDC_OK ||
            auth_oidc_flow_resume(flow, &metadata, &step, &err) != AUTH_OIDC_OK ||
            step.kind != AUTH_OIDC_STEP_STORE ||
            auth_oidc_flow_resume(flow, &stored, &step, &err) != AUTH_OIDC_OK ||
            step.kind != AUTH_OIDC_STEP_DONE) {
            state.SkipWithError("the token was not accepted");
            auth_oidc_flow_free(flow);
            break;
        }
        benchmark::DoNotOptimize(step.value.len);
        auth_oidc_flow_free(flow);
    }
    auth_oidc_jwks_free(jwks);
    auth_oidc_discovery_free(discovery);
    state.SetItemsProcessed(state.iterations());
}

void BM_BearerFirstVerifyRS256(benchmark::State &state) {
    bearerFirstVerify(state, inputs().tokenRs, inputs().jwksRs);
}
BENCHMARK(BM_BearerFirstVerifyRS256);

void BM_BearerFirstVerifyES256(benchmark::State &state) {
    bearerFirstVerify(state, inputs().tokenEs, inputs().jwksEs);
}
BENCHMARK(BM_BearerFirstVerifyES256);

void BM_BearerFirstVerifyEdDSA(benchmark::State &state) {
    bearerFirstVerify(state, inputs().tokenEd, inputs().jwksEd);
}
BENCHMARK(BM_BearerFirstVerifyEdDSA);

// The Redis key name of a session id (every request with a cookie).
void BM_RedisLookupKey(benchmark::State &state) {
    const Inputs &in = inputs();
    const auth_oidc_str_t kind = {reinterpret_cast<const unsigned char *>("s"), 1};
    const auth_oidc_str_t id = view(in.sessionId);
    unsigned char out[AUTH_OIDC_LOOKUP_KEY_LEN];
    for (auto _ : state) {
        size_t n = auth_oidc_keyring_lookup_key(in.keyring, kind, id, 0, out,
                                                sizeof out);
        benchmark::DoNotOptimize(n);
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RedisLookupKey);

// Authenticating and decrypting the sealed session read from Redis.
void BM_RedisOpen(benchmark::State &state) {
    const Inputs &in = inputs();
    const auth_oidc_str_t aad = view(in.keyName);
    const auth_oidc_str_t sealed = {in.sealed.data(), in.sealed.size()};
    std::vector<unsigned char> plain(in.session.size());
    auth_oidc_error_t err;
    for (auto _ : state) {
        size_t needed = 0;
        if (auth_oidc_open(in.keyring, aad, sealed, plain.data(), plain.size(),
                           &needed, &err) != AUTH_OIDC_OK) {
            state.SkipWithError(err.msg);
            break;
        }
        benchmark::DoNotOptimize(plain.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() *
                            static_cast<int64_t>(in.sealed.size()));
    state.counters["sealed_bytes"] = static_cast<double>(in.sealed.size());
}
BENCHMARK(BM_RedisOpen);

// A new session id: 32 random bytes to the cookie's 43 characters.
void BM_CookieLikeBase64url(benchmark::State &state) {
    unsigned char in[32];
    for (unsigned i = 0; i < sizeof in; i++) {
        in[i] = static_cast<unsigned char>(i * 73 + 5);
    }
    unsigned char out[AUTH_OIDC_BASE64URL_LEN(32)];
    for (auto _ : state) {
        benchmark::DoNotOptimize(in);
        size_t n = auth_oidc_base64url_encode(in, sizeof in, out, sizeof out);
        benchmark::DoNotOptimize(n);
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieLikeBase64url);

}  // namespace

BENCHMARK_MAIN();
