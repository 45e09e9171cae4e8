#include "flow/userinfo.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/base64url.h"
#include "jwk/jwks.h"
#include "jwt/signing_keys.h"
#include "jwt/token_maker.h"

// UserInfo answers (OpenID Connect Core 1.0, 5.3): plain JSON and signed
// JWTs, the "sub" check, the merge into the ID token's claims and the
// request itself.

namespace auth_oidc {
namespace {

using namespace test;  // NOLINT: keys and token makers

constexpr const char *kIssuer = "https://op.example";
constexpr const char *kClient = "client-1";
constexpr const char *kSecret = "a-client-secret-of-32-bytes-long";

class UserinfoTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        p256_ = loadPrivateKey(kP256PrivateKeyPem).release();
        rsa_ = loadPrivateKey(kRsaPrivateKeyPem).release();
        // Only the P-256 key is published ("ec-1"); the RSA key is not.
        auto parsed = Jwks::parse(R"({"keys":[)" +
                                  publicJwk(p256_, R"("kid":"ec-1","use":"sig")") +
                                  "]}");
        ASSERT_TRUE(parsed) << parsed.detail();
        jwks_ = new Jwks(std::move(parsed).value());
    }

    static void TearDownTestSuite() {
        delete jwks_;
        EVP_PKEY_free(p256_);
        EVP_PKEY_free(rsa_);
        jwks_ = nullptr;
        p256_ = rsa_ = nullptr;
    }

    static UserinfoExpectations expect(std::string_view sub = "user-1") {
        UserinfoExpectations e;
        e.sub = sub;
        e.issuer = kIssuer;
        e.clientId = kClient;
        e.clientSecret = kSecret;
        e.algs = parseAlgList("ES256 RS256 HS256").value();
        return e;
    }

    static std::string payload(const std::string &members) {
        return std::string(R"({"iss":"https://op.example","sub":"user-1",)") +
               members + "}";
    }

    // A userinfo JWT signed with the published key, kid "ec-1".
    static std::string signedAnswer(
        const std::string &body =
            payload(R"("aud":"client-1","email":"u@example.test")")) {
        return signToken(p256_, "ES256", R"({"alg":"ES256","kid":"ec-1"})", body);
    }

    static Result<Userinfo> parse(unsigned status, std::string_view body,
                                  const UserinfoExpectations &e = expect()) {
        return parseUserinfo(status, body, jwks_, e);
    }

    static inline EVP_PKEY *p256_ = nullptr;
    static inline EVP_PKEY *rsa_ = nullptr;
    static inline Jwks *jwks_ = nullptr;
};

TEST_F(UserinfoTest, JsonAnswerAccepted) {
    const auto info = parse(200, R"({"sub":"user-1","email":"u@example.test","n":1})");
    ASSERT_TRUE(info) << info.detail();
    EXPECT_EQ(info.value().claims.string("sub"), std::optional<std::string_view>("user-1"));
    EXPECT_EQ(info.value().claims.string("email"),
              std::optional<std::string_view>("u@example.test"));
    EXPECT_EQ(info.value().json, R"({"sub":"user-1","email":"u@example.test","n":1})");
    // any 2xx
    EXPECT_TRUE(parse(203, R"({"sub":"user-1"})"));
}

TEST_F(UserinfoTest, SubjectMismatchRefused) {
    const auto info = parse(200, R"({"sub":"user-2","email":"u@example.test"})");
    ASSERT_FALSE(info);
    EXPECT_EQ(info.status(), Status::Field);
    EXPECT_NE(info.detail().find("\"user-2\""), std::string_view::npos) << info.detail();
    EXPECT_NE(info.detail().find("\"user-1\""), std::string_view::npos) << info.detail();
    // a prefix is not the subject either
    EXPECT_EQ(parse(200, R"({"sub":"user-10"})").status(), Status::Field);
}

TEST_F(UserinfoTest, MissingSubRefused) {
    EXPECT_EQ(parse(200, R"({"email":"u@example.test"})").status(), Status::Field);
    EXPECT_EQ(parse(200, R"({"sub":42})").status(), Status::Field);
    EXPECT_EQ(parse(200, R"({"sub":null})").status(), Status::Field);
}

TEST_F(UserinfoTest, NonSuccessStatusIsProviderError) {
    for (const unsigned status : {100u, 199u, 300u, 401u, 403u, 500u, 503u}) {
        const auto info = parse(status, R"({"sub":"user-1"})");
        ASSERT_FALSE(info) << status;
        EXPECT_EQ(info.status(), Status::Provider) << status;
        EXPECT_NE(info.detail().find(std::to_string(status)), std::string_view::npos);
    }
}

TEST_F(UserinfoTest, ErrorMemberIsProviderError) {
    // RFC 6750, 3: even with a 200 status line
    const auto info = parse(
        200, R"({"error":"invalid_token","error_description":"The access token expired"})");
    ASSERT_FALSE(info);
    EXPECT_EQ(info.status(), Status::Provider);
    EXPECT_NE(info.detail().find("invalid_token"), std::string_view::npos) << info.detail();
    EXPECT_NE(info.detail().find("The access token expired"), std::string_view::npos);
    // an "error" beside a "sub" is still a refusal, not claims
    EXPECT_EQ(parse(200, R"({"sub":"user-1","error":"insufficient_scope"})").status(),
              Status::Provider);
    // control bytes never reach the detail
    const auto nasty = parse(200, R"({"error":"bad\r\nline"})");
    EXPECT_EQ(nasty.status(), Status::Provider);
    EXPECT_EQ(nasty.detail().find('\n'), std::string_view::npos);
    EXPECT_EQ(parse(200, R"({"error":7})").status(), Status::Provider);
}

TEST_F(UserinfoTest, MalformedJsonRefused) {
    EXPECT_EQ(parse(200, "<html>").status(), Status::Json);
    EXPECT_EQ(parse(200, R"(["sub"])").status(), Status::Json);
    EXPECT_EQ(parse(200, "").status(), Status::Json);
}

TEST_F(UserinfoTest, SignedAnswerAccepted) {
    const std::string jwt = signedAnswer();
    const auto info = parse(200, jwt);
    ASSERT_TRUE(info) << info.detail();
    EXPECT_EQ(info.value().claims.string("email"),
              std::optional<std::string_view>("u@example.test"));
    EXPECT_EQ(info.value().claims.string("iss"), std::optional<std::string_view>(kIssuer));
    EXPECT_EQ(info.value().json,
              R"({"iss":"https://op.example","sub":"user-1","aud":"client-1","email":"u@example.test"})");

    // a trailing line break, an array "aud", HS256 with the client secret
    EXPECT_TRUE(parse(200, jwt + "\r\n"));
    const std::string many = signedAnswer(payload(R"("aud":["other","client-1"])"));
    EXPECT_TRUE(parse(200, many));
    const std::string hmac =
        hmacToken(kSecret, "HS256", R"({"alg":"HS256"})", payload(R"("aud":"client-1")"));
    const auto mac = parse(200, hmac);
    EXPECT_TRUE(mac) << mac.detail();
}

TEST_F(UserinfoTest, SignedAnswerStillNeedsTheSubject) {
    const std::string other = signToken(
        p256_, "ES256", R"({"alg":"ES256","kid":"ec-1"})",
        R"({"iss":"https://op.example","sub":"user-2","aud":"client-1"})");
    EXPECT_EQ(parse(200, other).status(), Status::Field);
    const std::string none = signToken(p256_, "ES256", R"({"alg":"ES256","kid":"ec-1"})",
                                       R"({"iss":"https://op.example","aud":"client-1"})");
    EXPECT_EQ(parse(200, none).status(), Status::Field);
}

TEST_F(UserinfoTest, SignedWithWrongKeyRefused) {
    // the unpublished RSA key, claiming the published kid: a key mismatch
    const std::string rsa = signToken(rsa_, "RS256", R"({"alg":"RS256","kid":"ec-1"})",
                                      payload(R"("aud":"client-1")"));
    EXPECT_EQ(parse(200, rsa).status(), Status::Signature);

    // a well-formed ES256 token with a forged signature
    std::string forged = signedAnswer();
    std::string other = signedAnswer(payload(R"("aud":"client-1","x":1)"));
    forged = forged.substr(0, forged.rfind('.')) + other.substr(other.rfind('.'));
    const auto info = parse(200, forged);
    EXPECT_EQ(info.status(), Status::Signature) << info.detail();

    // HS256 with another secret
    const std::string hmac = hmacToken("another-secret-of-32-bytes-long!", "HS256",
                                       R"({"alg":"HS256"})", payload(R"("aud":"client-1")"));
    EXPECT_EQ(parse(200, hmac).status(), Status::Signature);

    // a kid nobody published: a fresh JWKS may have it
    const std::string unknown = signToken(p256_, "ES256", R"({"alg":"ES256","kid":"ec-9"})",
                                          payload(R"("aud":"client-1")"));
    EXPECT_EQ(parse(200, unknown).status(), Status::Kid);
    // no keys at all
    EXPECT_EQ(parseUserinfo(200, signedAnswer(), nullptr, expect()).status(), Status::Kid);
}

TEST_F(UserinfoTest, SignedWithWrongIssuerRefused) {
    const std::string evil = signedAnswer(
        R"({"iss":"https://evil.example","sub":"user-1","aud":"client-1"})");
    EXPECT_EQ(parse(200, evil).status(), Status::Issuer);
    const std::string none = signedAnswer(R"({"sub":"user-1","aud":"client-1"})");
    EXPECT_EQ(parse(200, none).status(), Status::Field);
}

TEST_F(UserinfoTest, SignedWithWrongAudienceRefused) {
    EXPECT_EQ(parse(200, signedAnswer(payload(R"("aud":"client-2")"))).status(),
              Status::Audience);
    EXPECT_EQ(parse(200, signedAnswer(payload(R"("aud":["client-2","client-3"])"))).status(),
              Status::Audience);
    EXPECT_EQ(parse(200, signedAnswer(payload(R"("email":"u@example.test")"))).status(),
              Status::Field);
}

TEST_F(UserinfoTest, UnsignedOrDisallowedAlgorithmRefused) {
    // "alg":"none" with an empty signature (RFC 7519, 6.1)
    const std::string none = encodeBase64Url(std::string_view(R"({"alg":"none"})")) + '.' +
                             encodeBase64Url(payload(R"("aud":"client-1")")) + '.';
    const auto info = parse(200, none);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.status(), Status::Alg) << info.detail();

    // a real signature, but not with an algorithm the configuration allows
    UserinfoExpectations rsOnly = expect();
    rsOnly.algs = parseAlgList("RS256").value();
    EXPECT_EQ(parse(200, signedAnswer(), rsOnly).status(), Status::Alg);

    // HS256 without a client secret
    UserinfoExpectations noSecret = expect();
    noSecret.clientSecret = {};
    const std::string hmac =
        hmacToken("", "HS256", R"({"alg":"HS256"})", payload(R"("aud":"client-1")"));
    EXPECT_EQ(parse(200, hmac, noSecret).status(), Status::Alg);
}

TEST_F(UserinfoTest, SignedAnswerNeedsIssuerAndClientToCheck) {
    UserinfoExpectations e = expect();
    e.issuer = {};
    EXPECT_EQ(parse(200, signedAnswer(), e).status(), Status::InvalidArgument);
}

TEST_F(UserinfoTest, MergeClaimsIdTokenWins) {
    auto idToken = Claims::parse(
        R"({"iss":"https://op.example","sub":"user-1","aud":"client-1","exp":1700000300,)"
        R"("email":"id@example.test"})");
    auto info = Claims::parse(
        R"({"sub":"user-2","iss":"https://evil.example","exp":1,"email":"ui@example.test",)"
        R"("name":"Jane Doe","groups":["a","b"]})");
    ASSERT_TRUE(idToken && info);
    auto merged = mergeClaims(idToken.value(), info.value());
    ASSERT_TRUE(merged) << merged.detail();
    const Claims &m = merged.value();
    EXPECT_EQ(m.string("sub"), std::optional<std::string_view>("user-1"));
    EXPECT_EQ(m.string("iss"), std::optional<std::string_view>(kIssuer));
    EXPECT_EQ(m.numericDate("exp"), std::optional<std::int64_t>(1700000300));
    EXPECT_EQ(m.string("email"), std::optional<std::string_view>("id@example.test"));
    EXPECT_EQ(m.string("name"), std::optional<std::string_view>("Jane Doe"));
    EXPECT_EQ(m.json(),
              R"({"iss":"https://op.example","sub":"user-1","aud":"client-1","exp":1700000300,)"
              R"("email":"id@example.test","name":"Jane Doe","groups":["a","b"]})");
    // the inputs are left as they were
    EXPECT_FALSE(idToken.value().string("name"));
    EXPECT_EQ(info.value().string("sub"), std::optional<std::string_view>("user-2"));
}

TEST_F(UserinfoTest, FetchIsBearerGet) {
    const Step step = userinfoFetch("at-1.x_y");
    EXPECT_EQ(step.kind, StepKind::Fetch);
    EXPECT_EQ(step.endpoint, Discovery::Endpoint::Userinfo);
    EXPECT_EQ(step.method, "GET");
    EXPECT_EQ(step.headers.rfind("Authorization: Bearer at-1.x_y\r\n", 0), 0u)
        << step.headers;
    EXPECT_NE(step.headers.find("Accept: application/json, application/jwt\r\n"),
              std::string::npos);
    EXPECT_TRUE(step.body.empty());
    EXPECT_EQ(step.logLevel, LogLevel::None);
}

}  // namespace
}  // namespace auth_oidc
