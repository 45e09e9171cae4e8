#include "jwt/id_token.h"

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "json_edit.h"
#include "jwt/jws.h"
#include "jwt/signing_keys.h"
#include "jwt/token_maker.h"

namespace auth_oidc {
namespace {

using namespace test;  // NOLINT: keys, token makers, JSON helpers

constexpr std::int64_t kNow = 1700000000;
constexpr std::int64_t kLeeway = 60;
constexpr const char *kIssuer = "https://op.example";
constexpr const char *kClient = "client-1";
constexpr const char *kNonce = "n-0S6_WzA2Mj";
constexpr const char *kSecret = "a-client-secret-of-32-bytes-long";

// Decoded claims of the good token:
// {"iss":"https://op.example","sub":"248289761001","aud":"client-1",
//  "exp":1700000300,"iat":1700000000,"nonce":"n-0S6_WzA2Mj",
//  "sid":"s-1","name":"Jane Doe"}
std::string goodClaims() {
    return R"({"iss":"https://op.example","sub":"248289761001","aud":"client-1",)"
           R"("exp":1700000300,"iat":1700000000,"nonce":"n-0S6_WzA2Mj",)"
           R"("sid":"s-1","name":"Jane Doe"})";
}

std::string header(const std::string &alg, const std::string &kid) {
    std::string h = R"({"alg":")" + alg + R"(","typ":"JWT")";
    if (!kid.empty()) {
        h += R"(,"kid":")" + kid + '"';
    }
    return h + '}';
}

class IdTokenTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        rsa_ = loadPrivateKey(kRsaPrivateKeyPem).release();
        p256_ = loadPrivateKey(kP256PrivateKeyPem).release();
        p521_ = loadPrivateKey(kP521PrivateKeyPem).release();
        ed25519_ = loadPrivateKey(kEd25519PrivateKeyPem).release();
        // {"keys":[{RSA "rsa-1"},{EC P-256 "ec-1","alg":"ES256"},
        //          {EC P-521 "ec-521"},{OKP Ed25519 "ed-1","alg":"EdDSA"}]}
        const std::string doc =
            R"({"keys":[)" + publicJwk(rsa_, R"("kid":"rsa-1","use":"sig")") + ',' +
            publicJwk(p256_, R"("kid":"ec-1","alg":"ES256")") + ',' +
            publicJwk(p521_, R"("kid":"ec-521")") + ',' +
            publicJwk(ed25519_, R"("kid":"ed-1","alg":"EdDSA")") + "]}";
        auto parsed = Jwks::parse(doc);
        ASSERT_TRUE(parsed.ok()) << parsed.detail();
        ASSERT_EQ(parsed.value().keys().size(), 4u);
        jwks_ = new Jwks(std::move(parsed).value());
    }

    static void TearDownTestSuite() {
        delete jwks_;
        EVP_PKEY_free(rsa_);
        EVP_PKEY_free(p256_);
        EVP_PKEY_free(p521_);
        EVP_PKEY_free(ed25519_);
    }

    static IdTokenExpectations expect() {
        IdTokenExpectations e;
        e.issuer = kIssuer;
        e.clientId = kClient;
        e.nonce = kNonce;
        e.now = kNow;
        e.leeway = kLeeway;
        return e;
    }

    static std::string rs256(const std::string &claims, const std::string &kid = "rsa-1") {
        return signToken(rsa_, "RS256", header("RS256", kid), claims);
    }

    static Result<Claims> validate(const std::string &token,
                                   const IdTokenExpectations &e = expect()) {
        return validateIdToken(token, jwks_, e);
    }

    static Status statusOf(const std::string &token,
                           const IdTokenExpectations &e = expect()) {
        return validate(token, e).status();
    }

    // A good token with one claim replaced (jsonValue: JSON text).
    static std::string withClaim(const char *name, const std::string &jsonValue) {
        return rs256(withMember(goodClaims(), name, jsonValue));
    }

    static std::string withoutClaim(const char *name) {
        return rs256(withoutMember(goodClaims(), name));
    }

    static EVP_PKEY *rsa_;
    static EVP_PKEY *p256_;
    static EVP_PKEY *p521_;
    static EVP_PKEY *ed25519_;
    static Jwks *jwks_;
};

EVP_PKEY *IdTokenTest::rsa_ = nullptr;
EVP_PKEY *IdTokenTest::p256_ = nullptr;
EVP_PKEY *IdTokenTest::p521_ = nullptr;
EVP_PKEY *IdTokenTest::ed25519_ = nullptr;
Jwks *IdTokenTest::jwks_ = nullptr;

TEST_F(IdTokenTest, AcceptsRs256AndExposesClaims) {
    const auto result = validate(rs256(goodClaims()));
    ASSERT_TRUE(result.ok()) << result.detail();
    const Claims &claims = result.value();
    EXPECT_EQ(claims.string("sub"), std::optional<std::string_view>("248289761001"));
    EXPECT_EQ(claims.string("sid"), std::optional<std::string_view>("s-1"));
    EXPECT_EQ(claims.numericDate("exp"), std::optional<std::int64_t>(1700000300));
    EXPECT_EQ(claims.numericDate("iat"), std::optional<std::int64_t>(kNow));
    EXPECT_EQ(claims.json(), goodClaims());
}

TEST_F(IdTokenTest, AcceptsEveryRsaAlgorithm) {
    for (const char *alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) {
        const std::string token = signToken(rsa_, alg, header(alg, "rsa-1"), goodClaims());
        const auto result = validate(token);
        EXPECT_TRUE(result.ok()) << alg << ": " << result.detail();
    }
}

TEST_F(IdTokenTest, AcceptsEs256Es512AndEdDsa) {
    const std::string es256 = signToken(p256_, "ES256", header("ES256", "ec-1"), goodClaims());
    const std::string es512 =
        signToken(p521_, "ES512", header("ES512", "ec-521"), goodClaims());
    const std::string eddsa = signToken(ed25519_, "EdDSA", header("EdDSA", "ed-1"), goodClaims());
    for (const auto &token : {es256, es512, eddsa}) {
        const auto result = validate(token);
        EXPECT_TRUE(result.ok()) << result.detail();
    }
}

// Each key keeps one prepared OpenSSL context per algorithm and verifies on
// it again and again: a refused signature must leave it as good as new.
TEST_F(IdTokenTest, PreparedKeysStayUsableAfterRefusals) {
    struct Case {
        EVP_PKEY *key;
        const char *alg;
        const char *kid;
    };
    for (const Case &c : {Case{rsa_, "RS256", "rsa-1"}, Case{rsa_, "PS384", "rsa-1"},
                          Case{p256_, "ES256", "ec-1"}, Case{p521_, "ES512", "ec-521"},
                          Case{ed25519_, "EdDSA", "ed-1"}}) {
        const std::string good = signToken(c.key, c.alg, header(c.alg, c.kid), goodClaims());
        std::string bad = good;
        bad[bad.size() - 3] = bad[bad.size() - 3] == 'A' ? 'B' : 'A';
        for (int round = 0; round < 3; ++round) {
            EXPECT_EQ(statusOf(good), Status::Ok) << c.alg << " round " << round;
            EXPECT_EQ(statusOf(bad), Status::Signature) << c.alg << " round " << round;
        }
    }
}

TEST_F(IdTokenTest, WithoutKidTriesEveryFittingKey) {
    const std::string token = signToken(p256_, "ES256", header("ES256", ""), goodClaims());
    EXPECT_EQ(statusOf(token), Status::Ok);
    const std::string eddsa = signToken(ed25519_, "EdDSA", header("EdDSA", ""), goodClaims());
    EXPECT_EQ(statusOf(eddsa), Status::Ok);
}

TEST_F(IdTokenTest, RejectsAlgNoneEvenWhenListed) {
    // {"alg":"none"} . claims . (empty signature)
    const std::string token = signingInput(R"({"alg":"none"})", goodClaims()) + '.';
    IdTokenExpectations e = expect();
    e.algs = parseAlgList("RS256 none").value();
    const auto result = validate(token, e);
    EXPECT_EQ(result.status(), Status::Alg);
    EXPECT_NE(result.detail().find("never accepted"), std::string::npos) << result.detail();
    // Same with a signature attached.
    EXPECT_EQ(statusOf(token + "c2ln"), Status::Alg);
}

TEST_F(IdTokenTest, RejectsUnknownAndUnlistedAlgorithms) {
    const std::string input = signingInput(R"({"alg":"RSA1_5","kid":"rsa-1"})", goodClaims());
    EXPECT_EQ(statusOf(input + ".c2ln"), Status::Alg);
    EXPECT_EQ(statusOf(signingInput(R"({"alg":"rs256"})", goodClaims()) + ".c2ln"),
              Status::Alg);

    IdTokenExpectations e = expect();
    e.algs = parseAlgList("ES256").value();
    EXPECT_EQ(statusOf(rs256(goodClaims()), e), Status::Alg);
}

TEST_F(IdTokenTest, Hs256NeedsSecretAndExplicitListing) {
    const std::string token = hmacToken(kSecret, "HS256", header("HS256", ""), goodClaims());

    // Not in the default list, secret or not.
    IdTokenExpectations e = expect();
    e.clientSecret = kSecret;
    EXPECT_EQ(statusOf(token, e), Status::Alg);

    // Listed but no secret.
    e = expect();
    e.algs = parseAlgList("RS256,HS256").value();
    const auto noSecret = validate(token, e);
    EXPECT_EQ(noSecret.status(), Status::Alg);
    EXPECT_NE(noSecret.detail().find("needs a client secret"), std::string::npos);

    // Listed and a secret: accepted without any JWKS.
    e.clientSecret = kSecret;
    const auto ok = validateIdToken(token, nullptr, e);
    EXPECT_TRUE(ok.ok()) << ok.detail();

    // Wrong secret.
    e.clientSecret = "another-secret-of-32-bytes-long!";
    EXPECT_EQ(statusOf(token, e), Status::Signature);

    // HS384 is not implied by HS256.
    e.clientSecret = kSecret;
    EXPECT_EQ(statusOf(hmacToken(kSecret, "HS384", header("HS384", ""), goodClaims()), e),
              Status::Alg);
}

TEST_F(IdTokenTest, AudienceAndAuthorizedParty) {
    EXPECT_EQ(statusOf(withClaim("aud", R"("other")")), Status::Audience);
    EXPECT_EQ(statusOf(withClaim("aud", R"(["other","another"])")), Status::Audience);
    EXPECT_EQ(statusOf(withClaim("aud", R"(["client-1"])")), Status::Ok);
    // Several audiences need azp.
    EXPECT_EQ(statusOf(withClaim("aud", R"(["client-1","api"])")), Status::Azp);
    const std::string multi = withMember(goodClaims(), "aud", R"(["api","client-1"])");
    EXPECT_EQ(statusOf(rs256(withMember(multi, "azp", R"("client-1")"))), Status::Ok);
    EXPECT_EQ(statusOf(rs256(withMember(multi, "azp", R"("api")"))), Status::Azp);
    // A present azp must match even with one audience.
    EXPECT_EQ(statusOf(withClaim("azp", R"("other")")), Status::Azp);
    EXPECT_EQ(statusOf(withClaim("azp", R"("client-1")")), Status::Ok);
    // Wrong shapes.
    EXPECT_EQ(statusOf(withoutClaim("aud")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("aud", "[]")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("aud", "42")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("aud", R"(["client-1",7])")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("azp", "1")), Status::Field);
}

TEST_F(IdTokenTest, IssuerMustMatchExactly) {
    EXPECT_EQ(statusOf(withClaim("iss", R"("https://op.example/")")), Status::Issuer);
    EXPECT_EQ(statusOf(withClaim("iss", R"("https://OP.example")")), Status::Issuer);
    EXPECT_EQ(statusOf(withoutClaim("iss")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("iss", "1")), Status::Field);
    const auto result = validate(withClaim("iss", R"("https://evil.example")"));
    EXPECT_EQ(result.detail(),
              R"(issuer mismatch: "iss" is "https://evil.example", expected "https://op.example")");
}

TEST_F(IdTokenTest, ExpiryAtTheLeewayBoundary) {
    const auto exp = [](std::int64_t value) {
        return withClaim("exp", std::to_string(value));
    };
    EXPECT_EQ(statusOf(exp(kNow - kLeeway - 1)), Status::Expired);
    EXPECT_EQ(statusOf(exp(kNow - kLeeway)), Status::Ok);
    EXPECT_EQ(statusOf(exp(kNow - kLeeway + 1)), Status::Ok);
    EXPECT_EQ(statusOf(withClaim("exp", "1699999939.9")), Status::Expired);
    EXPECT_EQ(statusOf(withClaim("exp", "1699999940.5")), Status::Ok);
    EXPECT_EQ(statusOf(withoutClaim("exp")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("exp", R"("1700000300")")), Status::Field);
    const auto result = validate(exp(kNow - 100));
    EXPECT_EQ(result.detail(), "token expired: \"exp\" 1699999900 is 100 s ago (leeway 60 s)");
}

TEST_F(IdTokenTest, IssuedInTheFutureAtTheLeewayBoundary) {
    EXPECT_EQ(statusOf(withClaim("iat", std::to_string(kNow + kLeeway + 1))), Status::NotYet);
    EXPECT_EQ(statusOf(withClaim("iat", std::to_string(kNow + kLeeway))), Status::Ok);
    EXPECT_EQ(statusOf(withoutClaim("iat")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("iat", "null")), Status::Field);
}

TEST_F(IdTokenTest, NotBeforeAtTheLeewayBoundary) {
    EXPECT_EQ(statusOf(withClaim("nbf", std::to_string(kNow + kLeeway + 1))), Status::NotYet);
    EXPECT_EQ(statusOf(withClaim("nbf", std::to_string(kNow + kLeeway))), Status::Ok);
    EXPECT_EQ(statusOf(withClaim("nbf", std::to_string(kNow - 3600))), Status::Ok);
    EXPECT_EQ(statusOf(withClaim("nbf", R"("soon")")), Status::Field);
}

TEST_F(IdTokenTest, MaxIatAgeAtTheLeewayBoundary) {
    IdTokenExpectations e = expect();
    e.maxIatAge = 86400;
    const std::int64_t oldest = kNow - 86400 - kLeeway;
    EXPECT_EQ(statusOf(withClaim("iat", std::to_string(oldest - 1)), e), Status::Expired);
    EXPECT_EQ(statusOf(withClaim("iat", std::to_string(oldest)), e), Status::Ok);
    // 0: no limit.
    e.maxIatAge = 0;
    EXPECT_EQ(statusOf(withClaim("iat", std::to_string(kNow - 10 * 86400)), e), Status::Ok);
}

TEST_F(IdTokenTest, NonceMustMatchWhenExpected) {
    EXPECT_EQ(statusOf(withClaim("nonce", R"("n-0S6_WzA2Mk")")), Status::Nonce);
    EXPECT_EQ(statusOf(withClaim("nonce", R"("n-0S6_WzA2Mj-longer")")), Status::Nonce);
    EXPECT_EQ(statusOf(withClaim("nonce", "7")), Status::Nonce);
    const auto missing = validate(withoutClaim("nonce"));
    EXPECT_EQ(missing.status(), Status::Nonce);
    // Nonce values are never logged.
    EXPECT_EQ(missing.detail().find(kNonce), std::string::npos);
    IdTokenExpectations e = expect();
    e.nonce = {};
    EXPECT_EQ(statusOf(withoutClaim("nonce"), e), Status::Ok);
}

TEST_F(IdTokenTest, SubjectIsRequiredAndBounded) {
    EXPECT_EQ(statusOf(withoutClaim("sub")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("sub", R"("")")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("sub", "12")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("sub", jsonString(std::string(255, 's')))), Status::Ok);
    EXPECT_EQ(statusOf(withClaim("sub", jsonString(std::string(256, 's')))), Status::Field);
    EXPECT_EQ(statusOf(withClaim("sub", R"("a\r\nb")")), Status::Field);
}

TEST_F(IdTokenTest, UnknownKidAsksForARefetch) {
    const auto result = validate(rs256(goodClaims(), "rotated-key"));
    EXPECT_EQ(result.status(), Status::Kid);
    EXPECT_EQ(result.detail(), R"(unknown key: no key with kid "rotated-key" for RS256)");
    // Without kid and without any key for the algorithm: a new key may exist.
    const std::string es384 = signingInput(header("ES384", ""), goodClaims()) + ".c2ln";
    EXPECT_EQ(statusOf(es384), Status::Kid);
    // No JWKS loaded yet.
    EXPECT_EQ(validateIdToken(rs256(goodClaims()), nullptr, expect()).status(), Status::Kid);
}

TEST_F(IdTokenTest, KeysWithoutKidServeTokensWithUnknownKid) {
    const std::string doc = R"({"keys":[)" + publicJwk(rsa_, "") + "]}";
    const auto set = Jwks::parse(doc);
    ASSERT_TRUE(set.ok()) << set.detail();
    EXPECT_EQ(validateIdToken(rs256(goodClaims(), "any"), &set.value(), expect()).status(),
              Status::Ok);
    EXPECT_EQ(validateIdToken(rs256(goodClaims(), ""), &set.value(), expect()).status(),
              Status::Ok);
}

TEST_F(IdTokenTest, RejectsTamperedSignatureOrPayload) {
    std::string token = rs256(goodClaims());
    std::string badSig = token;
    badSig[badSig.size() - 5] = badSig[badSig.size() - 5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(statusOf(badSig), Status::Signature);

    // Same header and signature, another payload.
    const std::size_t first = token.find('.');
    const std::size_t second = token.find('.', first + 1);
    const std::string forged = token.substr(0, first + 1) +
                               encodeBase64Url(withMember(goodClaims(), "sub", R"("admin")")) +
                               token.substr(second);
    EXPECT_EQ(statusOf(forged), Status::Signature);

    // ES256 signatures have exactly 64 bytes: a DER signature is refused.
    const std::string es = signToken(p256_, "ES256", header("ES256", "ec-1"), goodClaims());
    const std::string input = es.substr(0, es.rfind('.'));
    EXPECT_EQ(statusOf(input + '.' + encodeBase64Url(std::string(72, '\x30'))),
              Status::Signature);
    EXPECT_EQ(statusOf(input + ".AA"), Status::Signature);
}

TEST_F(IdTokenTest, AlgorithmMustFitTheKey) {
    // RS256 header naming the EC key, signed with the EC key.
    const std::string input = signingInput(header("RS256", "ec-1"), goodClaims());
    const std::string token = input + '.' + b64(signBytes(p256_, "ES256", input));
    const auto result = validate(token);
    EXPECT_EQ(result.status(), Status::Signature);
    EXPECT_EQ(result.detail(), R"(invalid signature: key "ec-1" (EC P-256) cannot verify RS256)");
    // ES256 header naming the P-521 key.
    EXPECT_EQ(statusOf(signToken(p256_, "ES256", header("ES256", "ec-521"), goodClaims())),
              Status::Signature);
    // A key "alg" binds the key: the RSA key published as RS256 refuses
    // PS256.
    const std::string doc = R"({"keys":[)" +
                            publicJwk(rsa_, R"("kid":"rsa-1","alg":"RS256")") + "]}";
    const auto set = Jwks::parse(doc);
    ASSERT_TRUE(set.ok());
    const std::string ps = signToken(rsa_, "PS256", header("PS256", "rsa-1"), goodClaims());
    EXPECT_EQ(validateIdToken(ps, &set.value(), expect()).status(), Status::Signature);
    // HS256 signed with the RSA public key material as secret: no JWKS key
    // is ever an HMAC key.
    IdTokenExpectations e = expect();
    e.algs = parseAlgList("RS256 HS256").value();
    const std::string hs = hmacToken("public", "HS256", header("HS256", "rsa-1"), goodClaims());
    EXPECT_EQ(statusOf(hs, e), Status::Alg);
}

TEST_F(IdTokenTest, RejectsMalformedTokens) {
    const std::string good = rs256(goodClaims());
    const std::string input = signingInput(header("RS256", "rsa-1"), goodClaims());
    const std::vector<std::string> bad = {
        "",
        "abc",
        good.substr(0, good.rfind('.')),                // 2 parts
        good + ".x",                                    // 4 parts
        "a.b.c.d.e",                                    // JWE shape
        "=" + good,                                     // bad base64
        good.substr(0, good.find('.')) + "=" + good.substr(good.find('.')),
        signingInput("not json", goodClaims()) + ".c2ln",
        signingInput("[1]", goodClaims()) + ".c2ln",
        signingInput("{}", goodClaims()) + ".c2ln",     // no alg
        signingInput(R"({"alg":7})", goodClaims()) + ".c2ln",
        signingInput(R"({"alg":"RS256","kid":1})", goodClaims()) + ".c2ln",
        signingInput(R"({"alg":"RS256","alg":"none"})", goodClaims()) + ".c2ln",
        "." + encodeBase64Url(goodClaims()) + ".c2ln",  // empty header
        input + ".",                                    // empty signature
        input + ".c2ln=",
    };
    for (const auto &token : bad) {
        EXPECT_EQ(statusOf(token), Status::Token) << token;
    }
}

TEST_F(IdTokenTest, RejectsSignedButMalformedPayload) {
    const auto signedPayload = [](const std::string &payload) {
        return signToken(rsa_, "RS256", header("RS256", "rsa-1"), payload);
    };
    EXPECT_EQ(statusOf(signedPayload("not json")), Status::Token);
    EXPECT_EQ(statusOf(signedPayload("[]")), Status::Token);
    // Duplicate claims: two parsers could disagree on which "sub" counts.
    EXPECT_EQ(statusOf(signedPayload(R"({"sub":"a","sub":"b"})")), Status::Token);
}

TEST_F(IdTokenTest, RejectsCriticalHeaders) {
    for (const char *crit : {R"(["exp"])", "[]", R"(["b64"])"}) {
        const std::string h = R"({"alg":"RS256","kid":"rsa-1","crit":)" + std::string(crit) +
                              R"(,"exp":1})";
        const auto result = validate(signToken(rsa_, "RS256", h, goodClaims()));
        EXPECT_EQ(result.status(), Status::Token) << crit;
        EXPECT_NE(result.detail().find("crit"), std::string::npos);
    }
}

TEST_F(IdTokenTest, IgnoresTypAndKeyUrlHeaders) {
    for (const char *h : {R"({"alg":"RS256","kid":"rsa-1","typ":"at+jwt"})",
                          R"({"alg":"RS256","kid":"rsa-1","jku":"https://evil/jwks"})",
                          R"({"alg":"RS256","kid":"rsa-1","x5u":"https://evil/x"})"}) {
        EXPECT_EQ(statusOf(signToken(rsa_, "RS256", h, goodClaims())), Status::Ok) << h;
    }
}

TEST_F(IdTokenTest, RejectsHugeTokens) {
    const std::string big =
        withMember(goodClaims(), "pad", jsonString(std::string(64 * 1024, 'p')));
    const auto result = validate(rs256(big));
    EXPECT_EQ(result.status(), Status::TooLarge);
    // Just below the limit is fine.
    const std::string fits =
        withMember(goodClaims(), "pad", jsonString(std::string(47 * 1024, 'p')));
    const std::string token = rs256(fits);
    ASSERT_LT(token.size(), CompactJws::kMaxBytes);
    EXPECT_EQ(statusOf(token), Status::Ok);
}

TEST_F(IdTokenTest, RejectsBadExpectations) {
    IdTokenExpectations e = expect();
    e.leeway = -1;
    EXPECT_EQ(statusOf(rs256(goodClaims()), e), Status::InvalidArgument);
    e = expect();
    e.issuer = {};
    EXPECT_EQ(statusOf(rs256(goodClaims()), e), Status::InvalidArgument);
    e = expect();
    e.clientId = {};
    EXPECT_EQ(statusOf(rs256(goodClaims()), e), Status::InvalidArgument);
}

TEST_F(IdTokenTest, ExtremeTimesDoNotOverflow) {
    IdTokenExpectations e = expect();
    e.leeway = std::numeric_limits<std::int64_t>::max();
    EXPECT_EQ(statusOf(withClaim("exp", "0"), e), Status::Ok);
    e = expect();
    e.now = std::numeric_limits<std::int64_t>::max();
    EXPECT_EQ(statusOf(rs256(goodClaims()), e), Status::Expired);
    e.now = std::numeric_limits<std::int64_t>::min();
    EXPECT_EQ(statusOf(rs256(goodClaims()), e), Status::NotYet);
    // Dates beyond 2^62 are not dates.
    EXPECT_EQ(statusOf(withClaim("exp", "9223372036854775807")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("exp", "1e300")), Status::Field);
    EXPECT_EQ(statusOf(withClaim("exp", "4611686018427387904")), Status::Ok);
}

}  // namespace
}  // namespace auth_oidc
