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

}  // namespace
}  // namespace auth_oidc
