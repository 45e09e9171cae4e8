#include "flow/callback.h"

#include <openssl/evp.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "jwk/jwks.h"
#include "jwt/token_maker.h"
#include "provider/discovery.h"

// The callback flow driven step by step with scripted answers: no network,
// no store, no nginx. Each test plays the driver.

namespace auth_oidc {
namespace {

constexpr std::int64_t kNow = 1700000000;
constexpr const char *kIssuer = "https://op.example";
constexpr const char *kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char *kDiscovery = R"json({
  "issuer": "https://op.example",
  "authorization_endpoint": "https://op.example/authorize",
  "token_endpoint": "https://op.example/token",
  "jwks_uri": "https://op.example/jwks",
  "token_endpoint_auth_methods_supported": ["client_secret_basic"]
})json";

EvpPkeyPtr newEcKey() {
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

class CallbackFlowTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto d = Discovery::parse(kDiscovery, kIssuer);
        ASSERT_TRUE(d) << d.detail();
        discovery_ = std::make_unique<Discovery>(std::move(d).value());
        key_ = newEcKey();
        other_ = newEcKey();
        jwks_ = keys({{key_.get(), "k1"}});
        rotated_ = keys({{key_.get(), "k1"}, {other_.get(), "k2"}});
    }

    std::unique_ptr<Jwks> keys(std::initializer_list<std::pair<EVP_PKEY *, const char *>> list) {
        std::string doc = R"({"keys":[)";
        bool first = true;
        for (const auto &[key, kid] : list) {
            doc += first ? "" : ",";
            doc += test::publicJwk(key, std::string(R"("kid":")") + kid + R"(","use":"sig")");
            first = false;
        }
        doc += "]}";
        auto parsed = Jwks::parse(doc);
        EXPECT_TRUE(parsed) << parsed.detail();
        return std::make_unique<Jwks>(std::move(parsed).value());
    }

    std::string idToken(EVP_PKEY *key, const char *kid, const std::string &extra = "") {
        const std::string header = std::string(R"({"alg":"ES256","typ":"JWT","kid":")") + kid + R"("})";
        const std::string payload =
            R"({"iss":"https://op.example","sub":"user-1","aud":"client-1","exp":)" +
            std::to_string(kNow + 300) + R"(,"iat":)" + std::to_string(kNow) +
            R"(,"nonce":"n-1","email":"u@example.test")" + extra + "}";
        return test::signToken(key, "ES256", header, payload);
    }

    std::string tokenResponse(const std::string &idToken) {
        return R"({"access_token":"at-1","token_type":"Bearer","expires_in":60,"id_token":")" +
               idToken + R"("})";
    }

    std::unique_ptr<CallbackFlow> flow(std::optional<std::string_view> iss = std::nullopt,
                                       std::optional<std::string_view> error = std::nullopt,
                                       std::optional<std::string_view> code = "c-1",
                                       bool keepIdToken = true, bool keepAccessToken = true,
                                       bool revokeAccessToken = false,
                                       ClaimSelection claims = {}) {
        CallbackConfig config;
        config.claims = claims;
        config.keepIdToken = keepIdToken;
        config.keepAccessToken = keepAccessToken;
        config.revokeAccessToken = revokeAccessToken;
        config.provider = "op";
        config.issuer = kIssuer;
        config.clientId = "client-1";
        config.clientSecret = "secret-1";
        config.redirectUri = "https://rp.example/oidc_callback";
        config.algorithms = "ES256 RS256";
        config.leeway = 60;
        config.sessionTimeout = 3600;
        CallbackRequest request;
        request.state = "state-1";
        request.code = code;
        request.error = error;
        request.errorDescription = error ? std::optional<std::string_view>("no\r\nway") : std::nullopt;
        request.iss = iss;
        request.pending.nonce = "n-1";
        request.pending.codeVerifier = kVerifier;
        request.pending.returnPath = "/app/page?x=1";
        request.pending.provider = "op";
        request.pending.expires = kNow + 600;
        request.pending.acrValues = acrAsked_;
        request.pending.maxAge = maxAgeAsked_;
        request.sessionId = "session-1";
        request.now = kNow;
        auto made = CallbackFlow::create(config, request);
        EXPECT_TRUE(made) << made.detail();
        return std::move(made).value();
    }

    static StepResult stored(StepResult::Store outcome = StepResult::Store::Done) {
        StepResult r;
        r.store = outcome;
        return r;
    }

    StepResult metadata(const Jwks *jwks) const {
        StepResult r;
        r.discovery = discovery_.get();
        r.jwks = jwks;
        return r;
    }

    StepResult fetched(unsigned status, std::string_view body) const {
        StepResult r;
        r.httpStatus = status;
        r.body = body;
        r.jwks = jwks_.get();
        return r;
    }

    // Start, state recorded, metadata in: the flow asks for the token.
    const Step &toTokenRequest(CallbackFlow &f) {
        const Step &used = f.start();
        EXPECT_EQ(used.kind, StepKind::Store);
        EXPECT_EQ(used.op, StoreOp::Add);
        EXPECT_EQ(used.record, RecordKind::UsedState);
        EXPECT_EQ(used.key, "state-1");
        EXPECT_EQ(used.expires, kNow + 600);
        const Step &meta = f.resume(stored());
        EXPECT_EQ(meta.kind, StepKind::Metadata);
        EXPECT_FALSE(meta.refetchKeys);
        return f.resume(metadata(jwks_.get()));
    }

    // the step-up the started login asked for
    std::string_view acrAsked_;
    std::int64_t maxAgeAsked_ = -1;

    std::unique_ptr<Discovery> discovery_;
    EvpPkeyPtr key_, other_;
    std::unique_ptr<Jwks> jwks_, rotated_;
};

TEST_F(CallbackFlowTest, SuccessStoresTheSessionThenRedirects) {
    auto f = flow();
    const Step &fetch = toTokenRequest(*f);
    ASSERT_EQ(fetch.kind, StepKind::Fetch) << fetch.log << fetch.detail;
    EXPECT_EQ(fetch.endpoint, Discovery::Endpoint::Token);
    EXPECT_EQ(fetch.method, "POST");
    EXPECT_NE(fetch.headers.find("Authorization: Basic "), std::string::npos);
    EXPECT_NE(fetch.body.find("code=c-1"), std::string::npos);
    EXPECT_NE(fetch.body.find(std::string("code_verifier=") + kVerifier), std::string::npos);
    EXPECT_NE(fetch.body.find("redirect_uri=https%3A%2F%2Frp.example%2Foidc_callback"),
              std::string::npos);

    const std::string response = tokenResponse(idToken(key_.get(), "k1"));
    const Step &put = f->resume(fetched(200, response));
    ASSERT_EQ(put.kind, StepKind::Store) << put.log;
    EXPECT_EQ(put.op, StoreOp::Put);
    EXPECT_EQ(put.record, RecordKind::Session);
    EXPECT_EQ(put.key, "op\nsession-1");
    // No refresh token: the session ends with its ID token.
    EXPECT_EQ(put.expires, kNow + 300);
    EXPECT_EQ(put.logLevel, LogLevel::Info);
    EXPECT_EQ(put.log, "provider \"op\": login of \"user-1\"");
    auto session = decodeSession(put.value);
    ASSERT_TRUE(session) << session.detail();
    EXPECT_EQ(session.value().sub, "user-1");
    EXPECT_EQ(session.value().accessToken, "at-1");
    EXPECT_EQ(session.value().accessTokenExpires, kNow + 60);
    EXPECT_EQ(session.value().idTokenExpires, kNow + 300);
    EXPECT_EQ(session.value().refreshed, kNow);
    EXPECT_EQ(findClaim(session.value().claimIndex, "email"),
              std::optional<std::string_view>("u@example.test"));

    const Step &done = f->resume(stored());
    ASSERT_EQ(done.kind, StepKind::Reply);
    EXPECT_EQ(done.status, 302);
    EXPECT_EQ(done.location, "/app/page?x=1");
    EXPECT_EQ(done.sessionId, "session-1");
    EXPECT_TRUE(f->done());
}

// A session keeps only the tokens the configuration uses (session_tokens
// auto): each combination stores exactly those, and the claims either way.
TEST_F(CallbackFlowTest, TheSessionKeepsOnlyTheTokensItIsToldTo) {
    const std::string idt = idToken(key_.get(), "k1");
    const std::string response = tokenResponse(idt);
    for (const bool keepId : {true, false}) {
        for (const bool keepAccess : {true, false}) {
            auto f = flow(std::nullopt, std::nullopt, "c-1", keepId, keepAccess);
            ASSERT_EQ(toTokenRequest(*f).kind, StepKind::Fetch);
            const Step &put = f->resume(fetched(200, response));
            ASSERT_EQ(put.kind, StepKind::Store) << put.log;
            auto session = decodeSession(put.value);
            ASSERT_TRUE(session) << session.detail();
            EXPECT_EQ(session.value().idToken, keepId ? std::string_view(idt) : std::string_view());
            EXPECT_EQ(session.value().accessToken, keepAccess ? "at-1" : "");
            EXPECT_EQ(session.value().sub, "user-1");
            EXPECT_EQ(session.value().idTokenExpires, kNow + 300);
            EXPECT_EQ(findClaim(session.value().claimIndex, "email"),
                      std::optional<std::string_view>("u@example.test"));
            if (!keepId && !keepAccess) {
                EXPECT_LT(put.value.size(), idt.size()) << "the record is smaller than the ID token alone";
            }
        }
    }
    // revoke_tokens: the access token is what a logout revokes when there
    // is no refresh token, and only then
    for (const bool withRefresh : {false, true}) {
        auto f = flow(std::nullopt, std::nullopt, "c-1", false, false, true);
        ASSERT_EQ(toTokenRequest(*f).kind, StepKind::Fetch);
        std::string answer = response;
        if (withRefresh) {
            answer.insert(answer.size() - 1, R"(,"refresh_token":"rt-1")");
        }
        const Step &put = f->resume(fetched(200, answer));
        ASSERT_EQ(put.kind, StepKind::Store) << put.log;
        auto session = decodeSession(put.value);
        ASSERT_TRUE(session) << session.detail();
        EXPECT_EQ(session.value().accessToken, withRefresh ? "" : "at-1");
        EXPECT_EQ(session.value().refreshToken, withRefresh ? "rt-1" : "");
    }
}

// session_claims auto: the table keeps the claims the configuration names
// (as nginx spells variables) and those the module reads again.
TEST_F(CallbackFlowTest, TheSessionKeepsOnlyTheClaimsItIsToldTo) {
    const std::string idt = idToken(key_.get(), "k1",
                                    R"(,"cognito:groups":["a","b"],"auth_time":)" +
                                        std::to_string(kNow) + R"(,"acr":"1","name":"U")");
    ClaimSelection keep;
    keep.all = false;
    // the configuration's own string: the flow keeps a copy
    std::string names = "cognito_groups email missing";
    keep.names = names;
    auto f = flow(std::nullopt, std::nullopt, "c-1", false, false, false, keep);
    names.assign(names.size(), 'x');
    ASSERT_EQ(toTokenRequest(*f).kind, StepKind::Fetch);
    const Step &put = f->resume(fetched(200, tokenResponse(idt)));
    ASSERT_EQ(put.kind, StepKind::Store) << put.log;
    auto session = decodeSession(put.value);
    ASSERT_TRUE(session) << session.detail();
    std::vector<std::string> kept;
    for (const ClaimEntry &e : session.value().claimIndex) {
        kept.emplace_back(e.name);
    }
    EXPECT_EQ(kept, (std::vector<std::string>{"acr", "auth_time", "cognito:groups", "email", "nonce", "sub"}));
    EXPECT_EQ(session.value().sub, "user-1");

    // all: every claim, as before
    auto g = flow();
    ASSERT_EQ(toTokenRequest(*g).kind, StepKind::Fetch);
    const Step &all = g->resume(fetched(200, tokenResponse(idt)));
    auto every = decodeSession(all.value);
    ASSERT_TRUE(every) << every.detail();
    EXPECT_EQ(every.value().claimIndex.size(), 11u);
    EXPECT_LT(put.value.size() + 60, all.value.size());
}

TEST_F(CallbackFlowTest, AUsedStateIsRefusedBeforeAnythingElse) {
    auto f = flow();
    f->start();
    const Step &r = f->resume(stored(StepResult::Store::Absent));
    ASSERT_EQ(r.kind, StepKind::Reply);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.title, "Login expired");
    EXPECT_EQ(r.logLevel, LogLevel::Error);
    EXPECT_TRUE(f->done());
}

TEST_F(CallbackFlowTest, StoreFailuresAre503AndNoSession) {
    auto f = flow();
    f->start();
    EXPECT_EQ(f->resume(stored(StepResult::Store::Failed)).status, 503);

    auto g = flow();
    toTokenRequest(*g);
    const std::string response = tokenResponse(idToken(key_.get(), "k1"));
    ASSERT_EQ(g->resume(fetched(200, response)).kind, StepKind::Store);
    const Step &r = g->resume(stored(StepResult::Store::Failed));
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(r.sessionId.empty());
}

TEST_F(CallbackFlowTest, RefusalsInTheAnswer) {
    // checked once the metadata is in, before any exchange
    const auto answer = [&](CallbackFlow &f) -> const Step & {
        f.start();
        EXPECT_EQ(f.resume(stored()).kind, StepKind::Metadata);
        return f.resume(metadata(jwks_.get()));
    };
    {
        auto f = flow("https://evil.example");
        const Step &r = answer(*f);
        EXPECT_EQ(r.status, 400);
        EXPECT_NE(r.log.find("another issuer"), std::string::npos);
    }
    {
        auto f = flow(std::nullopt, "access_denied");
        const Step &r = answer(*f);
        EXPECT_EQ(r.status, 403);
        EXPECT_EQ(r.log, "provider \"op\" refused the login: access_denied no\\x0d\\x0away");
    }
    {
        auto f = flow(std::nullopt, std::nullopt, std::nullopt);
        EXPECT_EQ(answer(*f).status, 400);
    }
}

TEST_F(CallbackFlowTest, Rfc9207IssRequiredWhenPromised) {
    auto d = Discovery::parse(
        R"({"issuer":"https://op.example","authorization_endpoint":"https://op.example/a",)"
        R"("token_endpoint":"https://op.example/t","jwks_uri":"https://op.example/k",)"
        R"("authorization_response_iss_parameter_supported":true})",
        kIssuer);
    ASSERT_TRUE(d);
    StepResult meta;
    meta.discovery = &d.value();
    meta.jwks = jwks_.get();

    auto without = flow();
    without->start();
    without->resume(stored());
    const Step &r = without->resume(meta);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.log.find("without \"iss\""), std::string::npos);

    auto with = flow(kIssuer);
    with->start();
    with->resume(stored());
    EXPECT_EQ(with->resume(meta).kind, StepKind::Fetch);

    // an error response is held to the promise too
    auto error = flow(std::nullopt, "access_denied");
    error->start();
    error->resume(stored());
    EXPECT_EQ(error->resume(meta).status, 400);
}

TEST_F(CallbackFlowTest, ProviderErrorsAndTimeouts) {
    struct Case {
        StepResult::Transport transport;
        unsigned status;
        const char *body;
        int want;
    };
    for (const Case &c : {
             Case{StepResult::Transport::Failed, 0, "", 502},
             Case{StepResult::Transport::TimedOut, 0, "", 504},
             Case{StepResult::Transport::Ok, 400, R"({"error":"invalid_grant"})", 401},
             Case{StepResult::Transport::Ok, 200, "<html>", 502},
             Case{StepResult::Transport::Ok, 500,
                  R"({"access_token":"a","token_type":"Bearer","id_token":"x.y.z"})", 502},
         }) {
        auto f = flow();
        toTokenRequest(*f);
        StepResult r = fetched(c.status, c.body);
        r.transport = c.transport;
        r.transportError = "connection refused";
        const Step &reply = f->resume(r);
        ASSERT_EQ(reply.kind, StepKind::Reply);
        EXPECT_EQ(reply.status, c.want) << c.body;
        EXPECT_EQ(reply.logLevel, LogLevel::Error);
        EXPECT_TRUE(reply.sessionId.empty());
    }
}

// A refusal a configuration causes says so on the page, and the log line
// names the fix (never the secret).
TEST_F(CallbackFlowTest, ConfigurationRefusalsExplainThemselves) {
    struct Case {
        unsigned status;
        const char *body;
        const char *page;
        const char *fix;
    };
    for (const Case &c : {
             Case{401, R"({"error":"invalid_client","error_description":"bad secret"})",
                  "client_id and client_secret", "fix: client_id and client_secret must be"},
             Case{400, R"({"error":"unauthorized_client"})", "authorization code grant",
                  "fix: allow the authorization code grant"},
             Case{400, R"({"error":"invalid_grant","error_description":"redirect_uri mismatch"})",
                  "callback address", "fix: register the redirect_uri \"https://rp.example/oidc_callback\""},
         }) {
        auto f = flow();
        toTokenRequest(*f);
        const Step &reply = f->resume(fetched(c.status, c.body));
        ASSERT_EQ(reply.kind, StepKind::Reply) << c.body;
        EXPECT_EQ(reply.status, 401);
        EXPECT_NE(reply.detail.find(c.page), std::string::npos) << reply.detail;
        EXPECT_NE(reply.log.find(c.fix), std::string::npos) << reply.log;
        EXPECT_EQ(reply.log.find("secret-1"), std::string::npos);
        EXPECT_EQ(reply.detail.find("secret-1"), std::string::npos);
    }

    // an expired code is the user's, not a configuration's
    auto f = flow();
    toTokenRequest(*f);
    const Step &plain = f->resume(fetched(400, R"({"error":"invalid_grant"})"));
    EXPECT_EQ(plain.detail, "The identity provider did not accept the login.");
    EXPECT_EQ(plain.log.find("fix:"), std::string::npos);
}

TEST_F(CallbackFlowTest, AClockOffByMoreThanTheLeewaySaysSo) {
    // issued 10 minutes in this server's future
    auto f = flow();
    toTokenRequest(*f);
    const std::string payload =
        R"({"iss":"https://op.example","sub":"user-1","aud":"client-1","exp":)" +
        std::to_string(kNow + 900) + R"(,"iat":)" + std::to_string(kNow + 600) +
        R"(,"nonce":"n-1"})";
    const std::string token = test::signToken(
        key_.get(), "ES256", R"({"alg":"ES256","typ":"JWT","kid":"k1"})", payload);
    const Step &r = f->resume(fetched(200, tokenResponse(token)));
    ASSERT_EQ(r.kind, StepKind::Reply);
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.detail.find("clock"), std::string::npos) << r.detail;
    EXPECT_NE(r.log.find("fix: this host's clock and the provider's differ by more than clock_skew"),
              std::string::npos) << r.log;
}

// A login that asked for a step-up (acr_values, max_age) takes only an ID
// token that shows it; a provider that ignored the request is refused
// (OpenID Connect Core 1.0, 3.1.3.7), and no session is stored.
TEST_F(CallbackFlowTest, AStepUpTheProviderIgnoredIsRefused) {
    struct Case {
        std::string_view acr;
        std::int64_t maxAge;
        std::string extra;
        bool accepted;
    };
    const std::string recent = R"(,"auth_time":)" + std::to_string(kNow - 30);
    const std::string old = R"(,"auth_time":)" + std::to_string(kNow - 3600);
    const std::vector<Case> cases = {
        {"gold", -1, R"(,"acr":"gold")", true},
        {"gold silver", -1, R"(,"acr":"silver")", true},
        {"gold", -1, R"(,"acr":"bronze")", false},
        {"gold", -1, "", false},
        {"", 300, recent, true},
        {"", 300, old, false},
        {"", 300, "", false},
        {"gold", 300, R"(,"acr":"gold")" + recent, true},
        {"gold", 300, R"(,"acr":"gold")" + old, false},
    };
    for (const Case &c : cases) {
        acrAsked_ = c.acr;
        maxAgeAsked_ = c.maxAge;
        auto f = flow();
        toTokenRequest(*f);
        const Step &r = f->resume(fetched(200, tokenResponse(idToken(key_.get(), "k1", c.extra))));
        if (c.accepted) {
            EXPECT_EQ(r.kind, StepKind::Store) << c.extra << r.log;
            continue;
        }
        ASSERT_EQ(r.kind, StepKind::Reply) << c.extra;
        EXPECT_EQ(r.status, 403) << c.extra;
        EXPECT_EQ(r.logLevel, LogLevel::Warn);
        EXPECT_NE(r.log.find("the step-up asked for is not met"), std::string::npos) << r.log;
    }
}

TEST_F(CallbackFlowTest, BadIdTokensAre401) {
    for (const std::string &extra : {std::string(R"(,"aud":"other")"), std::string(R"(,"nonce":"n-2")")}) {
        auto f = flow();
        toTokenRequest(*f);
        // a later member wins in the JSON parse: aud/nonce replaced
        std::string token = idToken(key_.get(), "k1", extra);
        const std::string response = tokenResponse(token);
        const Step &r = f->resume(fetched(200, response));
        ASSERT_EQ(r.kind, StepKind::Reply) << extra;
        EXPECT_EQ(r.status, 401) << extra;
        EXPECT_NE(r.log.find("ID token refused"), std::string::npos);
    }
}

TEST_F(CallbackFlowTest, UnknownKeyIdRefetchesOnceThenSucceeds) {
    auto f = flow();
    toTokenRequest(*f);
    const std::string response = tokenResponse(idToken(other_.get(), "k2"));
    const Step &wait = f->resume(fetched(200, response));
    ASSERT_EQ(wait.kind, StepKind::Metadata);
    EXPECT_TRUE(wait.refetchKeys);
    const Step &put = f->resume(metadata(rotated_.get()));
    ASSERT_EQ(put.kind, StepKind::Store) << put.log;
    EXPECT_EQ(put.record, RecordKind::Session);
}

TEST_F(CallbackFlowTest, UnknownKeyIdRefetchesOnceThenFails) {
    auto f = flow();
    toTokenRequest(*f);
    const std::string response = tokenResponse(idToken(other_.get(), "k2"));
    ASSERT_EQ(f->resume(fetched(200, response)).kind, StepKind::Metadata);
    const Step &r = f->resume(metadata(jwks_.get()));  // the same keys again
    ASSERT_EQ(r.kind, StepKind::Reply);
    EXPECT_EQ(r.status, 401);
    EXPECT_TRUE(f->done());
}

TEST_F(CallbackFlowTest, NoMetadataIs503) {
    auto f = flow();
    f->start();
    f->resume(stored());
    EXPECT_EQ(f->resume(StepResult()).status, 503);
}

TEST_F(CallbackFlowTest, CreateRefusesMissingInputs) {
    CallbackConfig config;
    config.algorithms = "ES256";
    CallbackRequest request;
    request.state = "s";
    request.sessionId = "id";
    EXPECT_EQ(CallbackFlow::create(config, request).status(), Status::InvalidArgument);
    request.pending.nonce = "n";
    config.algorithms = "XS256";
    EXPECT_FALSE(CallbackFlow::create(config, request));
}

}  // namespace
}  // namespace auth_oidc
