#include "auth_oidc_core.h"

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/api_support.h"
#include "json_edit.h"
#include "test_keys.h"

namespace {

constexpr const char *kIssuer = "https://op.example";
constexpr const char *kDiscovery = R"json({
  "issuer": "https://op.example",
  "authorization_endpoint": "https://op.example/authorize",
  "token_endpoint": "https://op.example/token",
  "userinfo_endpoint": "https://op.example/userinfo",
  "jwks_uri": "https://op.example/jwks",
  "code_challenge_methods_supported": ["S256"],
  "id_token_signing_alg_values_supported": ["RS256", "EdDSA"]
})json";

const std::string kJwks =
    std::string(R"({"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed-1","alg":"EdDSA","x":")") +
    auth_oidc::test::kEd25519X +
    R"("},{"kty":"RSA","kid":"enc-1","use":"enc","e":"AQAB","n":")" +
    auth_oidc::test::kRsa2048N + R"("}]})";

using auth_oidc::test::bytes;
using auth_oidc::test::dirtyError;
using auth_oidc::test::str;
using auth_oidc::test::toString;

bool terminatedWithin(const auth_oidc_error_t &err) {
    return std::memchr(err.msg, '\0', sizeof(err.msg)) != nullptr;
}

auth_oidc_discovery_t *parseDiscovery(const std::string &doc) {
    auth_oidc_discovery_t *d = nullptr;
    auth_oidc_error_t err = dirtyError();
    EXPECT_EQ(auth_oidc_discovery_parse(bytes(doc), doc.size(), str(kIssuer), &d, &err),
              AUTH_OIDC_OK)
        << err.msg;
    return d;
}

auth_oidc_jwks_t *parseJwks(const std::string &doc) {
    auth_oidc_jwks_t *jwks = nullptr;
    auth_oidc_error_t err = dirtyError();
    EXPECT_EQ(auth_oidc_jwks_parse(bytes(doc), doc.size(), &jwks, &err), AUTH_OIDC_OK)
        << err.msg;
    return jwks;
}

TEST(CoreApiTest, StatusStringsAreExact) {
    const std::vector<std::pair<auth_oidc_status_t, const char *>> expected = {
        {AUTH_OIDC_OK, "ok"},
        {AUTH_OIDC_ENOMEM, "out of memory"},
        {AUTH_OIDC_EINTERNAL, "internal error"},
        {AUTH_OIDC_EINVAL, "invalid argument"},
        {AUTH_OIDC_ETOOLARGE, "too large"},
        {AUTH_OIDC_EJSON, "invalid JSON"},
        {AUTH_OIDC_EFIELD, "missing or invalid member"},
        {AUTH_OIDC_EISSUER, "issuer mismatch"},
        {AUTH_OIDC_EURL, "invalid URL"},
        {AUTH_OIDC_EJWKS, "invalid JWKS"},
        {AUTH_OIDC_ENOKEYS, "no usable keys"},
        {AUTH_OIDC_ETOKEN, "malformed token"},
        {AUTH_OIDC_EALG, "algorithm not allowed"},
        {AUTH_OIDC_EKID, "unknown key"},
        {AUTH_OIDC_ESIGNATURE, "invalid signature"},
        {AUTH_OIDC_EEXPIRED, "token expired"},
        {AUTH_OIDC_ENOTYET, "token not yet valid"},
        {AUTH_OIDC_EAUDIENCE, "audience mismatch"},
        {AUTH_OIDC_EAZP, "authorized party mismatch"},
        {AUTH_OIDC_ENONCE, "nonce mismatch"},
        {AUTH_OIDC_EPROVIDER, "provider error"},
        {AUTH_OIDC_EDECODE, "malformed record"},
        {AUTH_OIDC_EAUTH, "authentication failed"},
    };
    for (const auto &[status, text] : expected) {
        EXPECT_STREQ(auth_oidc_status_string(status), text);
    }
    // Out-of-range values are C-only territory: see c_link_test.c.
}

TEST(CoreApiTest, DiscoveryExposesEndpoints) {
    auth_oidc_discovery_t *d = parseDiscovery(kDiscovery);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(toString(auth_oidc_discovery_endpoint(d, AUTH_OIDC_EP_AUTHORIZATION)),
              "https://op.example/authorize");
    EXPECT_EQ(toString(auth_oidc_discovery_endpoint(d, AUTH_OIDC_EP_TOKEN)),
              "https://op.example/token");
    EXPECT_EQ(toString(auth_oidc_discovery_endpoint(d, AUTH_OIDC_EP_USERINFO)),
              "https://op.example/userinfo");
    EXPECT_EQ(toString(auth_oidc_discovery_endpoint(d, AUTH_OIDC_EP_JWKS)),
              "https://op.example/jwks");
    for (auto which : {AUTH_OIDC_EP_END_SESSION, AUTH_OIDC_EP_REVOCATION,
                       AUTH_OIDC_EP_INTROSPECTION, AUTH_OIDC_EP_COUNT}) {
        const auth_oidc_str_t s = auth_oidc_discovery_endpoint(d, which);
        EXPECT_EQ(s.data, nullptr);
        EXPECT_EQ(s.len, 0u);
    }
    auth_oidc_discovery_free(d);
}

TEST(CoreApiTest, SuccessClearsError) {
    auth_oidc_discovery_t *d = nullptr;
    auth_oidc_error_t err = dirtyError();
    const std::string doc = kDiscovery;
    ASSERT_EQ(auth_oidc_discovery_parse(bytes(doc), doc.size(), str(kIssuer), &d, &err),
              AUTH_OIDC_OK);
    EXPECT_STREQ(err.msg, "");
    auth_oidc_discovery_free(d);
}

TEST(CoreApiTest, DiscoveryFailureReportsDetail) {
    auth_oidc_discovery_t *d = reinterpret_cast<auth_oidc_discovery_t *>(0x1);
    auth_oidc_error_t err = dirtyError();
    const std::string doc = kDiscovery;
    EXPECT_EQ(auth_oidc_discovery_parse(bytes(doc), doc.size(), str("https://b"), &d, &err),
              AUTH_OIDC_EISSUER);
    EXPECT_EQ(d, nullptr);
    EXPECT_STREQ(err.msg,
                 R"(issuer mismatch: document says "https://op.example", configured "https://b"; fix: set issuer to the document's value exactly (a trailing "/" included))");
}

TEST(CoreApiTest, AcceptsNullErrorBuffer) {
    auth_oidc_discovery_t *d = nullptr;
    const std::string doc = "[]";
    EXPECT_EQ(auth_oidc_discovery_parse(bytes(doc), doc.size(), str(kIssuer), &d, nullptr),
              AUTH_OIDC_EJSON);
    auth_oidc_jwks_t *jwks = nullptr;
    EXPECT_EQ(auth_oidc_jwks_parse(bytes(doc), doc.size(), &jwks, nullptr), AUTH_OIDC_EJSON);
    EXPECT_EQ(auth_oidc_discovery_parse(nullptr, 1, str(kIssuer), &d, nullptr),
              AUTH_OIDC_EINVAL);
}

TEST(CoreApiTest, RejectsInvalidArguments) {
    const std::string doc = kDiscovery;
    auth_oidc_discovery_t *d = nullptr;
    auth_oidc_error_t err = dirtyError();

    EXPECT_EQ(auth_oidc_discovery_parse(bytes(doc), doc.size(), str(kIssuer), nullptr, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_STREQ(err.msg, "invalid argument: out is NULL");

    EXPECT_EQ(auth_oidc_discovery_parse(nullptr, 10, str(kIssuer), &d, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_STREQ(err.msg, "invalid argument: doc is NULL");

    EXPECT_EQ(auth_oidc_discovery_parse(bytes(doc), doc.size(), str(""), &d, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_STREQ(err.msg, "invalid argument: expected issuer is empty");
    EXPECT_EQ(auth_oidc_discovery_parse(bytes(doc), doc.size(),
                                        auth_oidc_str_t{nullptr, 5}, &d, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(d, nullptr);

    auth_oidc_jwks_t *jwks = nullptr;
    EXPECT_EQ(auth_oidc_jwks_parse(bytes(kJwks), kJwks.size(), nullptr, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_jwks_parse(nullptr, 3, &jwks, &err), AUTH_OIDC_EINVAL);
    EXPECT_EQ(jwks, nullptr);
}

TEST(CoreApiTest, EmptyDocumentIsInvalidJson) {
    auth_oidc_discovery_t *d = nullptr;
    auth_oidc_error_t err = dirtyError();
    EXPECT_EQ(auth_oidc_discovery_parse(nullptr, 0, str(kIssuer), &d, &err), AUTH_OIDC_EJSON);
    EXPECT_STREQ(err.msg, "invalid JSON: empty document");
    auth_oidc_jwks_t *jwks = nullptr;
    EXPECT_EQ(auth_oidc_jwks_parse(nullptr, 0, &jwks, &err), AUTH_OIDC_EJSON);
}

TEST(CoreApiTest, ErrorDetailsAreBoundedAndTerminated) {
    const std::vector<std::string> docs = {
        std::string("{\"issuer\":\"") + std::string(1000, 'a') + "\"}",
        std::string("{\"issuer\":\"") + kIssuer + "\",\"authorization_endpoint\":\"ftp://" +
            std::string(1000, 'b') + "\"}",
        std::string(2 * 1024 * 1024, ' '),
        std::string("{\"a\":\"") + std::string(1000, 'c'),
        std::string("\xff\xfe garbage"),
    };
    for (const auto &doc : docs) {
        auth_oidc_discovery_t *d = nullptr;
        auth_oidc_error_t err = dirtyError();
        EXPECT_NE(auth_oidc_discovery_parse(bytes(doc), doc.size(), str(kIssuer), &d, &err),
                  AUTH_OIDC_OK);
        ASSERT_TRUE(terminatedWithin(err));
        EXPECT_LT(std::strlen(err.msg), sizeof(err.msg));
        for (const char *p = err.msg; *p != '\0'; ++p) {
            const auto c = static_cast<unsigned char>(*p);
            EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(c) << " in " << err.msg;
        }
    }
}

TEST(CoreApiTest, DescribeBufferContract) {
    auth_oidc_discovery_t *d = parseDiscovery(kDiscovery);
    ASSERT_NE(d, nullptr);

    const std::size_t needed = auth_oidc_discovery_describe(d, nullptr, 0);
    ASSERT_GT(needed, 2u);

    // Too small: returns the same length, leaves the buffer alone.
    std::vector<unsigned char> small(needed - 1, 0xAA);
    EXPECT_EQ(auth_oidc_discovery_describe(d, small.data(), small.size()), needed);
    EXPECT_EQ(small, std::vector<unsigned char>(needed - 1, 0xAA));

    // Exact size: filled completely, no NUL appended.
    std::vector<unsigned char> exact(needed + 1, 0xAA);
    EXPECT_EQ(auth_oidc_discovery_describe(d, exact.data(), needed), needed);
    EXPECT_EQ(exact[needed], 0xAA);
    const std::string text(exact.begin(), exact.begin() + static_cast<long>(needed));
    const auth_oidc::test::Json json = auth_oidc::test::loadJson(text);
    EXPECT_STREQ(json_string_value(json_object_get(json.get(), "userinfo_endpoint")),
                 "https://op.example/userinfo");
    EXPECT_EQ(json_array_size(
                  json_object_get(json.get(), "id_token_signing_alg_values_supported")),
              2u);

    EXPECT_EQ(auth_oidc_discovery_describe(nullptr, exact.data(), exact.size()), 0u);
    auth_oidc_discovery_free(d);
}

TEST(CoreApiTest, JwksCountsAndKids) {
    auth_oidc_jwks_t *jwks = parseJwks(kJwks);
    ASSERT_NE(jwks, nullptr);
    EXPECT_EQ(auth_oidc_jwks_count(jwks), 1u);
    EXPECT_EQ(auth_oidc_jwks_skipped(jwks), 1u);
    EXPECT_EQ(auth_oidc_jwks_has_kid(jwks, str("ed-1")), 1);
    EXPECT_EQ(auth_oidc_jwks_has_kid(jwks, str("enc-1")), 0);
    EXPECT_EQ(auth_oidc_jwks_has_kid(jwks, str("")), 0);
    EXPECT_EQ(auth_oidc_jwks_has_kid(jwks, auth_oidc_str_t{nullptr, 0}), 0);
    EXPECT_EQ(auth_oidc_jwks_has_kid(jwks, auth_oidc_str_t{nullptr, 4}), 0);
    // A view is not NUL-terminated: only len bytes count.
    EXPECT_EQ(auth_oidc_jwks_has_kid(
                  jwks, auth_oidc_str_t{reinterpret_cast<const unsigned char *>("ed-1x"), 4}),
              1);
    auth_oidc_jwks_free(jwks);
}

TEST(CoreApiTest, JwksDescribeBufferContract) {
    auth_oidc_jwks_t *jwks = parseJwks(kJwks);
    ASSERT_NE(jwks, nullptr);
    const std::string expected =
        R"([{"kid":"ed-1","kty":"OKP","alg":"EdDSA","crv":"Ed25519"}])";
    EXPECT_EQ(auth_oidc_jwks_describe(jwks, nullptr, 0), expected.size());
    std::vector<unsigned char> buf(expected.size() - 1, 0);
    EXPECT_EQ(auth_oidc_jwks_describe(jwks, buf.data(), buf.size()), expected.size());
    EXPECT_EQ(buf, std::vector<unsigned char>(expected.size() - 1, 0));
    buf.resize(expected.size() + 10);
    EXPECT_EQ(auth_oidc_jwks_describe(jwks, buf.data(), buf.size()), expected.size());
    EXPECT_EQ(std::string(buf.begin(), buf.begin() + static_cast<long>(expected.size())),
              expected);
    auth_oidc_jwks_free(jwks);
}

TEST(CoreApiTest, JwksFailureReportsDetail) {
    auth_oidc_jwks_t *jwks = reinterpret_cast<auth_oidc_jwks_t *>(0x1);
    auth_oidc_error_t err = dirtyError();
    const std::string doc = R"({"keys":[{"kty":"oct","k":"AAAA"}]})";
    EXPECT_EQ(auth_oidc_jwks_parse(bytes(doc), doc.size(), &jwks, &err), AUTH_OIDC_ENOKEYS);
    EXPECT_EQ(jwks, nullptr);
    EXPECT_STREQ(err.msg,
                 "no usable keys: no usable signature key among 1 keys; keys[0]: "
                 "symmetric (oct) keys are never used from a JWKS");
}

TEST(CoreApiTest, NullHandlesAreHarmless) {
    auth_oidc_discovery_free(nullptr);
    auth_oidc_jwks_free(nullptr);
    EXPECT_EQ(auth_oidc_discovery_endpoint(nullptr, AUTH_OIDC_EP_TOKEN).data, nullptr);
    EXPECT_EQ(auth_oidc_jwks_count(nullptr), 0u);
    EXPECT_EQ(auth_oidc_jwks_skipped(nullptr), 0u);
    EXPECT_EQ(auth_oidc_jwks_has_kid(nullptr, str("k")), 0);
    EXPECT_EQ(auth_oidc_jwks_describe(nullptr, nullptr, 0), 0u);
}

TEST(CoreApiTest, ViewsStayValidWhileHandleLives) {
    std::string doc = kDiscovery;
    auth_oidc_discovery_t *d = parseDiscovery(doc);
    ASSERT_NE(d, nullptr);
    const auth_oidc_str_t token = auth_oidc_discovery_endpoint(d, AUTH_OIDC_EP_TOKEN);
    // The handle owns copies: the input buffer may go away.
    doc.assign(doc.size(), '\0');
    doc.clear();
    doc.shrink_to_fit();
    EXPECT_EQ(toString(token), "https://op.example/token");
    EXPECT_EQ(auth_oidc_discovery_endpoint(d, AUTH_OIDC_EP_TOKEN).data, token.data);
    auth_oidc_discovery_free(d);
}

}  // namespace
