#include "flow/bearer.h"

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "jwk/jwks.h"
#include "jwt/signing_keys.h"
#include "jwt/token_maker.h"
#include "provider/discovery.h"
#include "session/record.h"

// The bearer flow driven step by step with scripted answers: no network,
// no store, no nginx. Each test plays the driver.

namespace auth_oidc {
namespace {

using namespace test;  // NOLINT: keys, token makers

constexpr std::int64_t kNow = 1700000000;
constexpr std::int64_t kLeeway = 60;
constexpr std::int64_t kValid = 300;
constexpr std::int64_t kInvalid = 10;
constexpr const char *kIssuer = "https://op.example";
constexpr const char *kDiscovery = R"json({
  "issuer": "https://op.example",
  "authorization_endpoint": "https://op.example/authorize",
  "token_endpoint": "https://op.example/token",
  "jwks_uri": "https://op.example/jwks",
  "introspection_endpoint": "https://op.example/introspect"
})json";
constexpr const char *kNoIntrospection = R"json({
  "issuer": "https://op.example",
  "authorization_endpoint": "https://op.example/authorize",
  "token_endpoint": "https://op.example/token",
  "jwks_uri": "https://op.example/jwks"
})json";

std::string claims(const std::string &extra = "",
                   std::int64_t exp = kNow + 120) {
    return R"({"iss":"https://op.example","aud":["https://api.example","x"],)"
           R"("sub":"user-1","client_id":"spa","scope":"read write","iat":)" +
           std::to_string(kNow - 5) + R"(,"exp":)" + std::to_string(exp) +
           extra + "}";
}

class BearerFlowTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        key_ = loadPrivateKey(kP256PrivateKeyPem).release();
        other_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        ASSERT_NE(other_, nullptr);
    }

    static void TearDownTestSuite() {
        EVP_PKEY_free(key_);
        EVP_PKEY_free(other_);
        key_ = other_ = nullptr;
    }

    void SetUp() override {
        discovery_ = parse(kDiscovery);
        bare_ = parse(kNoIntrospection);
        auto parsed = Jwks::parse(R"({"keys":[)" +
                                  publicJwk(key_, R"("kid":"k1","use":"sig")") +
                                  "]}");
        ASSERT_TRUE(parsed) << parsed.detail();
        jwks_ = std::make_unique<Jwks>(std::move(parsed).value());
    }

    static std::unique_ptr<Discovery> parse(const char *doc) {
        auto d = Discovery::parse(doc, kIssuer);
        EXPECT_TRUE(d) << d.detail();
        return std::make_unique<Discovery>(std::move(d).value());
    }

    static std::string jwt(const std::string &payload = claims(),
                           const char *typ = "at+jwt",
                           EVP_PKEY *key = key_, const char *kid = "k1") {
        std::string header = R"({"alg":"ES256","kid":")" + std::string(kid) + '"';
        if (typ != nullptr) {
            header += R"(,"typ":")" + std::string(typ) + '"';
        }
        return signToken(key, "ES256", header + "}", payload);
    }

    static std::unique_ptr<BearerFlow> flow(
        const std::string &token,
        BearerValidation validation = BearerValidation::Auto,
        bool strictType = true) {
        BearerConfig config;
        config.provider = "op";
        config.issuer = kIssuer;
        config.clientId = "client-1";
        config.clientSecret = "a-client-secret-of-32-bytes-long";
        config.algorithms = "ES256 RS256 HS256";
        config.audiences = "https://api.example other";
        config.validation = validation;
        config.strictType = strictType;
        config.leeway = kLeeway;
        config.cacheValid = kValid;
        config.cacheInvalid = kInvalid;
        auto made = BearerFlow::create(config, token, kNow);
        EXPECT_TRUE(made) << made.detail();
        return std::move(made).value();
    }

    StepResult metadata(const Discovery *d = nullptr,
                        const Jwks *keys = nullptr) const {
        StepResult r;
        r.discovery = d ? d : discovery_.get();
        r.jwks = keys ? keys : jwks_.get();
        return r;
    }

    static StepResult fetched(unsigned status, std::string_view body) {
        StepResult r;
        r.httpStatus = status;
        r.body = body;
        return r;
    }

    // The cache put of an accepted token, then Done with its record.
    static BearerFields expectAccepted(BearerFlow &f, const Step &put,
                                       const std::string &token,
                                       std::int64_t until) {
        EXPECT_EQ(put.kind, StepKind::Store) << put.log;
        EXPECT_EQ(put.op, StoreOp::Put);
        EXPECT_EQ(put.record, RecordKind::BearerToken);
        EXPECT_EQ(put.key, bearerTokenKey("op", token));
        EXPECT_EQ(put.expires, until);
        const std::string record = put.value;
        StepResult stored;
        const Step done = f.resume(stored);
        EXPECT_TRUE(f.done());
        EXPECT_EQ(done.kind, StepKind::Done) << done.log;
        EXPECT_EQ(done.outcome, Outcome::Session);
        EXPECT_EQ(done.value, record);
        recordKept_ = record;
        auto decoded = decodeBearer(recordKept_);
        EXPECT_TRUE(decoded) << decoded.detail();
        return decoded ? decoded.value() : BearerFields();
    }

    // A refusal: cached briefly, then 401 invalid_token, said at info.
    static void expectRefused(BearerFlow &f, const Step &put,
                              const std::string &token,
                              const std::string &description,
                              const std::string &inLog = "") {
        ASSERT_EQ(put.kind, StepKind::Store) << put.title << put.detail;
        EXPECT_EQ(put.op, StoreOp::Put);
        EXPECT_EQ(put.key, bearerTokenKey("op", token));
        EXPECT_EQ(put.expires, kNow + kInvalid);
        EXPECT_TRUE(isRefusedBearer(put.value));
        auto cached = decodeBearer(put.value);
        ASSERT_TRUE(cached) << cached.detail();
        EXPECT_EQ(cached.value().refusedError, "invalid_token");
        EXPECT_EQ(cached.value().refusedDescription, description);
        const Step reply = f.resume(StepResult());
        EXPECT_TRUE(f.done());
        EXPECT_EQ(reply.kind, StepKind::Reply);
        EXPECT_EQ(reply.status, 401);
        EXPECT_EQ(reply.title, "invalid_token");
        EXPECT_EQ(reply.detail, description);
        EXPECT_EQ(reply.logLevel, LogLevel::Info);
        EXPECT_NE(reply.log.find(inLog), std::string::npos) << reply.log;
        EXPECT_EQ(reply.log.find(token), std::string::npos)
            << "the token itself is never logged";
    }

    Step afterMetadata(BearerFlow &f, const Discovery *d = nullptr) {
        const Step &first = f.start();
        EXPECT_EQ(first.kind, StepKind::Metadata);
        return f.resume(metadata(d));
    }

    static EVP_PKEY *key_;
    static EVP_PKEY *other_;
    static std::string recordKept_;
    std::unique_ptr<Discovery> discovery_, bare_;
    std::unique_ptr<Jwks> jwks_;
};

EVP_PKEY *BearerFlowTest::key_ = nullptr;
EVP_PKEY *BearerFlowTest::other_ = nullptr;
std::string BearerFlowTest::recordKept_;

TEST_F(BearerFlowTest, JwtAccessTokenIsAcceptedAndCachedUntilItExpires) {
    const std::string token = jwt();
    auto f = flow(token);
    const Step put = afterMetadata(*f);
    const BearerFields r = expectAccepted(*f, put, token, kNow + 120 + kLeeway);
    EXPECT_EQ(r.sub, "user-1");
    EXPECT_EQ(r.scope, "read write");
    EXPECT_EQ(r.expires, kNow + 120);
    EXPECT_NE(r.claims.find("\"client_id\":\"spa\""), std::string::npos);
    EXPECT_FALSE(r.claimIndex.empty());
}

TEST_F(BearerFlowTest, CacheIsBoundedByCacheValid) {
    const std::string token = jwt(claims("", kNow + 3600));
    auto f = flow(token);
    expectAccepted(*f, afterMetadata(*f), token, kNow + kValid);
}

TEST_F(BearerFlowTest, ApplicationAtJwtIsTheSameType) {
    const std::string token = jwt(claims(), "application/AT+JWT");
    auto f = flow(token);
    expectAccepted(*f, afterMetadata(*f), token, kNow + 120 + kLeeway);
}

TEST_F(BearerFlowTest, TypJwtIsRefusedWhenStrictAndAcceptedWhenNot) {
    for (const char *typ : {"JWT", static_cast<const char *>(nullptr)}) {
        const std::string token = jwt(claims(), typ);
        auto strict = flow(token);
        expectRefused(*strict, afterMetadata(*strict), token,
                      "the token is not an acceptable access token", "typ");
        auto lenient = flow(token, BearerValidation::Auto, false);
        expectAccepted(*lenient, afterMetadata(*lenient), token,
                       kNow + 120 + kLeeway);
    }
    const std::string idToken = jwt(claims(), "logout+jwt");
    auto lenient = flow(idToken, BearerValidation::Auto, false);
    expectRefused(*lenient, afterMetadata(*lenient), idToken,
                  "the token is not an acceptable access token");
}

TEST_F(BearerFlowTest, ClaimFailuresAreInvalidToken) {
    const struct {
        std::string payload;
        std::string description;
    } cases[] = {
        {claims("", kNow - kLeeway - 1), "the token expired"},
        {claims(R"(,"nbf":)" + std::to_string(kNow + kLeeway + 5)),
         "the token is not valid yet"},
        {R"({"iss":"https://evil.example","aud":"https://api.example","exp":)" +
             std::to_string(kNow + 60) + "}",
         "the token was issued by another provider"},
        {R"({"iss":"https://op.example","aud":"client-1","exp":)" +
             std::to_string(kNow + 60) + "}",
         "the token is not meant for this API"},
        {R"({"iss":"https://op.example","aud":"https://api.example"})",
         "the token is not an acceptable access token"},
    };
    for (const auto &c : cases) {
        const std::string token = jwt(c.payload);
        auto f = flow(token);
        expectRefused(*f, afterMetadata(*f), token, c.description);
    }
}

TEST_F(BearerFlowTest, SenderConstrainedTokensAreRefused) {
    const std::string token = jwt(claims(R"(,"cnf":{"jkt":"abc"})"));
    auto f = flow(token);
    expectRefused(*f, afterMetadata(*f), token,
                  "the token is bound to a key (cnf) and needs a proof");
    auto g = flow("opaque");
    afterMetadata(*g);
    expectRefused(*g, g->resume(fetched(200, R"({"active":true,"cnf":{"x5t#S256":"x"}})")),
                  "opaque", "the token is bound to a key (cnf) and needs a proof");
}

TEST_F(BearerFlowTest, SignatureAndAlgorithmAttacksAreRefused) {
    const std::string good = jwt();
    const std::string body = good.substr(0, good.rfind('.'));
    // alg none, and HS256 keyed with the provider's public key
    const std::string none =
        encodeBase64Url(R"({"alg":"none","typ":"at+jwt"})") +
        body.substr(body.find('.')) + ".";
    const std::string hs = hmacToken(publicJwk(key_, ""), "HS256",
                                     R"({"alg":"HS256","typ":"at+jwt"})",
                                     claims());
    const std::string other = jwt(claims(), "at+jwt", other_, "k1");
    const std::string tampered = body + ".AAAA";
    for (const auto &[token, description] :
         {std::pair{none, "the token's signing algorithm is not accepted"},
          std::pair{hs, "the token's signing algorithm is not accepted"},
          std::pair{other, "the token's signature does not verify"},
          std::pair{tampered, "the token's signature does not verify"}}) {
        auto f = flow(token);
        expectRefused(*f, afterMetadata(*f), token, description);
    }
}

TEST_F(BearerFlowTest, UnknownKidRefetchesKeysOnce) {
    const std::string token = jwt(claims(), "at+jwt", other_, "k2");
    auto f = flow(token);
    const Step refetch = afterMetadata(*f);
    EXPECT_EQ(refetch.kind, StepKind::Metadata);
    EXPECT_TRUE(refetch.refetchKeys);
    auto rotated = Jwks::parse(
        R"({"keys":[)" + publicJwk(key_, R"("kid":"k1")") + "," +
        publicJwk(other_, R"("kid":"k2")") + "]}");
    ASSERT_TRUE(rotated);
    expectAccepted(*f, f->resume(metadata(nullptr, &rotated.value())), token,
                   kNow + 120 + kLeeway);
}

TEST_F(BearerFlowTest, MalformedTokensAreRefusedWithoutAnyStep) {
    for (const std::string &token :
         {std::string(""), std::string("a b"), std::string("=abc"),
          std::string("abc=d"), std::string("\xff"),
          std::string(kMaxBearerBytes + 1, 'a')}) {
        auto f = flow(token);
        const Step s = f->start();
        EXPECT_EQ(s.kind, StepKind::Reply);
        EXPECT_EQ(s.status, 401);
        EXPECT_EQ(s.title, "invalid_token");
        EXPECT_EQ(s.logLevel, LogLevel::Info);
        EXPECT_TRUE(f->done());
        EXPECT_FALSE(isBearerToken(token));
    }
    EXPECT_TRUE(isBearerToken("abc.DEF-_~+/=="));
}

TEST_F(BearerFlowTest, JwtOnlyRefusesOpaqueTokens) {
    auto f = flow("opaque-token", BearerValidation::Jwt);
    expectRefused(*f, f->start(), "opaque-token", "the token is malformed");
}

TEST_F(BearerFlowTest, OpaqueTokenIsIntrospectedAsTheClient) {
    const std::string token = "opaque-token-123";
    auto f = flow(token);
    const Step fetch = afterMetadata(*f);
    ASSERT_EQ(fetch.kind, StepKind::Fetch);
    EXPECT_EQ(fetch.endpoint, Discovery::Endpoint::Introspection);
    EXPECT_EQ(fetch.method, "POST");
    EXPECT_NE(fetch.body.find("token=opaque-token-123"), std::string::npos);
    EXPECT_NE(fetch.body.find("token_type_hint=access_token"),
              std::string::npos);
    EXPECT_NE(fetch.headers.find("Authorization: Basic "), std::string::npos);
    const std::string answer =
        R"({"active":true,"sub":"user-2","scp":["read","admin"],"exp":)" +
        std::to_string(kNow + 600) + R"(,"iss":"https://op.example",)"
        R"("aud":"https://api.example","token_type":"Bearer"})";
    const BearerFields r = expectAccepted(*f, f->resume(fetched(200, answer)),
                                          token, kNow + kValid);
    EXPECT_EQ(r.sub, "user-2");
    EXPECT_EQ(r.scope, "read admin");
}

TEST_F(BearerFlowTest, IntrospectionRefusals) {
    const struct {
        std::string answer;
        std::string description;
    } cases[] = {
        {R"({"active":false})", "the token is not active"},
        {R"({"active":"true"})", "the token is not active"},
        {R"({"active":true,"aud":"client-1"})",
         "the token is not meant for this API"},
        {R"({"active":true,"iss":"https://evil.example"})",
         "the token was issued by another provider"},
        {R"({"active":true,"exp":)" + std::to_string(kNow - kLeeway - 1) + "}",
         "the token expired"},
        {R"({"active":true,"token_type":"refresh_token"})",
         "the token is not an access token"},
    };
    for (const auto &c : cases) {
        auto f = flow("opaque");
        afterMetadata(*f);
        expectRefused(*f, f->resume(fetched(200, c.answer)), "opaque",
                      c.description);
    }
}

TEST_F(BearerFlowTest, ProviderTroubleIs503AndNotCached) {
    StepResult down;
    down.transport = StepResult::Transport::TimedOut;
    for (const StepResult &r :
         {down, fetched(500, "{}"), fetched(401, R"({"error":"invalid_client"})"),
          fetched(200, "not json")}) {
        auto f = flow("opaque");
        afterMetadata(*f);
        const Step s = f->resume(r);
        EXPECT_TRUE(f->done());
        EXPECT_EQ(s.kind, StepKind::Reply);
        EXPECT_EQ(s.status, 503);
        EXPECT_EQ(s.logLevel, LogLevel::None) << "said once per incident by the module";
        EXPECT_EQ(s.log.rfind("provider \"op\": bearer token not verified: ", 0), 0u) << s.log;
    }
    auto f = flow(jwt());
    f->start();
    EXPECT_EQ(f->resume(StepResult()).status, 503);
}

TEST_F(BearerFlowTest, NoIntrospectionEndpointRefusesOpaqueTokens) {
    auto f = flow("opaque");
    expectRefused(*f, afterMetadata(*f, bare_.get()), "opaque",
                  "the token is not a JWT and cannot be introspected");
}

TEST_F(BearerFlowTest, IntrospectionModeIntrospectsJwtsToo) {
    auto f = flow(jwt(), BearerValidation::Introspection);
    EXPECT_EQ(afterMetadata(*f).kind, StepKind::Fetch);
}

TEST_F(BearerFlowTest, NoAudienceIsAConfigurationError) {
    BearerConfig config;
    config.provider = "op";
    config.issuer = kIssuer;
    config.audiences = "  ";
    EXPECT_EQ(BearerFlow::create(config, "t", kNow).status(),
              Status::InvalidArgument);
}

TEST_F(BearerFlowTest, KeyHashesTheToken) {
    const std::string key = bearerTokenKey("op", "secret-token");
    EXPECT_EQ(key.rfind("op\nbearer\n", 0), 0u);
    EXPECT_EQ(key.find("secret-token"), std::string::npos);
    EXPECT_NE(key, bearerTokenKey("op2", "secret-token"));
}

}  // namespace
}  // namespace auth_oidc
