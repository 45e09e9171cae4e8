#include "flow/backchannel.h"

#include <openssl/evp.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "json_edit.h"
#include "jwk/jwks.h"
#include "jwt/signing_keys.h"
#include "jwt/token_maker.h"
#include "provider/discovery.h"

// The back-channel logout flow driven step by step with scripted answers:
// no network, no store, no nginx. Each test plays the driver. Steps are
// copied out of the flow (it reuses one Step for every answer).

namespace auth_oidc {
namespace {

using namespace test;  // NOLINT: keys, token makers, JSON helpers

constexpr std::int64_t kNow = 1700000000;
constexpr std::int64_t kLeeway = 60;
constexpr std::int64_t kMaxAge = 600;
constexpr const char *kIssuer = "https://op.example";
constexpr const char *kDiscovery = R"json({
  "issuer": "https://op.example",
  "authorization_endpoint": "https://op.example/authorize",
  "token_endpoint": "https://op.example/token",
  "jwks_uri": "https://op.example/jwks",
  "backchannel_logout_supported": true
})json";

constexpr int kMalformed = static_cast<int>(LogoutRefusal::Malformed);
constexpr int kSignature = static_cast<int>(LogoutRefusal::Signature);
constexpr int kClaims = static_cast<int>(LogoutRefusal::Claims);
constexpr int kReplayed = static_cast<int>(LogoutRefusal::Replayed);
constexpr int kUnavailable = static_cast<int>(LogoutRefusal::Unavailable);

// iat now, exp in two minutes, a sid, the logout event.
std::string goodClaims() {
    return R"({"iss":"https://op.example","aud":"client-1","iat":)" +
           std::to_string(kNow) + R"(,"exp":)" + std::to_string(kNow + 120) +
           R"(,"jti":"jti-1","sid":"sid-1",)"
           R"("events":{"http://schemas.openid.net/event/backchannel-logout":{}}})";
}

class BackchannelFlowTest : public ::testing::Test {
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
        auto d = Discovery::parse(kDiscovery, kIssuer);
        ASSERT_TRUE(d) << d.detail();
        discovery_ = std::make_unique<Discovery>(std::move(d).value());
        jwks_ = keys({{key_, "k1"}});
        rotated_ = keys({{key_, "k1"}, {other_, "k2"}});
    }

    static std::unique_ptr<Jwks> keys(
        std::initializer_list<std::pair<EVP_PKEY *, const char *>> list) {
        std::string doc = R"({"keys":[)";
        bool first = true;
        for (const auto &[key, kid] : list) {
            doc += first ? "" : ",";
            doc += publicJwk(key, std::string(R"("kid":")") + kid + R"(","use":"sig")");
            first = false;
        }
        doc += "]}";
        auto parsed = Jwks::parse(doc);
        EXPECT_TRUE(parsed) << parsed.detail();
        return std::make_unique<Jwks>(std::move(parsed).value());
    }

    static std::string token(const std::string &claims = goodClaims(),
                             EVP_PKEY *key = key_, const char *kid = "k1") {
        const std::string header =
            std::string(R"({"alg":"ES256","typ":"logout+jwt","kid":")") + kid + R"("})";
        return signToken(key, "ES256", header, claims);
    }

    static std::unique_ptr<BackchannelFlow> flow(const std::string &logoutToken) {
        BackchannelConfig config;
        config.provider = "op";
        config.issuer = kIssuer;
        config.clientId = "client-1";
        config.clientSecret = "a-client-secret-of-32-bytes-long";
        config.algorithms = "ES256 RS256";
        config.leeway = kLeeway;
        config.maxAge = kMaxAge;
        auto made = BackchannelFlow::create(config, logoutToken, kNow);
        EXPECT_TRUE(made) << made.detail();
        return std::move(made).value();
    }

    StepResult metadata(const Jwks *jwks) const {
        StepResult r;
        r.discovery = discovery_.get();
        r.jwks = jwks;
        return r;
    }

    static StepResult stored(StepResult::Store outcome = StepResult::Store::Done,
                             std::string_view value = {}) {
        StepResult r;
        r.store = outcome;
        r.value = value;
        return r;
    }

    // start(): the metadata is asked for, keys as they are.
    static void expectMetadata(const Step &s, bool refetch = false) {
        EXPECT_EQ(s.kind, StepKind::Metadata) << s.log << s.detail;
        EXPECT_EQ(s.refetchKeys, refetch);
        EXPECT_FALSE(s.metadataOptional);
        EXPECT_EQ(s.logLevel, LogLevel::None);
    }

    static void expectJtiAdd(const Step &s, const std::string &jti, std::int64_t exp,
                             std::int64_t iat) {
        EXPECT_EQ(s.kind, StepKind::Store) << s.log << s.detail;
        EXPECT_EQ(s.op, StoreOp::Add);
        EXPECT_EQ(s.record, RecordKind::UsedJti);
        EXPECT_EQ(s.key, usedJtiKey("op", jti));
        EXPECT_FALSE(s.value.empty());
        EXPECT_GE(s.expires, exp);
        EXPECT_GE(s.expires, iat + kMaxAge);
        EXPECT_EQ(s.expires, std::max(exp, iat + kMaxAge) + kLeeway);
        EXPECT_EQ(s.logLevel, LogLevel::None);
    }

    static void expectIndexEnd(const Step &s, const std::string &key) {
        EXPECT_EQ(s.kind, StepKind::Store) << s.log << s.detail;
        EXPECT_EQ(s.op, StoreOp::IndexEnd);
        EXPECT_EQ(s.record, RecordKind::SessionIndex);
        EXPECT_EQ(s.key, key);
    }

    // A refusal: status, reason, the OAuth error code, an error log.
    static void expectRefused(const Step &s, int status, int reason,
                              const std::string &inDetail = "") {
        EXPECT_EQ(s.kind, StepKind::Reply) << s.log << s.detail;
        EXPECT_EQ(s.status, status) << s.detail;
        EXPECT_EQ(s.reason, reason) << s.detail;
        EXPECT_EQ(s.title, status == 400 ? "invalid_request" : "temporarily_unavailable");
        EXPECT_FALSE(s.detail.empty());
        EXPECT_NE(s.detail.find(inDetail), std::string::npos)
            << "detail: " << s.detail << "\nexpected to contain: " << inDetail;
        EXPECT_FALSE(s.clearSession);
        EXPECT_TRUE(s.location.empty());
        EXPECT_EQ(s.logLevel, LogLevel::Error);
        EXPECT_EQ(s.log.rfind("provider \"op\": back-channel logout refused: ", 0), 0u)
            << s.log;
        EXPECT_NE(s.log.find(s.detail), std::string::npos) << s.log;
    }

    // The token validated against the keys: what the flow does next.
    Step validated(BackchannelFlow &f) {
        expectMetadata(f.start());
        EXPECT_FALSE(f.done());
        return f.resume(metadata(jwks_.get()));
    }

    // A token that the keys refuse at once (no refetch): its refusal.
    Step refusal(const std::string &logoutToken) {
        auto f = flow(logoutToken);
        const Step s = validated(*f);
        EXPECT_TRUE(f->done());
        return s;
    }

    static EVP_PKEY *key_;
    static EVP_PKEY *other_;
    std::unique_ptr<Discovery> discovery_;
    std::unique_ptr<Jwks> jwks_, rotated_;
};

EVP_PKEY *BackchannelFlowTest::key_ = nullptr;
EVP_PKEY *BackchannelFlowTest::other_ = nullptr;

TEST_F(BackchannelFlowTest, NoTokenIsMalformedWithoutAnyOtherStep) {
    auto f = flow("");
    const Step s = f->start();
    expectRefused(s, 400, kMalformed, "no logout_token");
    EXPECT_TRUE(f->done());
    // Over: nothing more is asked whatever the driver says.
    EXPECT_EQ(f->resume(metadata(jwks_.get())).kind, StepKind::Reply);
    EXPECT_EQ(f->start().status, 400);
}

TEST_F(BackchannelFlowTest, SidTokenEndsTheSessionsOfItsSid) {
    auto f = flow(token());
    const Step add = validated(*f);
    expectJtiAdd(add, "jti-1", kNow + 120, kNow);
    EXPECT_FALSE(f->done());

    const Step end = f->resume(stored());
    expectIndexEnd(end, sessionIndexKey("op", "sid", "sid-1"));
    // the sid is hashed: any length fits the store's keys
    EXPECT_EQ(end.key.rfind("op\nsid\n", 0), 0u);
    EXPECT_EQ(end.key.size(), std::string("op\nsid\n").size() + 43);
    EXPECT_FALSE(f->done());

    const Step reply = f->resume(stored(StepResult::Store::Done, "3"));
    EXPECT_EQ(reply.kind, StepKind::Reply);
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.reason, -1);
    EXPECT_TRUE(reply.title.empty());
    EXPECT_TRUE(reply.detail.empty());
    EXPECT_FALSE(reply.clearSession);
    EXPECT_EQ(reply.logLevel, LogLevel::Info);
    EXPECT_EQ(reply.log,
              "provider \"op\": back-channel logout of sid \"sid-1\": 3 sessions ended");
    EXPECT_TRUE(f->done());
}

TEST_F(BackchannelFlowTest, SubOnlyTokenEndsEverySessionOfTheUser) {
    const std::string claims =
        withMember(withoutMember(goodClaims(), "sid"), "sub", R"("user-1")");
    auto f = flow(token(claims));
    expectJtiAdd(validated(*f), "jti-1", kNow + 120, kNow);
    expectIndexEnd(f->resume(stored()), sessionIndexKey("op", "sub", "user-1"));
    // An index that is not there: nothing ended.
    const Step reply = f->resume(stored(StepResult::Store::Absent));
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.logLevel, LogLevel::Info);
    EXPECT_EQ(reply.log,
              "provider \"op\": back-channel logout of every session of \"user-1\": "
              "0 sessions ended");
}

TEST_F(BackchannelFlowTest, SubAndSidEndsBySid) {
    auto f = flow(token(withMember(goodClaims(), "sub", R"("user-1")")));
    validated(*f);
    expectIndexEnd(f->resume(stored()), sessionIndexKey("op", "sid", "sid-1"));
}

// Required by the final specification (2.4): a token without "exp" is
// refused for its claims.
TEST_F(BackchannelFlowTest, TokenWithoutExpIsRefused) {
    auto f = flow(token(withoutMember(goodClaims(), "exp")));
    expectMetadata(f->start());
    const Step reply = f->resume(metadata(jwks_.get()));
    EXPECT_EQ(reply.kind, StepKind::Reply);
    EXPECT_EQ(reply.status, 400);
    EXPECT_NE(reply.detail.find("exp"), std::string::npos) << reply.detail;
}

TEST_F(BackchannelFlowTest, JtiWithALateExpIsRememberedUntilThen) {
    auto f = flow(token(withMember(goodClaims(), "exp", std::to_string(kNow + 5000))));
    const Step add = validated(*f);
    expectJtiAdd(add, "jti-1", kNow + 5000, kNow);
    EXPECT_EQ(add.expires, kNow + 5000 + kLeeway);
}

TEST_F(BackchannelFlowTest, TakenJtiIsAReplay) {
    auto f = flow(token());
    validated(*f);
    expectRefused(f->resume(stored(StepResult::Store::Absent)), 400, kReplayed, "replayed");
    EXPECT_TRUE(f->done());
}

TEST_F(BackchannelFlowTest, StoreFailureAtJtiIsUnavailable) {
    auto f = flow(token());
    validated(*f);
    expectRefused(f->resume(stored(StepResult::Store::Failed)), 503, kUnavailable,
                  "session store");
    EXPECT_TRUE(f->done());
}

// The provider retries a 503: the jti is forgotten first, so that the
// retry is no replay.
TEST_F(BackchannelFlowTest, StoreFailureAtIndexEndIsUnavailable) {
    auto f = flow(token());
    validated(*f);
    f->resume(stored());
    const Step forget = f->resume(stored(StepResult::Store::Failed));
    ASSERT_EQ(forget.kind, StepKind::Store);
    EXPECT_EQ(forget.op, StoreOp::Delete);
    EXPECT_EQ(forget.record, RecordKind::UsedJti);
    EXPECT_EQ(forget.key, usedJtiKey("op", "jti-1"));
    expectRefused(f->resume(stored()), 503, kUnavailable, "session store");
    EXPECT_TRUE(f->done());
}

TEST_F(BackchannelFlowTest, NoMetadataIsUnavailable) {
    auto f = flow(token());
    expectMetadata(f->start());
    expectRefused(f->resume(StepResult()), 503, kUnavailable, "keys");
    EXPECT_TRUE(f->done());
}

TEST_F(BackchannelFlowTest, UnknownKidRefetchesKeysOnceThenValidates) {
    auto f = flow(token(goodClaims(), other_, "k2"));
    expectMetadata(f->start());
    const Step refetch = f->resume(metadata(jwks_.get()));
    expectMetadata(refetch, true);
    EXPECT_FALSE(f->done());
    expectJtiAdd(f->resume(metadata(rotated_.get())), "jti-1", kNow + 120, kNow);
}

TEST_F(BackchannelFlowTest, StillUnknownKidAfterRefetchIsSignature) {
    auto f = flow(token(goodClaims(), other_, "k2"));
    f->start();
    expectMetadata(f->resume(metadata(jwks_.get())), true);
    // The same keys again: refused, no second refetch.
    expectRefused(f->resume(metadata(jwks_.get())), 400, kSignature);
    EXPECT_TRUE(f->done());
}

// The driver holds metadata but no keys at all (the JWKS never loaded),
// nor after the refetch: LogoutRefusal says "Unavailable: no metadata or
// keys" (503, so that the provider retries), but the flow refuses the
// token as a bad signature (400, not retried: the sessions live on).
// Bug: src/core/flow/backchannel.cc, BackchannelFlow::validate() (line 96
// on): after the refetch, when claims.status() == Status::Kid and
// jwks == nullptr, return refuse(LogoutRefusal::Unavailable, "the
// provider's keys are not available", 503) instead of falling through to
// the Signature case.
TEST_F(BackchannelFlowTest, NoKeysEvenAfterRefetchIsUnavailable) {
    auto f = flow(token());
    f->start();
    expectMetadata(f->resume(metadata(nullptr)), true);
    expectRefused(f->resume(metadata(nullptr)), 503, kUnavailable, "keys");
}

TEST_F(BackchannelFlowTest, KeysWithoutJwksRefetchOnce) {
    auto f = flow(token());
    f->start();
    expectMetadata(f->resume(metadata(nullptr)), true);
    // The refetch brought the keys.
    expectJtiAdd(f->resume(metadata(jwks_.get())), "jti-1", kNow + 120, kNow);
}

TEST_F(BackchannelFlowTest, BadSignatureIsSignature) {
    // kid k1, signed with another key.
    expectRefused(refusal(token(goodClaims(), other_, "k1")), 400, kSignature);
    // One character inside the signature changed (not the last: its low
    // bits are padding).
    std::string t = token();
    char &c = t[t.size() - 10];
    c = c == 'A' ? 'B' : 'A';
    expectRefused(refusal(t), 400, kSignature);
}

TEST_F(BackchannelFlowTest, AlgNoneIsSignature) {
    const std::string t = signingInput(R"({"alg":"none","typ":"logout+jwt"})", goodClaims()) + ".";
    expectRefused(refusal(t), 400, kSignature);
}

TEST_F(BackchannelFlowTest, AlgNotConfiguredIsSignature) {
    // HS256 with the right secret, but not in id_token_algorithms.
    const std::string t = hmacToken("a-client-secret-of-32-bytes-long", "HS256",
                                    R"({"alg":"HS256","typ":"logout+jwt"})", goodClaims());
    expectRefused(refusal(t), 400, kSignature);
}

TEST_F(BackchannelFlowTest, ClaimFailuresAreClaims) {
    const std::string cases[] = {
        withMember(goodClaims(), "iss", R"("https://evil.example")"),
        withMember(goodClaims(), "aud", R"("client-2")"),
        withMember(goodClaims(), "nonce", R"("n-1")"),
        withoutMember(goodClaims(), "events"),
        withMember(goodClaims(), "events", R"({"other":{}})"),
        withMember(goodClaims(), "exp", std::to_string(kNow - kLeeway - 1)),
        withMember(goodClaims(), "iat", std::to_string(kNow - kMaxAge - kLeeway - 1)),
        withoutMember(withoutMember(goodClaims(), "sid"), "sub"),
        withoutMember(goodClaims(), "jti"),
    };
    for (const std::string &claims : cases) {
        SCOPED_TRACE(claims);
        expectRefused(refusal(token(claims)), 400, kClaims);
    }
}

TEST_F(BackchannelFlowTest, NotAJwtIsMalformed) {
    for (const char *t : {"not-a-jwt", "a.b", "a.b.c.d", "..."}) {
        SCOPED_TRACE(t);
        expectRefused(refusal(t), 400, kMalformed);
    }
}

TEST_F(BackchannelFlowTest, ControlCharactersStayOutOfTheLog) {
    // A sid with a newline ends its sessions; the log line stays one line.
    auto f = flow(token(withMember(goodClaims(), "sid", R"("a\nb")")));
    validated(*f);
    expectIndexEnd(f->resume(stored()), sessionIndexKey("op", "sid", "a\nb"));
    const Step reply = f->resume(stored(StepResult::Store::Done, "1"));
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.log.find('\n'), std::string::npos) << reply.log;
}

}  // namespace
}  // namespace auth_oidc
