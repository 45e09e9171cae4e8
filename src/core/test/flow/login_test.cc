#include "flow/login.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/base64url.h"
#include "flow/pkce.h"
#include "provider/discovery.h"
#include "session/keyring.h"
#include "session/record.h"

// The start of a login, and its sealed cookie both ways.

namespace auth_oidc {
namespace {

constexpr std::int64_t kNow = 1700000000;
const std::string kState = encodeBase64Url(std::string(32, 's'));
const std::string kNonce = encodeBase64Url(std::string(32, 'n'));
const std::string kVerifier = encodeBase64Url(std::string(32, 'v'));
const std::string kSealNonce(12, 'x');

Discovery discovery(const char *methods = nullptr) {
    std::string doc =
        R"({"issuer":"https://op.example","authorization_endpoint":"https://op.example/auth?x=1",)"
        R"("token_endpoint":"https://op.example/t","jwks_uri":"https://op.example/k")";
    if (methods != nullptr) {
        doc += std::string(R"(,"code_challenge_methods_supported":)") + methods;
    }
    doc += "}";
    auto d = Discovery::parse(doc, "https://op.example");
    EXPECT_TRUE(d) << d.detail();
    return std::move(d).value();
}

Keyring keyring(char fill = 'k') {
    auto k = Keyring::create(std::string(32, fill), {});
    EXPECT_TRUE(k) << k.detail();
    return std::move(k).value();
}

struct Fixture {
    Discovery d = discovery();
    Keyring k = keyring();
    LoginConfig config;
    LoginRequest request;

    Fixture() {
        config.provider = "op";
        config.clientId = "client-1";
        config.redirectUri = "https://rp.example/oidc_callback";
        config.scope = "email";
        config.loginTimeout = 300;
        config.keyring = &k;
        request.discovery = &d;
        request.uri = "/app/page?x=1";
        request.state = kState;
        request.nonce = kNonce;
        request.verifier = kVerifier;
        request.sealNonce = kSealNonce;
        request.now = kNow;
    }
};

std::string param(const std::string &url, const std::string &name) {
    const std::string key = (url.find("?" + name + "=") != std::string::npos ? "?" : "&") + name + "=";
    const auto at = url.find(key);
    if (at == std::string::npos) {
        return "<absent>";
    }
    const auto from = at + key.size();
    return url.substr(from, url.find('&', from) - from);
}

TEST(LoginFlowTest, RedirectsWithASealedStartedLoginAndStoresNothing) {
    Fixture f;
    auto flow = LoginFlow::create(f.config, f.request);
    ASSERT_TRUE(flow) << flow.detail();
    const Step &reply = flow.value()->start();
    ASSERT_EQ(reply.kind, StepKind::Reply) << reply.log;
    EXPECT_EQ(reply.status, 302);
    EXPECT_EQ(reply.location.rfind("https://op.example/auth?x=1&", 0), 0u) << reply.location;
    EXPECT_EQ(param(reply.location, "state"), kState);
    EXPECT_EQ(param(reply.location, "nonce"), kNonce);
    EXPECT_EQ(param(reply.location, "scope"), "openid%20email");
    EXPECT_EQ(param(reply.location, "code_challenge"), *pkceS256(kVerifier));
    EXPECT_EQ(param(reply.location, "code_challenge_method"), "S256");
    EXPECT_EQ(reply.loginState, kState);

    // the cookie opens for this state and provider only, and holds the login
    auto opened = openStartedLogin(f.k, "op", kState, reply.loginCookie);
    ASSERT_TRUE(opened) << opened.detail();
    auto pending = decodePendingLogin(opened.value());
    ASSERT_TRUE(pending) << pending.detail();
    EXPECT_EQ(pending.value().nonce, kNonce);
    EXPECT_EQ(pending.value().codeVerifier, kVerifier);
    EXPECT_EQ(pending.value().returnPath, "/app/page?x=1");
    EXPECT_EQ(pending.value().provider, "op");
    EXPECT_EQ(pending.value().expires, kNow + 300);
    EXPECT_EQ(reply.loginCookie.find(kNonce), std::string::npos);
    EXPECT_EQ(reply.loginCookie.find("/app/page"), std::string::npos);

    EXPECT_EQ(openStartedLogin(f.k, "other", kState, reply.loginCookie).status(), Status::Auth);
    EXPECT_EQ(openStartedLogin(f.k, "op", kNonce, reply.loginCookie).status(), Status::Auth);
    EXPECT_FALSE(openStartedLogin(keyring('z'), "op", kState, reply.loginCookie));
    EXPECT_EQ(openStartedLogin(f.k, "op", kState, "not base64!").status(), Status::Decode);
    std::string altered = reply.loginCookie;
    altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(openStartedLogin(f.k, "op", kState, altered));
}

TEST(LoginFlowTest, NoOpenRedirect) {
    for (const char *uri : {"//evil.example/x", "/\\evil.example", "https://evil.example/"}) {
        Fixture f;
        f.request.uri = uri;
        auto flow = std::move(LoginFlow::create(f.config, f.request)).value();
        const Step &reply = flow->start();
        auto pending = decodePendingLogin(openStartedLogin(f.k, "op", kState, reply.loginCookie).value());
        EXPECT_EQ(pending.value().returnPath, "/") << uri;
    }
}

// A login on one host through another's callback (an absolute
// redirect_uri) comes back on its own host; a long target keeps its path.
TEST(LoginFlowTest, AbsoluteTargetsComeBackToTheirHost) {
    const std::string longQuery = "/app/x?" + std::string(600, 'q');
    for (const auto &[uri, want] : std::vector<std::pair<std::string, std::string>>{
             {"/app/x?y=1", "https://app.example.com/app/x?y=1"},
             {longQuery, "https://app.example.com/app/x"},
             {"https://api.example.com/a?" + std::string(600, 'q'), "https://api.example.com/a"},
             {"https://evil.example/", "https://app.example.com/"},
         }) {
        Fixture f;
        f.config.returnHosts = "api.example.com";
        f.request.uri = uri;
        f.request.origin = "https://app.example.com";
        f.request.absoluteReturn = true;
        auto flow = std::move(LoginFlow::create(f.config, f.request)).value();
        const Step &reply = flow->start();
        auto pending = decodePendingLogin(openStartedLogin(f.k, "op", kState, reply.loginCookie).value());
        EXPECT_EQ(pending.value().returnPath, want) << uri.substr(0, 40);
    }
}

// The login cookie stays small: at most 512 bytes of return path.
TEST(LoginFlowTest, LongReturnPathsAreCut) {
    const std::string longPath = "/app/" + std::string(600, 'p');
    const std::string longQuery = "/app/x?" + std::string(600, 'q');
    for (const auto &[uri, want] : std::vector<std::pair<std::string, std::string>>{
             {"/app/x?" + std::string(400, 'q'), "/app/x?" + std::string(400, 'q')},
             {longQuery, "/app/x"},
             {longPath + "?a=1", "/"},
             // a query that names a URL is no absolute target
             {"/app/x?next=https://example.com&" + std::string(600, 'a'), "/app/x"},
         }) {
        Fixture f;
        f.request.uri = uri;
        auto flow = std::move(LoginFlow::create(f.config, f.request)).value();
        const Step &reply = flow->start();
        auto pending = decodePendingLogin(openStartedLogin(f.k, "op", kState, reply.loginCookie).value());
        EXPECT_EQ(pending.value().returnPath, want) << uri.size();
        EXPECT_LT(reply.loginCookie.size(), 1000u);
    }
}

TEST(LoginFlowTest, PkceFollowsConfigurationThenProvider) {
    {
        Fixture f;
        f.config.pkce = 0;
        auto flow = std::move(LoginFlow::create(f.config, f.request)).value();
        const Step &r = flow->start();
        EXPECT_EQ(param(r.location, "code_challenge"), "<absent>");
        auto pending = decodePendingLogin(openStartedLogin(f.k, "op", kState, r.loginCookie).value());
        EXPECT_TRUE(pending.value().codeVerifier.empty());
    }
    {
        Fixture f;
        f.d = discovery(R"(["plain"])");
        auto flow = std::move(LoginFlow::create(f.config, f.request)).value();
        const Step &r = flow->start();
        EXPECT_EQ(param(r.location, "code_challenge"), "<absent>");
    }
    {
        Fixture f;
        f.d = discovery(R"(["plain","S256"])");
        auto flow = std::move(LoginFlow::create(f.config, f.request)).value();
        const Step &r = flow->start();
        EXPECT_NE(param(r.location, "code_challenge"), "<absent>");
    }
}

TEST(LoginFlowTest, ProbesTheStoreFirstWhenAsked) {
    Fixture f;
    f.config.probeStore = true;
    auto flow = std::move(LoginFlow::create(f.config, f.request)).value();
    const Step &probe = flow->start();
    ASSERT_EQ(probe.kind, StepKind::Store);
    EXPECT_EQ(probe.op, StoreOp::Get);
    StepResult absent;
    absent.store = StepResult::Store::Absent;
    EXPECT_EQ(flow->resume(absent).status, 302);

    auto down = std::move(LoginFlow::create(f.config, f.request)).value();
    down->start();
    StepResult failed;
    failed.store = StepResult::Store::Failed;
    const Step &r = down->resume(failed);
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(r.loginCookie.empty());
    EXPECT_TRUE(r.location.empty());
}

TEST(LoginFlowTest, RefusesMalformedInputs) {
    Fixture f;
    f.request.state = "short";
    EXPECT_EQ(LoginFlow::create(f.config, f.request).status(), Status::InvalidArgument);
    Fixture g;
    g.request.discovery = nullptr;
    EXPECT_FALSE(LoginFlow::create(g.config, g.request));
    Fixture h;
    h.config.extraArgs = "state=evil";
    auto flow = std::move(LoginFlow::create(h.config, h.request)).value();
    const Step &r = flow->start();
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.logLevel, LogLevel::Error);
}

}  // namespace
}  // namespace auth_oidc
