#include "jwt/logout_token.h"

#include <string>

#include <gtest/gtest.h>

#include "json_edit.h"
#include "jwt/signing_keys.h"
#include "jwt/token_maker.h"

namespace auth_oidc {
namespace {

using namespace test;  // NOLINT: keys, token makers, JSON helpers

constexpr std::int64_t kNow = 1700000000;
constexpr std::int64_t kLeeway = 60;
constexpr const char *kIssuer = "https://op.example";
constexpr const char *kClient = "client-1";
constexpr const char *kSecret = "a-client-secret-of-32-bytes-long";

// Decoded claims of the good token (Back-Channel Logout 1.0, section 2.4):
// {"iss":"https://op.example","aud":"client-1","iat":1700000000,
//  "exp":1700000120,"jti":"bWJq","sid":"08a5019c-17e1-4977-8f42-65a12843ea02",
//  "events":{"http://schemas.openid.net/event/backchannel-logout":{}}}
std::string goodClaims() {
    return R"({"iss":"https://op.example","aud":"client-1","iat":1700000000,)"
           R"("exp":1700000120,"jti":"bWJq",)"
           R"("sid":"08a5019c-17e1-4977-8f42-65a12843ea02",)"
           R"("events":{"http://schemas.openid.net/event/backchannel-logout":{}}})";
}

std::string header(const std::string &alg, const std::string &kid,
                   const std::string &typ = "logout+jwt") {
    std::string h = R"({"alg":")" + alg + '"';
    if (!typ.empty()) {
        h += R"(,"typ":)" + jsonString(typ);
    }
    if (!kid.empty()) {
        h += R"(,"kid":")" + kid + '"';
    }
    return h + '}';
}

class LogoutTokenTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        rsa_ = loadPrivateKey(kRsaPrivateKeyPem).release();
        p256_ = loadPrivateKey(kP256PrivateKeyPem).release();
        // {"keys":[{RSA "rsa-1"},{EC P-256 "ec-1","alg":"ES256"}]}
        const std::string doc =
            R"({"keys":[)" + publicJwk(rsa_, R"("kid":"rsa-1","use":"sig")") + ',' +
            publicJwk(p256_, R"("kid":"ec-1","alg":"ES256")") + "]}";
        auto parsed = Jwks::parse(doc);
        ASSERT_TRUE(parsed.ok()) << parsed.detail();
        jwks_ = new Jwks(std::move(parsed).value());
    }

    static void TearDownTestSuite() {
        delete jwks_;
        EVP_PKEY_free(rsa_);
        EVP_PKEY_free(p256_);
    }

    static LogoutTokenExpectations expect() {
        LogoutTokenExpectations e;
        e.issuer = kIssuer;
        e.clientId = kClient;
        e.now = kNow;
        e.leeway = kLeeway;
        return e;
    }

    static std::string rs256(const std::string &claims, const std::string &kid = "rsa-1",
                             const std::string &typ = "logout+jwt") {
        return signToken(rsa_, "RS256", header("RS256", kid, typ), claims);
    }

    static Result<LogoutTokenClaims> validate(const std::string &token,
                                              const LogoutTokenExpectations &e = expect()) {
        return validateLogoutToken(token, jwks_, e);
    }

    static Status statusOf(const std::string &token,
                           const LogoutTokenExpectations &e = expect()) {
        return validate(token, e).status();
    }

    static std::string withClaim(const char *name, const std::string &jsonValue) {
        return rs256(withMember(goodClaims(), name, jsonValue));
    }

    static std::string withoutClaim(const char *name) {
        return rs256(withoutMember(goodClaims(), name));
    }

    // Expects status, and a detail that names what failed.
    static void expectRefused(const std::string &token, Status status,
                              const std::string &inDetail,
                              const LogoutTokenExpectations &e = expect()) {
        const auto result = validate(token, e);
        EXPECT_EQ(result.status(), status) << result.detail();
        EXPECT_NE(result.detail().find(inDetail), std::string::npos)
            << "detail: " << result.detail() << "\nexpected to contain: " << inDetail;
        EXPECT_EQ(result.detail().find('\n'), std::string::npos);
    }

    static EVP_PKEY *rsa_;
    static EVP_PKEY *p256_;
    static Jwks *jwks_;
};

EVP_PKEY *LogoutTokenTest::rsa_ = nullptr;
EVP_PKEY *LogoutTokenTest::p256_ = nullptr;
Jwks *LogoutTokenTest::jwks_ = nullptr;

TEST_F(LogoutTokenTest, AcceptsSidOnly) {
    const auto result = validate(rs256(goodClaims()));
    ASSERT_TRUE(result.ok()) << result.detail();
    const LogoutTokenClaims &claims = result.value();
    EXPECT_EQ(claims.sid, "08a5019c-17e1-4977-8f42-65a12843ea02");
    EXPECT_EQ(claims.sub, "");
    EXPECT_EQ(claims.jti, "bWJq");
    EXPECT_EQ(claims.iat, kNow);
    EXPECT_EQ(claims.exp, 1700000120);
}

TEST_F(LogoutTokenTest, AcceptsSubOnly) {
    const std::string claims =
        withMember(withoutMember(goodClaims(), "sid"), "sub", R"("248289761001")");
    const auto result = validate(rs256(claims));
    ASSERT_TRUE(result.ok()) << result.detail();
    EXPECT_EQ(result.value().sub, "248289761001");
    EXPECT_EQ(result.value().sid, "");
}

TEST_F(LogoutTokenTest, AcceptsSubAndSid) {
    const auto result = validate(withClaim("sub", R"("248289761001")"));
    ASSERT_TRUE(result.ok()) << result.detail();
    EXPECT_EQ(result.value().sub, "248289761001");
    EXPECT_EQ(result.value().sid, "08a5019c-17e1-4977-8f42-65a12843ea02");
}

TEST_F(LogoutTokenTest, AcceptsEs256) {
    const auto result =
        validate(signToken(p256_, "ES256", header("ES256", "ec-1"), goodClaims()));
    EXPECT_TRUE(result.ok()) << result.detail();
}

// Back-Channel Logout 1.0 (final), 2.4: "exp" is required.
TEST_F(LogoutTokenTest, ExpIsRequired) {
    expectRefused(withoutClaim("exp"), Status::Field, "\"exp\"");
}

TEST_F(LogoutTokenTest, RejectsAlgNone) {
    // {"alg":"none"} . claims . (empty signature)
    const std::string token = signingInput(R"({"alg":"none"})", goodClaims()) + '.';
    expectRefused(token, Status::Alg, "\"alg\":\"none\"");
    LogoutTokenExpectations e = expect();
    e.algs = parseAlgList("RS256 none").value();
    EXPECT_EQ(statusOf(token, e), Status::Alg);
}

TEST_F(LogoutTokenTest, RejectsAlgorithmsNotAllowed) {
    LogoutTokenExpectations e = expect();
    e.algs = parseAlgList("ES256").value();
    expectRefused(rs256(goodClaims()), Status::Alg, "not in the allowed list", e);
    // HS256: needs a secret and an explicit listing.
    const std::string hs = hmacToken(kSecret, "HS256", header("HS256", ""), goodClaims());
    e = expect();
    expectRefused(hs, Status::Alg, "not in the allowed list");
    e.algs = parseAlgList("RS256 HS256").value();
    expectRefused(hs, Status::Alg, "needs a client secret", e);
    e.clientSecret = kSecret;
    EXPECT_EQ(statusOf(hs, e), Status::Ok);
    EXPECT_EQ(validateLogoutToken(hs, nullptr, e).status(), Status::Ok);
    e.clientSecret = "another-client-secret-32-bytes-x";
    expectRefused(hs, Status::Signature, "MAC does not match", e);
}

TEST_F(LogoutTokenTest, RejectsBadSignature) {
    std::string token = rs256(goodClaims());
    token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
    expectRefused(token, Status::Signature, "signature does not verify");
    // Signed with the RSA key, but claiming the EC key.
    expectRefused(signToken(rsa_, "RS256", header("RS256", "ec-1"), goodClaims()),
                  Status::Signature, "cannot verify RS256");
    // Payload swapped after signing.
    const std::string good = rs256(goodClaims());
    const std::string other = rs256(withMember(goodClaims(), "sid", R"("other")"));
    const std::string spliced = other.substr(0, other.rfind('.')) + good.substr(good.rfind('.'));
    EXPECT_EQ(statusOf(spliced), Status::Signature);
}

TEST_F(LogoutTokenTest, UnknownKidAsksForARefetch) {
    expectRefused(rs256(goodClaims(), "rotated-key"), Status::Kid, "\"rotated-key\"");
    EXPECT_EQ(validateLogoutToken(rs256(goodClaims()), nullptr, expect()).status(),
              Status::Kid);
}

TEST_F(LogoutTokenTest, RejectsMalformedTokens) {
    EXPECT_EQ(statusOf(""), Status::Token);
    EXPECT_EQ(statusOf("a.b"), Status::Token);
    EXPECT_EQ(statusOf(rs256(goodClaims()) + ".x.y"), Status::Token);
    // Signed, but the payload is no JSON object.
    EXPECT_EQ(statusOf(rs256("[1]")), Status::Token);
}

TEST_F(LogoutTokenTest, TypMustSayLogoutTokenOrJwt) {
    for (const char *typ : {"logout+jwt", "JWT", "jwt", "application/logout+jwt",
                            "Application/Logout+JWT", "application/jwt"}) {
        EXPECT_EQ(statusOf(rs256(goodClaims(), "rsa-1", typ)), Status::Ok) << typ;
    }
    // No typ at all is fine.
    EXPECT_EQ(statusOf(rs256(goodClaims(), "rsa-1", "")), Status::Ok);
    for (const char *typ : {"at+jwt", "secevent+jwt", "application/", "logout", "JOSE"}) {
        expectRefused(rs256(goodClaims(), "rsa-1", typ), Status::Field, "header \"typ\"");
    }
    const std::string numeric =
        signToken(rsa_, "RS256", R"({"alg":"RS256","kid":"rsa-1","typ":7})", goodClaims());
    expectRefused(numeric, Status::Field, "header \"typ\" is not a string");
}

TEST_F(LogoutTokenTest, IssuerMustMatchExactly) {
    expectRefused(withClaim("iss", R"("https://op.example/")"), Status::Issuer,
                  R"("iss" is "https://op.example/")");
    expectRefused(withoutClaim("iss"), Status::Field, "\"iss\"");
}

TEST_F(LogoutTokenTest, AudienceMustListTheClient) {
    expectRefused(withClaim("aud", R"("client-2")"), Status::Audience,
                  R"("aud" is "client-2")");
    expectRefused(withClaim("aud", R"(["client-2","client-3"])"), Status::Audience,
                  "does not list");
    // An array that lists the client is fine, with or without azp.
    EXPECT_EQ(statusOf(withClaim("aud", R"(["client-2","client-1"])")), Status::Ok);
    EXPECT_EQ(statusOf(withClaim("aud", R"(["client-1"])")), Status::Ok);
    expectRefused(withoutClaim("aud"), Status::Field, "\"aud\"");
    expectRefused(withClaim("aud", "[]"), Status::Field, "\"aud\"");
}

TEST_F(LogoutTokenTest, IssuedAtIsRequiredAndNotInTheFuture) {
    expectRefused(withoutClaim("iat"), Status::Field, "claim \"iat\"");
    expectRefused(withClaim("iat", R"("1700000000")"), Status::Field, "claim \"iat\"");
    expectRefused(withClaim("iat", std::to_string(kNow + kLeeway + 1)), Status::NotYet,
                  "\"iat\"");
    EXPECT_EQ(statusOf(withClaim("iat", std::to_string(kNow + kLeeway))), Status::Ok);
}

TEST_F(LogoutTokenTest, IssuedAtNotOlderThanMaxIatAge) {
    LogoutTokenExpectations e = expect();
    e.maxIatAge = 120;
    const std::int64_t oldest = kNow - 120 - kLeeway;
    const std::string claims = withMember(goodClaims(), "exp", std::to_string(kNow + 86400));
    expectRefused(rs256(withMember(claims, "iat", std::to_string(oldest - 1))),
                  Status::Expired, "\"iat\"", e);
    EXPECT_EQ(statusOf(rs256(withMember(claims, "iat", std::to_string(oldest))), e),
              Status::Ok);
    // 0: no limit.
    e.maxIatAge = 0;
    EXPECT_EQ(statusOf(rs256(withMember(claims, "iat", std::to_string(kNow - 86400))), e),
              Status::Ok);
}

TEST_F(LogoutTokenTest, ExpiredExpIsRefused) {
    const std::string stale = withMember(goodClaims(), "iat", std::to_string(kNow - 600));
    expectRefused(rs256(withMember(stale, "exp", std::to_string(kNow - kLeeway - 1))),
                  Status::Expired, "\"exp\"");
    EXPECT_EQ(statusOf(rs256(withMember(stale, "exp", std::to_string(kNow - kLeeway)))),
              Status::Ok);
    expectRefused(withClaim("exp", R"("soon")"), Status::Field, "claim \"exp\"");
}

TEST_F(LogoutTokenTest, EventsMustHoldTheBackchannelLogoutEvent) {
    expectRefused(withoutClaim("events"), Status::Field, "\"events\" is missing");
    expectRefused(withClaim("events", R"("http://schemas.openid.net/event/backchannel-logout")"),
                  Status::Field, "claim \"events\" must be an object");
    expectRefused(withClaim("events", R"({"http://schemas.openid.net/event/other":{}})"),
                  Status::Field, "has no member");
    expectRefused(
        withClaim("events", R"({"http://schemas.openid.net/event/backchannel-logout":true})"),
        Status::Field, "event must be an object");
    expectRefused(
        withClaim("events", R"({"http://schemas.openid.net/event/backchannel-logout":"{}"})"),
        Status::Field, "event must be an object");
    // Other events next to it, and members inside it, are fine.
    EXPECT_EQ(statusOf(withClaim(
                  "events", R"({"http://schemas.openid.net/event/backchannel-logout":{"a":1},)"
                            R"("urn:example:other":{}})")),
              Status::Ok);
}

TEST_F(LogoutTokenTest, NonceMustBeAbsent) {
    expectRefused(withClaim("nonce", R"("n-0S6_WzA2Mj")"), Status::Field,
                  "\"nonce\" must be absent");
    expectRefused(withClaim("nonce", "null"), Status::Field, "\"nonce\" must be absent");
}

TEST_F(LogoutTokenTest, NeedsSubOrSid) {
    expectRefused(withoutClaim("sid"), Status::Field, "neither \"sub\" nor \"sid\"");
    expectRefused(withClaim("sid", R"("")"), Status::Field, "claim \"sid\"");
    expectRefused(withClaim("sid", "42"), Status::Field, "claim \"sid\"");
    expectRefused(withClaim("sub", R"("")"), Status::Field, "claim \"sub\"");
    expectRefused(withClaim("sub", "42"), Status::Field, "claim \"sub\"");
    EXPECT_EQ(statusOf(withClaim("sub", jsonString(std::string(255, 's')))), Status::Ok);
    expectRefused(withClaim("sub", jsonString(std::string(256, 's'))), Status::Field,
                  "claim \"sub\"");
}

TEST_F(LogoutTokenTest, JtiIsRequired) {
    expectRefused(withoutClaim("jti"), Status::Field, "claim \"jti\"");
    expectRefused(withClaim("jti", R"("")"), Status::Field, "claim \"jti\"");
    expectRefused(withClaim("jti", "17"), Status::Field, "claim \"jti\"");
}

TEST_F(LogoutTokenTest, AnIdTokenIsNoLogoutToken) {
    // A signed ID token of the same provider: no events, and a nonce.
    const std::string idToken =
        R"({"iss":"https://op.example","sub":"248289761001","aud":"client-1",)"
        R"("exp":1700000300,"iat":1700000000,"nonce":"n-0S6_WzA2Mj","sid":"s-1"})";
    expectRefused(signToken(rsa_, "RS256", header("RS256", "rsa-1", "JWT"), idToken),
                  Status::Field, "\"events\"");
}

TEST_F(LogoutTokenTest, RejectsBadExpectations) {
    LogoutTokenExpectations e = expect();
    e.issuer = {};
    EXPECT_EQ(statusOf(rs256(goodClaims()), e), Status::InvalidArgument);
    e = expect();
    e.clientId = {};
    EXPECT_EQ(statusOf(rs256(goodClaims()), e), Status::InvalidArgument);
    e = expect();
    e.leeway = -1;
    EXPECT_EQ(statusOf(rs256(goodClaims()), e), Status::InvalidArgument);
}

TEST_F(LogoutTokenTest, DetailsQuoteClaimValuesSafely) {
    const auto result = validate(withClaim("iss", R"("https://evil\r\nX-Injected: 1")"));
    EXPECT_EQ(result.status(), Status::Issuer);
    EXPECT_EQ(result.detail().find('\n'), std::string::npos);
    EXPECT_EQ(result.detail().find('\r'), std::string::npos);
}

}  // namespace
}  // namespace auth_oidc
