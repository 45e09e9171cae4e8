#include "flow/logout.h"

#include <gtest/gtest.h>

#include "provider/discovery.h"
#include "session/record.h"

// The logout flow with scripted store and metadata answers.

namespace auth_oidc {
namespace {

constexpr const char *kIssuer = "https://op.example";

Discovery discovery(bool endSession) {
    std::string doc =
        R"({"issuer":"https://op.example","authorization_endpoint":"https://op.example/a",)"
        R"("token_endpoint":"https://op.example/t","jwks_uri":"https://op.example/k")";
    if (endSession) {
        doc += R"(,"end_session_endpoint":"https://op.example/logout?ui=1")";
    }
    doc += "}";
    auto d = Discovery::parse(doc, kIssuer);
    EXPECT_TRUE(d) << d.detail();
    return std::move(d).value();
}

std::string sessionRecord() {
    SessionFields s;
    s.sub = "user-1";
    s.idToken = "h.p.s";
    s.claims = R"({"sub":"user-1"})";
    s.created = 1;
    s.expires = 2;
    auto record = encodeSession(s);
    EXPECT_TRUE(record) << record.detail();
    return std::move(record).value();
}

LogoutConfig config(bool hint, std::string_view post = "https://rp.example/bye?a=b c") {
    LogoutConfig c;
    c.provider = "op";
    c.clientId = "client 1";
    c.postLogoutUri = post;
    c.idTokenHint = hint;
    return c;
}

StepResult stored(StepResult::Store outcome, std::string_view value = {}) {
    StepResult r;
    r.store = outcome;
    r.value = value;
    return r;
}

TEST(LogoutFlowTest, TakesTheSessionThenGoesToEndSessionWithHint) {
    const std::string record = sessionRecord();
    const Discovery d = discovery(true);
    auto f = LogoutFlow::create(config(true), std::string_view("id-1"));
    const Step &take = f->start();
    ASSERT_EQ(take.kind, StepKind::Store);
    EXPECT_EQ(take.op, StoreOp::Take);
    EXPECT_EQ(take.record, RecordKind::Session);
    EXPECT_EQ(take.key, "op\nid-1");

    const Step &meta = f->resume(stored(StepResult::Store::Done, record));
    ASSERT_EQ(meta.kind, StepKind::Metadata);
    EXPECT_TRUE(meta.metadataOptional);
    EXPECT_EQ(meta.logLevel, LogLevel::Info);
    EXPECT_EQ(meta.log, "provider \"op\": logout of \"user-1\"");

    StepResult m;
    m.discovery = &d;
    const Step &reply = f->resume(m);
    ASSERT_EQ(reply.kind, StepKind::Reply);
    EXPECT_EQ(reply.status, 302);
    EXPECT_TRUE(reply.clearSession);
    EXPECT_EQ(reply.location,
              "https://op.example/logout?ui=1&client_id=client%201"
              "&post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye%3Fa%3Db%20c"
              "&id_token_hint=h.p.s");
    EXPECT_TRUE(f->done());
}

TEST(LogoutFlowTest, WithoutEndSessionPostLogoutUriThenPage) {
    const Discovery d = discovery(false);
    StepResult m;
    m.discovery = &d;

    auto f = LogoutFlow::create(config(false, "https://rp.example/bye"), std::nullopt);
    ASSERT_EQ(f->start().kind, StepKind::Metadata);  // no cookie: no store
    const Step &to = f->resume(m);
    EXPECT_EQ(to.status, 302);
    EXPECT_EQ(to.location, "https://rp.example/bye");
    EXPECT_TRUE(to.clearSession);

    auto g = LogoutFlow::create(config(false, ""), std::string_view("id-1"));
    g->start();
    g->resume(stored(StepResult::Store::Absent));
    const Step &page = g->resume(StepResult());  // no metadata at all
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.title, "Logged out");
    EXPECT_TRUE(page.clearSession);
}

TEST(LogoutFlowTest, HintOffSendsNoIdToken) {
    const std::string record = sessionRecord();
    const Discovery d = discovery(true);
    StepResult m;
    m.discovery = &d;
    auto f = LogoutFlow::create(config(false, ""), std::string_view("id-1"));
    f->start();
    f->resume(stored(StepResult::Store::Done, record));
    EXPECT_EQ(f->resume(m).location, "https://op.example/logout?ui=1&client_id=client%201");
}

TEST(LogoutFlowTest, StoreFailureKeepsTheCookie) {
    auto f = LogoutFlow::create(config(true), std::string_view("id-1"));
    f->start();
    const Step &r = f->resume(stored(StepResult::Store::Failed));
    EXPECT_EQ(r.status, 503);
    EXPECT_FALSE(r.clearSession);
}

TEST(LogoutFlowTest, AnUnreadableRecordStillLogsOut) {
    auto f = LogoutFlow::create(config(true, ""), std::string_view("id-1"));
    f->start();
    const Step &meta = f->resume(stored(StepResult::Store::Done, "garbage"));
    EXPECT_EQ(meta.kind, StepKind::Metadata);
    EXPECT_EQ(meta.logLevel, LogLevel::None);
    EXPECT_EQ(f->resume(StepResult()).status, 200);
}


// Token revocation at logout (RFC 7009).

constexpr const char *kRevocationDiscovery =
    R"({"issuer":"https://op.example","authorization_endpoint":"https://op.example/a",)"
    R"("token_endpoint":"https://op.example/t","jwks_uri":"https://op.example/k",)"
    R"("end_session_endpoint":"https://op.example/logout",)"
    R"("revocation_endpoint":"https://op.example/revoke")";
// base64("client-1:secret 1" form-encoded: "client-1:secret+1")
constexpr const char *kBasic = "Authorization: Basic Y2xpZW50LTE6c2VjcmV0KzE=\r\n";
constexpr const char *kForm = "Content-Type: application/x-www-form-urlencoded\r\n";
constexpr const char *kEndSession = "https://op.example/logout?client_id=client-1";

Discovery revocationDiscovery(std::string_view extra = "") {
    auto d = Discovery::parse(std::string(kRevocationDiscovery) + std::string(extra) + "}",
                              kIssuer);
    EXPECT_TRUE(d) << d.detail();
    return std::move(d).value();
}

std::string sessionWithTokens(std::string_view accessToken, std::string_view refreshToken) {
    SessionFields s;
    s.sub = "user-1";
    s.idToken = "h.p.s";
    s.accessToken = accessToken;
    s.refreshToken = refreshToken;
    s.claims = R"({"sub":"user-1"})";
    s.created = 1;
    s.expires = 2;
    auto record = encodeSession(s);
    EXPECT_TRUE(record) << record.detail();
    return std::move(record).value();
}

LogoutConfig revokeConfig(bool revoke = true, std::string_view secret = "secret 1") {
    LogoutConfig c;
    c.provider = "op";
    c.clientId = "client-1";
    c.revokeTokens = revoke;
    c.clientSecret = secret;
    c.revokeTimeoutMs = 750;
    return c;
}

StepResult withMetadata(const Discovery *d) {
    StepResult r;
    r.discovery = d;
    return r;
}

StepResult fetched(unsigned status) {
    StepResult r;
    r.httpStatus = status;
    return r;
}

// The reply every logout with this metadata ends in.
void expectEndSessionReply(const Step &s) {
    EXPECT_EQ(s.kind, StepKind::Reply) << s.log;
    EXPECT_EQ(s.status, 302);
    EXPECT_EQ(s.location, kEndSession);
    EXPECT_TRUE(s.clearSession);
}

// Take, then Metadata: the flow's next step after the metadata.
Step afterMetadata(LogoutFlow &f, const std::string &record, const Discovery *d) {
    const Step take = f.start();
    EXPECT_EQ(take.op, StoreOp::Take);
    const Step meta = f.resume(stored(StepResult::Store::Done, record));
    EXPECT_EQ(meta.kind, StepKind::Metadata);
    EXPECT_TRUE(meta.metadataOptional);
    EXPECT_EQ(meta.logLevel, LogLevel::Info);
    return f.resume(withMetadata(d));
}

TEST(LogoutFlowRevocationTest, RevokesTheRefreshTokenThenEndsTheSession) {
    const std::string record = sessionWithTokens("at-1", "rt 1/x");
    const Discovery d = revocationDiscovery();
    auto f = LogoutFlow::create(revokeConfig(), std::string_view("id-1"));
    const Step fetch = afterMetadata(*f, record, &d);
    ASSERT_EQ(fetch.kind, StepKind::Fetch);
    EXPECT_EQ(fetch.endpoint, Discovery::Endpoint::Revocation);
    EXPECT_EQ(fetch.method, "POST");
    EXPECT_EQ(fetch.headers, std::string(kForm) + kBasic);
    EXPECT_EQ(fetch.body, "token=rt+1%2Fx&token_type_hint=refresh_token");
    EXPECT_EQ(fetch.timeoutMs, 750);
    EXPECT_FALSE(fetch.clearSession);
    EXPECT_FALSE(f->done());

    const Step reply = f->resume(fetched(200));
    expectEndSessionReply(reply);
    EXPECT_EQ(reply.logLevel, LogLevel::None) << reply.log;
    EXPECT_TRUE(f->done());
}

TEST(LogoutFlowRevocationTest, TheReplyIsTheOneWithoutRevocation) {
    const std::string record = sessionWithTokens("at-1", "rt-1");
    const Discovery d = revocationDiscovery();

    auto plain = LogoutFlow::create(revokeConfig(false), std::string_view("id-1"));
    const Step without = afterMetadata(*plain, record, &d);
    expectEndSessionReply(without);

    auto f = LogoutFlow::create(revokeConfig(), std::string_view("id-1"));
    ASSERT_EQ(afterMetadata(*f, record, &d).kind, StepKind::Fetch);
    const Step with = f->resume(fetched(200));
    EXPECT_EQ(with.kind, without.kind);
    EXPECT_EQ(with.status, without.status);
    EXPECT_EQ(with.location, without.location);
    EXPECT_EQ(with.clearSession, without.clearSession);
    EXPECT_EQ(with.title, without.title);
    EXPECT_EQ(with.sessionId, without.sessionId);
}

TEST(LogoutFlowRevocationTest, AFailedRevocationStillLogsOutWithAWarning) {
    const std::string record = sessionWithTokens("at-1", "rt-1");
    const Discovery d = revocationDiscovery();

    for (auto how : {StepResult::Transport::Failed, StepResult::Transport::TimedOut}) {
        auto f = LogoutFlow::create(revokeConfig(), std::string_view("id-1"));
        ASSERT_EQ(afterMetadata(*f, record, &d).kind, StepKind::Fetch);
        StepResult r;
        r.transport = how;
        r.transportError = "timed out\nafter 750 ms";
        const Step reply = f->resume(r);
        expectEndSessionReply(reply);
        EXPECT_EQ(reply.logLevel, LogLevel::Warn);
        EXPECT_EQ(reply.log.rfind("provider \"op\": token revocation at logout failed: ", 0), 0u)
            << reply.log;
        EXPECT_NE(reply.log.find("timed out"), std::string::npos) << reply.log;
        EXPECT_EQ(reply.log.find('\n'), std::string::npos) << reply.log;
        EXPECT_TRUE(f->done());
    }

    for (unsigned status : {400u, 401u, 503u}) {
        auto f = LogoutFlow::create(revokeConfig(), std::string_view("id-1"));
        ASSERT_EQ(afterMetadata(*f, record, &d).kind, StepKind::Fetch);
        const Step reply = f->resume(fetched(status));
        expectEndSessionReply(reply);
        EXPECT_EQ(reply.logLevel, LogLevel::Warn);
        EXPECT_EQ(reply.log, "provider \"op\": token revocation at logout failed: HTTP status " +
                                 std::to_string(status));
    }
}

TEST(LogoutFlowRevocationTest, WithoutRefreshTokenTheAccessTokenIsRevoked) {
    const std::string record = sessionWithTokens("at-1", "");
    const Discovery d = revocationDiscovery();
    auto f = LogoutFlow::create(revokeConfig(), std::string_view("id-1"));
    const Step fetch = afterMetadata(*f, record, &d);
    ASSERT_EQ(fetch.kind, StepKind::Fetch);
    EXPECT_EQ(fetch.endpoint, Discovery::Endpoint::Revocation);
    EXPECT_EQ(fetch.body, "token=at-1&token_type_hint=access_token");
    expectEndSessionReply(f->resume(fetched(200)));
}

TEST(LogoutFlowRevocationTest, PublicClientSendsItsIdInTheBody) {
    const std::string record = sessionWithTokens("at-1", "rt-1");
    const Discovery d = revocationDiscovery();
    auto f = LogoutFlow::create(revokeConfig(true, ""), std::string_view("id-1"));
    const Step fetch = afterMetadata(*f, record, &d);
    ASSERT_EQ(fetch.kind, StepKind::Fetch);
    EXPECT_EQ(fetch.headers, kForm);
    EXPECT_EQ(fetch.body, "token=rt-1&token_type_hint=refresh_token&client_id=client-1");
}

TEST(LogoutFlowRevocationTest, ClientSecretPostWhenThatIsAllTheProviderLists) {
    const std::string record = sessionWithTokens("at-1", "rt-1");
    const Discovery d =
        revocationDiscovery(R"(,"token_endpoint_auth_methods_supported":["client_secret_post"])");
    auto f = LogoutFlow::create(revokeConfig(), std::string_view("id-1"));
    const Step fetch = afterMetadata(*f, record, &d);
    ASSERT_EQ(fetch.kind, StepKind::Fetch);
    EXPECT_EQ(fetch.headers, kForm);
    EXPECT_EQ(fetch.body,
              "token=rt-1&token_type_hint=refresh_token&client_id=client-1"
              "&client_secret=secret+1");
}

TEST(LogoutFlowRevocationTest, NoFetchWhenOffOrWithoutEndpointOrTokens) {
    const std::string record = sessionWithTokens("at-1", "rt-1");
    const Discovery with = revocationDiscovery();
    const Discovery without = discovery(true);

    auto off = LogoutFlow::create(revokeConfig(false), std::string_view("id-1"));
    const Step a = afterMetadata(*off, record, &with);
    EXPECT_EQ(a.kind, StepKind::Reply);
    EXPECT_TRUE(a.clearSession);
    EXPECT_TRUE(off->done());

    auto noEndpoint = LogoutFlow::create(revokeConfig(), std::string_view("id-1"));
    const Step b = afterMetadata(*noEndpoint, record, &without);
    EXPECT_EQ(b.kind, StepKind::Reply);
    EXPECT_EQ(b.status, 302);
    EXPECT_TRUE(b.clearSession);
    EXPECT_TRUE(noEndpoint->done());

    // No metadata at all: the local logout, no revocation.
    auto noMetadata = LogoutFlow::create(revokeConfig(), std::string_view("id-1"));
    const Step c = afterMetadata(*noMetadata, record, nullptr);
    EXPECT_EQ(c.kind, StepKind::Reply);
    EXPECT_EQ(c.status, 200);
    EXPECT_TRUE(c.clearSession);

    // A session with no token to revoke.
    auto noTokens = LogoutFlow::create(revokeConfig(), std::string_view("id-1"));
    const Step e = afterMetadata(*noTokens, sessionWithTokens("", ""), &with);
    EXPECT_EQ(e.kind, StepKind::Reply);
    EXPECT_TRUE(e.clearSession);

    // No client authentication the provider takes (a secret, but only
    // private_key_jwt listed): no revocation, the logout goes on.
    const Discovery jwtOnly =
        revocationDiscovery(R"(,"token_endpoint_auth_methods_supported":["private_key_jwt"])");
    auto noAuth = LogoutFlow::create(revokeConfig(), std::string_view("id-1"));
    const Step f = afterMetadata(*noAuth, record, &jwtOnly);
    EXPECT_EQ(f.kind, StepKind::Reply);
    EXPECT_EQ(f.status, 302);
    EXPECT_TRUE(f.clearSession);

    // No session: nothing to revoke.
    auto noSession = LogoutFlow::create(revokeConfig(), std::nullopt);
    ASSERT_EQ(noSession->start().kind, StepKind::Metadata);
    const Step g = noSession->resume(withMetadata(&with));
    EXPECT_EQ(g.kind, StepKind::Reply);
    EXPECT_TRUE(g.clearSession);

    auto gone = LogoutFlow::create(revokeConfig(), std::string_view("id-1"));
    gone->start();
    ASSERT_EQ(gone->resume(stored(StepResult::Store::Absent)).kind, StepKind::Metadata);
    EXPECT_EQ(gone->resume(withMetadata(&with)).kind, StepKind::Reply);
}

TEST(LogoutFlowRevocationTest, RevocationKeepsTheIdTokenHint) {
    const std::string record = sessionWithTokens("at-1", "rt-1");
    const Discovery d = revocationDiscovery();
    LogoutConfig c = revokeConfig();
    c.idTokenHint = true;
    auto f = LogoutFlow::create(c, std::string_view("id-1"));
    ASSERT_EQ(afterMetadata(*f, record, &d).kind, StepKind::Fetch);
    const Step reply = f->resume(fetched(200));
    EXPECT_EQ(reply.status, 302);
    EXPECT_EQ(reply.location, std::string(kEndSession) + "&id_token_hint=h.p.s");
    EXPECT_TRUE(reply.clearSession);
}

}  // namespace
}  // namespace auth_oidc
