#include "auth_oidc_core.h"

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/api_support.h"
#include "flow/bearer.h"
#include "json_edit.h"
#include "jwt/signing_keys.h"
#include "jwt/token_maker.h"
#include "session/record.h"

namespace {

constexpr const char *kIssuer = "https://op.example";
constexpr std::int64_t kNow = 1700000000;

// {"issuer":"https://op.example",
//  "authorization_endpoint":"https://op.example/authorize?realm=main",
//  "token_endpoint":"https://op.example/token","jwks_uri":"https://op.example/jwks",
//  "token_endpoint_auth_methods_supported":["client_secret_post"]}
constexpr const char *kDiscovery = R"json({
  "issuer": "https://op.example",
  "authorization_endpoint": "https://op.example/authorize?realm=main",
  "token_endpoint": "https://op.example/token",
  "jwks_uri": "https://op.example/jwks",
  "token_endpoint_auth_methods_supported": ["client_secret_post"]
})json";

using auth_oidc::test::bytes;
using auth_oidc::test::dirtyError;
using auth_oidc::test::sizedCall;
using auth_oidc::test::str;
using auth_oidc::test::toString;

class FlowApiTest : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string doc = kDiscovery;
        auth_oidc_error_t err;
        ASSERT_EQ(auth_oidc_discovery_parse(bytes(doc), doc.size(), str(kIssuer), &discovery_,
                                            &err),
                  AUTH_OIDC_OK)
            << err.msg;
        ed25519_ = auth_oidc::test::loadPrivateKey(auth_oidc::test::kEd25519PrivateKeyPem);
        const std::string jwks = R"({"keys":[)" +
                                 auth_oidc::test::publicJwk(ed25519_.get(), R"("kid":"ed-1")") +
                                 "]}";
        ASSERT_EQ(auth_oidc_jwks_parse(bytes(jwks), jwks.size(), &jwks_, &err), AUTH_OIDC_OK)
            << err.msg;
    }

    void TearDown() override {
        auth_oidc_discovery_free(discovery_);
        auth_oidc_jwks_free(jwks_);
    }

    std::string token(const std::string &claims) const {
        return auth_oidc::test::signToken(ed25519_.get(), "EdDSA",
                                          R"({"alg":"EdDSA","kid":"ed-1"})", claims);
    }

    static auth_oidc_id_token_expect_t expect() {
        auth_oidc_id_token_expect_t e{};
        e.issuer = str(kIssuer);
        e.client_id = str("client-1");
        e.nonce = str("n-1");
        e.now = kNow;
        e.leeway = 60;
        return e;
    }

    auth_oidc_discovery_t *discovery_ = nullptr;
    auth_oidc_jwks_t *jwks_ = nullptr;
    auth_oidc::EvpPkeyPtr ed25519_;
};

// {"iss":"https://op.example","sub":"u-1","aud":"client-1","exp":1700000300,
//  "iat":1700000000,"nonce":"n-1","sid":"s-1","groups":["a","b"],"name":"Jane"}
constexpr const char *kClaims =
    R"({"iss":"https://op.example","sub":"u-1","aud":"client-1","exp":1700000300,)"
    R"("iat":1700000000,"nonce":"n-1","sid":"s-1","groups":["a","b"],"name":"Jane"})";

TEST_F(FlowApiTest, Base64UrlEncodeContract) {
    unsigned char random[32];
    for (std::size_t i = 0; i < sizeof(random); ++i) {
        random[i] = static_cast<unsigned char>(i * 37 + 250);
    }
    EXPECT_EQ(auth_oidc_base64url_encode(random, sizeof(random), nullptr, 0), 43u);
    unsigned char out[44];
    std::memset(out, 0xAA, sizeof(out));
    EXPECT_EQ(auth_oidc_base64url_encode(random, sizeof(random), out, 42), 43u);
    EXPECT_EQ(out[0], 0xAA);
    EXPECT_EQ(auth_oidc_base64url_encode(random, sizeof(random), out, 43), 43u);
    EXPECT_EQ(out[43], 0xAA);
    const std::string text(reinterpret_cast<char *>(out), 43);
    EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_"),
              std::string::npos);
    EXPECT_EQ(auth_oidc_base64url_encode(bytes("foobar"), 6, out, sizeof(out)), 8u);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(out), 8), "Zm9vYmFy");
    EXPECT_EQ(auth_oidc_base64url_encode(bytes("\xfb\xff"), 2, out, sizeof(out)), 3u);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(out), 3), "-_8");
    EXPECT_EQ(auth_oidc_base64url_encode(nullptr, 0, out, sizeof(out)), 0u);
    EXPECT_EQ(auth_oidc_base64url_encode(nullptr, 5, out, sizeof(out)), 0u);
    static_assert(AUTH_OIDC_BASE64URL_LEN(32) == 43, "32 random bytes");
}

TEST_F(FlowApiTest, PkceS256) {
    unsigned char out[AUTH_OIDC_PKCE_CHALLENGE_LEN];
    EXPECT_EQ(auth_oidc_pkce_s256(str("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), out,
                                  sizeof(out)),
              43u);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(out), sizeof(out)),
              "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    EXPECT_EQ(auth_oidc_pkce_s256(str("short"), out, sizeof(out)), 0u);
    EXPECT_EQ(auth_oidc_pkce_s256(auth_oidc_str_t{nullptr, 50}, out, sizeof(out)), 0u);
    EXPECT_EQ(auth_oidc_pkce_s256(str(std::string(43, 'v')), nullptr, 0), 43u);
}

TEST_F(FlowApiTest, ConfigurationChecks) {
    auth_oidc_error_t err = dirtyError();
    EXPECT_EQ(auth_oidc_scope_check(str("openid email"), &err), AUTH_OIDC_OK);
    EXPECT_STREQ(err.msg, "");
    EXPECT_EQ(auth_oidc_scope_check(str(""), &err), AUTH_OIDC_OK);
    EXPECT_EQ(auth_oidc_scope_check(str("a\"b"), &err), AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_extra_args_check(str("display=page"), &err), AUTH_OIDC_OK);
    EXPECT_EQ(auth_oidc_extra_args_check(str("a b"), &err), AUTH_OIDC_EINVAL);
    EXPECT_STREQ(err.msg,
                 "invalid argument: extra_auth_args has a character outside the URL query "
                 "set (percent-encode it)");
    EXPECT_EQ(auth_oidc_algorithms_check(str("RS256, ES256 EdDSA"), &err), AUTH_OIDC_OK);
    EXPECT_EQ(auth_oidc_algorithms_check(str(""), &err), AUTH_OIDC_OK);
    EXPECT_EQ(auth_oidc_algorithms_check(str("RS256,XX"), &err), AUTH_OIDC_EINVAL);
    EXPECT_STREQ(err.msg, R"(invalid argument: unknown signature algorithm "XX")");
    EXPECT_EQ(auth_oidc_algorithms_check(auth_oidc_str_t{nullptr, 1}, &err), AUTH_OIDC_EINVAL);
}

TEST_F(FlowApiTest, TokenResponseHandle) {
    const std::string doc =
        R"({"access_token":"at","token_type":"Bearer","id_token":"a.b.c","expires_in":60})";
    auth_oidc_token_response_t *r = nullptr;
    auth_oidc_error_t err = dirtyError();
    ASSERT_EQ(auth_oidc_token_response_parse(bytes(doc), doc.size(), 1, &r, &err),
              AUTH_OIDC_OK)
        << err.msg;
    EXPECT_EQ(toString(auth_oidc_token_response_id_token(r)), "a.b.c");
    EXPECT_EQ(auth_oidc_token_response_expires_in(r), 60);
    auth_oidc_token_response_free(r);

    const std::string error = R"({"error":"invalid_grant","error_description":"expired code"})";
    EXPECT_EQ(auth_oidc_token_response_parse(bytes(error), error.size(), 1, &r, &err),
              AUTH_OIDC_EPROVIDER);
    EXPECT_STREQ(err.msg, "provider error: invalid_grant: expired code");
    EXPECT_EQ(r, nullptr);
    EXPECT_EQ(auth_oidc_token_response_parse(nullptr, 4, 1, &r, &err), AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_token_response_expires_in(nullptr), -1);
}

TEST_F(FlowApiTest, IdTokenValidateAndClaims) {
    const std::string jwt = token(kClaims);
    auth_oidc_id_token_expect_t e = expect();
    auth_oidc_claims_t *claims = nullptr;
    auth_oidc_error_t err = dirtyError();
    ASSERT_EQ(auth_oidc_id_token_validate(str(jwt), jwks_, &e, &claims, &err), AUTH_OIDC_OK)
        << err.msg;
    EXPECT_STREQ(err.msg, "");
    EXPECT_EQ(auth_oidc_claims_exp(claims), 1700000300);

    // claims_get: size query, exact fill, absent.
    EXPECT_EQ(auth_oidc_claims_get(claims, str("groups"), nullptr, 0), 9u);
    unsigned char buf[16];
    std::memset(buf, 0xAA, sizeof(buf));
    EXPECT_EQ(auth_oidc_claims_get(claims, str("groups"), buf, 8), 9u);
    EXPECT_EQ(buf[0], 0xAA);
    EXPECT_EQ(auth_oidc_claims_get(claims, str("groups"), buf, sizeof(buf)), 9u);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(buf), 9), R"(["a","b"])");
    EXPECT_EQ(auth_oidc_claims_get(claims, str("name"), buf, sizeof(buf)), 4u);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(buf), 4), "Jane");
    EXPECT_EQ(auth_oidc_claims_get(claims, str("exp"), buf, sizeof(buf)), 10u);
    EXPECT_EQ(auth_oidc_claims_get(claims, str("nope"), buf, sizeof(buf)),
              AUTH_OIDC_CLAIM_ABSENT);
    EXPECT_EQ(auth_oidc_claims_get(nullptr, str("sub"), buf, sizeof(buf)),
              AUTH_OIDC_CLAIM_ABSENT);
    EXPECT_EQ(auth_oidc_claims_get(claims, auth_oidc_str_t{nullptr, 2}, buf, sizeof(buf)),
              AUTH_OIDC_CLAIM_ABSENT);

    // The same claims without validation.
    auth_oidc_claims_t *again = nullptr;
    ASSERT_EQ(auth_oidc_claims_parse(bytes(kClaims), std::strlen(kClaims), &again, &err),
              AUTH_OIDC_OK);
    EXPECT_EQ(auth_oidc_claims_get(again, str("name"), nullptr, 0), 4u);
    auth_oidc_claims_free(again);
    auth_oidc_claims_free(claims);
}

TEST_F(FlowApiTest, IdTokenFailuresReportStatusAndDetail) {
    auth_oidc_id_token_expect_t e = expect();
    auth_oidc_claims_t *claims = reinterpret_cast<auth_oidc_claims_t *>(0x1);
    auth_oidc_error_t err = dirtyError();

    e.nonce = str("n-2");
    EXPECT_EQ(auth_oidc_id_token_validate(str(token(kClaims)), jwks_, &e, &claims, &err),
              AUTH_OIDC_ENONCE);
    EXPECT_EQ(claims, nullptr);
    EXPECT_STREQ(err.msg, "nonce mismatch: \"nonce\" differs from the one sent");

    e = expect();
    e.now = 1700000300 + 61;
    EXPECT_EQ(auth_oidc_id_token_validate(str(token(kClaims)), jwks_, &e, &claims, &err),
              AUTH_OIDC_EEXPIRED);

    e = expect();
    const std::string other = auth_oidc::test::signToken(
        ed25519_.get(), "EdDSA", R"({"alg":"EdDSA","kid":"ed-2"})", kClaims);
    EXPECT_EQ(auth_oidc_id_token_validate(str(other), jwks_, &e, &claims, &err),
              AUTH_OIDC_EKID);
    EXPECT_EQ(auth_oidc_id_token_validate(str(other), nullptr, &e, &claims, &err),
              AUTH_OIDC_EKID);

    e.algorithms = str("RS256");
    EXPECT_EQ(auth_oidc_id_token_validate(str(token(kClaims)), jwks_, &e, &claims, &err),
              AUTH_OIDC_EALG);
    e.algorithms = str("bogus");
    EXPECT_EQ(auth_oidc_id_token_validate(str(token(kClaims)), jwks_, &e, &claims, &err),
              AUTH_OIDC_EINVAL);

    e = expect();
    EXPECT_EQ(auth_oidc_id_token_validate(str("a.b"), jwks_, &e, &claims, &err),
              AUTH_OIDC_ETOKEN);
    EXPECT_EQ(auth_oidc_id_token_validate(str(token(kClaims)), jwks_, nullptr, &claims, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_id_token_validate(str(token(kClaims)), jwks_, &e, nullptr, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_id_token_validate(auth_oidc_str_t{nullptr, 9}, jwks_, &e, &claims,
                                          &err),
              AUTH_OIDC_EINVAL);
}

TEST_F(FlowApiTest, SafeReturnPath) {
    unsigned char out[32];
    EXPECT_EQ(auth_oidc_safe_return_path(str("/app?x=1"), out, sizeof(out)), 8u);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(out), 8), "/app?x=1");
    EXPECT_EQ(auth_oidc_safe_return_path(str("//evil.com"), out, sizeof(out)), 1u);
    EXPECT_EQ(out[0], '/');
    EXPECT_EQ(auth_oidc_safe_return_path(auth_oidc_str_t{nullptr, 0}, out, sizeof(out)), 1u);
    EXPECT_EQ(auth_oidc_safe_return_path(auth_oidc_str_t{nullptr, 7}, out, sizeof(out)), 1u);
    EXPECT_EQ(auth_oidc_safe_return_path(str("/long/path"), nullptr, 0), 10u);
}

TEST_F(FlowApiTest, PendingRecordRoundTrip) {
    auth_oidc_pending_fields_t in{};
    in.nonce = str("nonce");
    in.code_verifier = str("");
    in.return_path = str("/x");
    in.provider = str("main");
    in.created = kNow;
    in.expires = kNow + 600;
    std::string record = sizedCall([&](unsigned char *buf, size_t size, size_t *needed,
                                       auth_oidc_error_t *err) {
        return auth_oidc_pending_encode(&in, buf, size, needed, err);
    });
    auth_oidc_pending_t *p = nullptr;
    auth_oidc_error_t err = dirtyError();
    ASSERT_EQ(auth_oidc_pending_decode(bytes(record), record.size(), &p, &err), AUTH_OIDC_OK)
        << err.msg;
    // The handle owns a copy.
    record.assign(record.size(), '\0');
    const auth_oidc_pending_fields_t *out = auth_oidc_pending_fields(p);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(toString(out->nonce), "nonce");
    EXPECT_EQ(out->code_verifier.data, nullptr);
    EXPECT_EQ(out->code_verifier.len, 0u);
    EXPECT_EQ(toString(out->return_path), "/x");
    EXPECT_EQ(toString(out->provider), "main");
    EXPECT_EQ(out->created, kNow);
    EXPECT_EQ(out->expires, kNow + 600);
    auth_oidc_pending_free(p);

    p = reinterpret_cast<auth_oidc_pending_t *>(0x1);
    EXPECT_EQ(auth_oidc_pending_decode(bytes(record), record.size(), &p, &err),
              AUTH_OIDC_EDECODE);
    EXPECT_EQ(p, nullptr);
    EXPECT_STREQ(err.msg, "malformed record: unsupported format version 0");
    EXPECT_EQ(auth_oidc_pending_decode(nullptr, 0, &p, &err), AUTH_OIDC_EDECODE);
    EXPECT_EQ(auth_oidc_pending_decode(nullptr, 1, &p, &err), AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_pending_fields(nullptr), nullptr);

    in.nonce = str("");
    sizedCall(
        [&](unsigned char *buf, size_t size, size_t *needed, auth_oidc_error_t *e) {
            return auth_oidc_pending_encode(&in, buf, size, needed, e);
        },
        AUTH_OIDC_EINVAL);

    in.nonce = str("n");
    in.provider = auth_oidc_str_t{nullptr, 1};
    EXPECT_EQ(sizedCall(
                  [&](unsigned char *buf, size_t size, size_t *needed, auth_oidc_error_t *e) {
                      return auth_oidc_pending_encode(&in, buf, size, needed, e);
                  },
                  AUTH_OIDC_EINVAL),
              "invalid argument: a view has data NULL");
}

TEST_F(FlowApiTest, SessionRecordRoundTrip) {
    auth_oidc_session_fields_t in{};
    in.sub = str("u-1");
    in.id_token = str("a.b.c");
    in.claims = str(R"({"sub":"u-1"})");
    in.refresh_token = str("rt");
    in.created = kNow;
    in.expires = kNow + 3600;
    in.access_token_expires = 0;
    const std::string record = sizedCall([&](unsigned char *buf, size_t size, size_t *needed,
                                             auth_oidc_error_t *err) {
        return auth_oidc_session_encode(&in, buf, size, needed, err);
    });
    auth_oidc_session_t *s = nullptr;
    auth_oidc_error_t err = dirtyError();
    ASSERT_EQ(auth_oidc_session_decode(bytes(record), record.size(), &s, &err), AUTH_OIDC_OK)
        << err.msg;
    // The hot path's questions need no token text: the expiry, and whether
    // a refresh token makes the tokens due (packed until asked for).
    EXPECT_EQ(auth_oidc_session_expires(s), kNow + 3600);
    EXPECT_EQ(auth_oidc_session_tokens(s, kNow, 60), AUTH_OIDC_TOKENS_VALID);
    in.access_token_expires = kNow + 30;
    const std::string due = sizedCall([&](unsigned char *buf, size_t size, size_t *needed,
                                          auth_oidc_error_t *e) {
        return auth_oidc_session_encode(&in, buf, size, needed, e);
    });
    in.access_token_expires = 0;
    auth_oidc_session_t *d = nullptr;
    ASSERT_EQ(auth_oidc_session_decode(bytes(due), due.size(), &d, &err), AUTH_OIDC_OK) << err.msg;
    EXPECT_EQ(auth_oidc_session_tokens(d, kNow, 60), AUTH_OIDC_TOKENS_DUE);
    auth_oidc_session_free(d);
    const auth_oidc_session_fields_t *out = auth_oidc_session_fields(s);
    EXPECT_EQ(toString(out->sub), "u-1");
    EXPECT_EQ(out->sid.data, nullptr);
    EXPECT_EQ(toString(out->id_token), "a.b.c");
    EXPECT_EQ(out->access_token.data, nullptr);
    EXPECT_EQ(toString(out->refresh_token), "rt");
    // No claims JSON after decoding: the claim table replaces it.
    EXPECT_EQ(out->claims.data, nullptr);
    EXPECT_EQ(out->claims.len, 0u);
    EXPECT_NE(out->claim_table.data, nullptr);
    EXPECT_EQ(out->userinfo.data, nullptr);
    EXPECT_EQ(out->expires, kNow + 3600);
    auth_oidc_str_t value{nullptr, 0};
    EXPECT_EQ(auth_oidc_session_claim(s, str("sub"), &value), 1);
    EXPECT_EQ(toString(value), "u-1");

    // A decoded session re-encodes to the same bytes.
    EXPECT_EQ(sizedCall([&](unsigned char *buf, size_t size, size_t *needed,
                            auth_oidc_error_t *e) {
                  return auth_oidc_session_encode(out, buf, size, needed, e);
              }),
              record);
    auth_oidc_session_free(s);

    // Claims and claim table together, or claims that are not an object.
    auth_oidc_session_fields_t both = in;
    both.claim_table = str(std::string_view("\0", 1));
    EXPECT_EQ(sizedCall(
                  [&](unsigned char *buf, size_t size, size_t *needed, auth_oidc_error_t *e) {
                      return auth_oidc_session_encode(&both, buf, size, needed, e);
                  },
                  AUTH_OIDC_EINVAL),
              "invalid argument: claims and claim table are both given");
    both = in;
    both.claims = str("[]");
    sizedCall(
        [&](unsigned char *buf, size_t size, size_t *needed, auth_oidc_error_t *e) {
            return auth_oidc_session_encode(&both, buf, size, needed, e);
        },
        AUTH_OIDC_EJSON);
    both = in;
    both.userinfo = auth_oidc_str_t{nullptr, 2};
    EXPECT_EQ(sizedCall(
                  [&](unsigned char *buf, size_t size, size_t *needed, auth_oidc_error_t *e) {
                      return auth_oidc_session_encode(&both, buf, size, needed, e);
                  },
                  AUTH_OIDC_EINVAL),
              "invalid argument: a view has data NULL");

    // A pending record is not a session.
    auth_oidc_pending_fields_t pending{};
    pending.nonce = str("n");
    pending.return_path = str("/");
    std::size_t needed = 0;
    unsigned char buf[64];
    ASSERT_EQ(auth_oidc_pending_encode(&pending, buf, sizeof(buf), &needed, nullptr),
              AUTH_OIDC_OK);
    EXPECT_EQ(auth_oidc_session_decode(buf, needed, &s, &err), AUTH_OIDC_EDECODE);
    EXPECT_STREQ(err.msg, "malformed record: not a session record");
}

// Every claim a decoded session gives equals what auth_oidc_claims_get()
// renders from the same JSON.
// A worker shares one decoded session between requests: each holder frees
// its reference, the last one the session (ASan sees a leak or a double
// free).
TEST_F(FlowApiTest, SessionHandleIsSharedByReference) {
    auth_oidc_session_fields_t in{};
    in.sub = str("u-1");
    in.id_token = str("a.b.c");
    in.claims = str(R"({"sub":"u-1","email":"u@example.test"})");
    const std::string record = sizedCall([&](unsigned char *buf, size_t size, size_t *needed,
                                             auth_oidc_error_t *err) {
        return auth_oidc_session_encode(&in, buf, size, needed, err);
    });
    auth_oidc_session_t *s = nullptr;
    auth_oidc_error_t err = dirtyError();
    ASSERT_EQ(auth_oidc_session_decode(bytes(record), record.size(), &s, &err), AUTH_OIDC_OK)
        << err.msg;
    EXPECT_EQ(auth_oidc_session_ref(s), s);
    EXPECT_EQ(auth_oidc_session_ref(s), s);
    auth_oidc_session_free(s);
    auth_oidc_session_free(s);
    // the last holder still reads it
    auth_oidc_str_t value{nullptr, 0};
    ASSERT_EQ(auth_oidc_session_claim(s, str("email"), &value), 1);
    EXPECT_EQ(toString(value), "u@example.test");
    EXPECT_EQ(toString(auth_oidc_session_fields(s)->sub), "u-1");
    auth_oidc_session_free(s);
    EXPECT_EQ(auth_oidc_session_ref(nullptr), nullptr);
    auth_oidc_session_free(nullptr);
}

TEST_F(FlowApiTest, SessionClaimMatchesClaimsGet) {
    const std::string json =
        "{\"sub\":\"u-1\",\"n\":42,\"f\":1.5e300,\"t\":true,\"no\":false,"
        "\"nul\":null,\"arr\":[1,\"two\",null],\"obj\":{\"a\":{\"b\":[]}},"
        "\"uni\":\"J\\u00f6rg \\ud83d\\ude00\",\"ctl\":\"a\\r\\nX-Evil: 1\\u007f\","
        "\"empty\":\"\",\"groups\":[\"a\\nb\"]}";
    auth_oidc_session_fields_t in{};
    in.sub = str("u-1");
    in.id_token = str("a.b.c");
    in.claims = str(json);
    const std::string record = sizedCall([&](unsigned char *buf, size_t size, size_t *needed,
                                             auth_oidc_error_t *err) {
        return auth_oidc_session_encode(&in, buf, size, needed, err);
    });
    auth_oidc_session_t *s = nullptr;
    auth_oidc_claims_t *c = nullptr;
    auth_oidc_error_t err = dirtyError();
    ASSERT_EQ(auth_oidc_session_decode(bytes(record), record.size(), &s, &err), AUTH_OIDC_OK)
        << err.msg;
    ASSERT_EQ(auth_oidc_claims_parse(bytes(json), json.size(), &c, &err), AUTH_OIDC_OK)
        << err.msg;
    std::size_t present = 0;
    for (const char *name : {"sub", "n", "f", "t", "no", "nul", "arr", "obj", "uni", "ctl",
                             "empty", "groups", "absent", ""}) {
        unsigned char buf[256];
        const std::size_t len = auth_oidc_claims_get(c, str(name), buf, sizeof(buf));
        auth_oidc_str_t value{bytes("x"), 1};
        const int found = auth_oidc_session_claim(s, str(name), &value);
        if (len == AUTH_OIDC_CLAIM_ABSENT) {
            EXPECT_EQ(found, 0) << name;
            EXPECT_EQ(value.data, nullptr);
            EXPECT_EQ(value.len, 0u);
            continue;
        }
        ++present;
        ASSERT_EQ(found, 1) << name;
        ASSERT_LE(len, sizeof(buf));
        EXPECT_EQ(std::string(reinterpret_cast<const char *>(value.data), value.len),
                  std::string(reinterpret_cast<const char *>(buf), len))
            << name;
    }
    EXPECT_EQ(present, 11u);
    auth_oidc_str_t value{nullptr, 0};
    ASSERT_EQ(auth_oidc_session_claim(s, str("ctl"), &value), 1);
    EXPECT_EQ(toString(value), "a  X-Evil: 1 ");
    // as nginx spells variable names: case folded when nothing matches exactly
    ASSERT_EQ(auth_oidc_session_claim(s, str("Sub"), &value), 1);
    EXPECT_EQ(toString(value), "u-1");
    // Bad arguments.
    EXPECT_EQ(auth_oidc_session_claim(nullptr, str("sub"), &value), 0);
    EXPECT_EQ(value.data, nullptr);
    EXPECT_EQ(auth_oidc_session_claim(s, str("sub"), nullptr), 0);
    EXPECT_EQ(auth_oidc_session_claim(s, auth_oidc_str_t{nullptr, 3}, &value), 0);
    auth_oidc_claims_free(c);
    auth_oidc_session_free(s);

    // A record of the previous format version.
    std::string v1 = record;
    v1[0] = '\x01';
    s = reinterpret_cast<auth_oidc_session_t *>(0x1);
    EXPECT_EQ(auth_oidc_session_decode(bytes(v1), v1.size(), &s, &err), AUTH_OIDC_EDECODE);
    EXPECT_EQ(s, nullptr);
    EXPECT_STREQ(err.msg, "malformed record: unsupported format version 1");
}

TEST_F(FlowApiTest, NullHandlesAreHarmless) {
    auth_oidc_token_response_free(nullptr);
    auth_oidc_claims_free(nullptr);
    auth_oidc_pending_free(nullptr);
    auth_oidc_session_free(nullptr);
    EXPECT_EQ(auth_oidc_claims_exp(nullptr), 0);
    EXPECT_EQ(auth_oidc_session_fields(nullptr), nullptr);
    EXPECT_EQ(auth_oidc_token_response_id_token(nullptr).data, nullptr);
}

}  // namespace

// A bearer token's cached verification through the C API: an accepted one
// is a session handle the variables read; a refused one says why, in views
// of the caller's bytes; anything else is EDECODE.
TEST(BearerApiTest, CachedVerificationsDecode) {
    const std::string claims =
        R"({"iss":"https://op.example","sub":"u1","scope":"read write","groups":["a","b"]})";
    auth_oidc::BearerFields accepted;
    accepted.sub = "u1";
    accepted.scope = "read write";
    accepted.claims = claims;
    accepted.verified = kNow;
    accepted.expires = kNow + 600;
    auto record = auth_oidc::encodeBearer(accepted);
    ASSERT_TRUE(record) << record.detail();

    auth_oidc_session_t *s = nullptr;
    auth_oidc_str_t error{}, description{}, value{};
    auth_oidc_error_t err = dirtyError();
    ASSERT_EQ(auth_oidc_bearer_decode(bytes(record.value()), record.value().size(), &s, &error,
                                      &description, &err),
              AUTH_OIDC_OK)
        << err.msg;
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(error.len, 0u);
    EXPECT_EQ(toString(auth_oidc_session_fields(s)->sub), "u1");
    EXPECT_EQ(auth_oidc_session_fields(s)->expires, kNow + 600);
    EXPECT_EQ(auth_oidc_session_fields(s)->id_token.len, 0u);
    EXPECT_EQ(toString(auth_oidc_session_scope(s)), "read write");
    ASSERT_EQ(auth_oidc_session_claim(s, str("groups"), &value), 1);
    EXPECT_EQ(toString(value), R"(["a","b"])");
    const auth_oidc_str_t path[] = {str("groups"), str("1")};
    unsigned char buf[16];
    size_t needed = 0;
    ASSERT_EQ(auth_oidc_session_claim_path(s, path, 2, buf, sizeof buf, &needed), 1);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(buf), needed), "b");
    EXPECT_EQ(auth_oidc_session_claim_has(s, path, 1, str("a")), 1);
    auth_oidc_session_free(s);

    auth_oidc::BearerFields refused;
    refused.refusedError = "invalid_token";
    refused.refusedDescription = "the token expired";
    auto no = auth_oidc::encodeBearer(refused);
    ASSERT_TRUE(no) << no.detail();
    const std::string kept = no.value();
    ASSERT_EQ(auth_oidc_bearer_decode(bytes(kept), kept.size(), &s, &error, &description, &err),
              AUTH_OIDC_OK);
    EXPECT_EQ(s, nullptr);
    EXPECT_EQ(toString(error), "invalid_token");
    EXPECT_EQ(toString(description), "the token expired");
    EXPECT_GE(error.data, bytes(kept));
    EXPECT_LE(description.data + description.len, bytes(kept) + kept.size());

    for (const std::string &bad : {std::string(), std::string("\x03R"), kept + "x",
                                   record.value().substr(0, record.value().size() - 1)}) {
        s = reinterpret_cast<auth_oidc_session_t *>(&err);  // overwritten
        EXPECT_EQ(auth_oidc_bearer_decode(bytes(bad), bad.size(), &s, &error, &description, &err),
                  AUTH_OIDC_EDECODE);
        EXPECT_EQ(s, nullptr);
    }
}

TEST(BearerApiTest, KeyIsTheTokensHashOrNothing) {
    unsigned char buf[AUTH_OIDC_BEARER_KEY_MAX(2)];
    const size_t len = auth_oidc_bearer_key(str("op"), str("abc.def"), buf, sizeof buf);
    ASSERT_GT(len, 0u);
    ASSERT_LE(len, sizeof buf);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(buf), len),
              auth_oidc::bearerTokenKey("op", "abc.def"));
    EXPECT_EQ(auth_oidc_bearer_key(str("op"), str("a b"), buf, sizeof buf), 0u);
    EXPECT_EQ(auth_oidc_bearer_key(str("op"), str("abc.def"), buf, len - 1), 0u)
        << "a key that does not fit is none";
    EXPECT_EQ(auth_oidc_bearer_key(str("op"), str(""), buf, sizeof buf), 0u);
}
