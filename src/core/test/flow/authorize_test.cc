#include "flow/authorize.h"

#include <string>

#include <gtest/gtest.h>

namespace auth_oidc {
namespace {

constexpr const char *kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

AuthorizeRequest request() {
    AuthorizeRequest r;
    r.endpoint = "https://op.example/authorize";
    r.clientId = "client-1";
    r.redirectUri = "https://app.example/oidc_callback";
    r.scope = "openid email";
    r.state = "st-1";
    r.nonce = "no-1";
    return r;
}

std::string url(const AuthorizeRequest &r) {
    const auto built = buildAuthorizeUrl(r);
    EXPECT_TRUE(built.ok()) << built.detail();
    return built.ok() ? built.value() : std::string();
}

TEST(AuthorizeTest, BuildsCodeFlowRequest) {
    EXPECT_EQ(url(request()),
              "https://op.example/authorize?response_type=code&client_id=client-1"
              "&redirect_uri=https%3A%2F%2Fapp.example%2Foidc_callback"
              "&scope=openid%20email&state=st-1&nonce=no-1");
}

TEST(AuthorizeTest, AddsPkceParameters) {
    AuthorizeRequest r = request();
    r.codeChallenge = kChallenge;
    EXPECT_EQ(url(r),
              "https://op.example/authorize?response_type=code&client_id=client-1"
              "&redirect_uri=https%3A%2F%2Fapp.example%2Foidc_callback"
              "&scope=openid%20email&state=st-1&nonce=no-1"
              "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
              "&code_challenge_method=S256");
    r.codeChallenge = "short";
    EXPECT_EQ(buildAuthorizeUrl(r).status(), Status::InvalidArgument);
    r.codeChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM";
    EXPECT_EQ(buildAuthorizeUrl(r).status(), Status::InvalidArgument);
}

TEST(AuthorizeTest, KeepsTheEndpointQuery) {
    const auto startsWith = [](const std::string &text, const std::string &prefix) {
        return text.compare(0, prefix.size(), prefix) == 0;
    };
    AuthorizeRequest r = request();
    r.endpoint = "https://op.example/authorize?tenant=a";
    EXPECT_TRUE(startsWith(url(r), "https://op.example/authorize?tenant=a&response_type=code"
                                   "&client_id="))
        << url(r);
    r.endpoint = "https://op.example/authorize?";
    EXPECT_TRUE(startsWith(url(r), "https://op.example/authorize?response_type=code&client_id="))
        << url(r);
    r.endpoint = "https://op.example/authorize?x=1&";
    EXPECT_TRUE(
        startsWith(url(r), "https://op.example/authorize?x=1&response_type=code&client_id="))
        << url(r);
}

TEST(AuthorizeTest, PercentEncodesEveryValue) {
    AuthorizeRequest r = request();
    r.clientId = "my app/1+2&x=y";
    r.state = "a b~c.d_e-f";
    r.nonce = "\xc3\xa9";
    const std::string u = url(r);
    EXPECT_NE(u.find("&client_id=my%20app%2F1%2B2%26x%3Dy&"), std::string::npos) << u;
    EXPECT_NE(u.find("&state=a%20b~c.d_e-f&"), std::string::npos) << u;
    EXPECT_NE(u.find("&nonce=%C3%A9"), std::string::npos) << u;
}

TEST(AuthorizeTest, NormalizesScope) {
    EXPECT_EQ(normalizeScope("").value(), "openid");
    EXPECT_EQ(normalizeScope("email profile").value(), "openid email profile");
    EXPECT_EQ(normalizeScope("  email   openid ").value(), "email openid");
    EXPECT_EQ(normalizeScope("openidx").value(), "openid openidx");
    EXPECT_EQ(normalizeScope("urn:x:read api://x/.default").value(),
              "openid urn:x:read api://x/.default");
    for (const char *bad : {"email\tprofile", "a\"b", "a\\b", "caf\xc3\xa9", "a\nb"}) {
        EXPECT_EQ(normalizeScope(bad).status(), Status::InvalidArgument) << bad;
    }
}

TEST(AuthorizeTest, AppendsValidatedExtraArgs) {
    AuthorizeRequest r = request();
    r.extraArgs = "prompt=login&acr_values=urn%3Amace%3Aloa%3A2&display=page";
    EXPECT_EQ(url(r).substr(url(r).size() - 58),
              "&prompt=login&acr_values=urn%3Amace%3Aloa%3A2&display=page");
    r.extraArgs = "state=evil";
    const auto result = buildAuthorizeUrl(r);
    EXPECT_EQ(result.status(), Status::InvalidArgument);
    EXPECT_NE(result.detail().find("extra_auth_args sets a parameter"), std::string::npos);
}

TEST(AuthorizeTest, ExtraArgsProblems) {
    for (const char *ok : {"", "prompt=login", "a=b&c=d", "flag", "a=", "x=a/b?c:d@e!$'()*+,;=",
                           "k=%7e%7E", "login_hint=user%40example.com", "claims=%7B%7D"}) {
        EXPECT_EQ(extraArgsProblem(ok), nullptr) << ok;
    }
    for (const char *bad :
         {"a b=c", "a=b#frag", "a=\"x\"", "a=<x>", "a=%", "a=%4", "a=%zz", "a=\xc3\xa9",
          "a=b\r\nc=d", "&a=b", "a=b&", "a=b&&c=d", "=b", "a=[1]", "a\\b=c"}) {
        EXPECT_NE(extraArgsProblem(bad), nullptr) << bad;
    }
    for (const char *reserved :
         {"response_type=token", "client_id=x", "redirect_uri=https://evil", "scope=admin",
          "state=x", "nonce=x", "code_challenge=x", "code_challenge_method=plain",
          "prompt=none&redirect_uri=x", "%73tate=x", "redirect%5Furi=x", "nonce",
          "STATE=x"}) {
        const char *problem = extraArgsProblem(reserved);
        // Parameter names are case-sensitive (RFC 6749, section 3.1):
        // "STATE" is not "state".
        if (std::string_view(reserved) == "STATE=x") {
            EXPECT_EQ(problem, nullptr);
        } else {
            EXPECT_NE(problem, nullptr) << reserved;
        }
    }
}

TEST(AuthorizeTest, RejectsBadInputs) {
    AuthorizeRequest r = request();
    r.redirectUri = "/oidc_callback";
    EXPECT_EQ(buildAuthorizeUrl(r).status(), Status::Url);
    r = request();
    r.redirectUri = "https://app.example/cb#frag";
    EXPECT_EQ(buildAuthorizeUrl(r).status(), Status::Url);
    r = request();
    r.endpoint = "";
    EXPECT_EQ(buildAuthorizeUrl(r).status(), Status::Url);
    for (auto field : {&AuthorizeRequest::clientId, &AuthorizeRequest::state,
                       &AuthorizeRequest::nonce}) {
        r = request();
        r.*field = "";
        EXPECT_EQ(buildAuthorizeUrl(r).status(), Status::InvalidArgument);
    }
    r = request();
    r.scope = "bad\tscope";
    EXPECT_EQ(buildAuthorizeUrl(r).status(), Status::InvalidArgument);
}

TEST(AuthorizeTest, SafeReturnPathKeepsLocalPaths) {
    for (const char *ok : {"/", "/app", "/app/page?x=1&y=%2F#top", "/%2F%2Fevil.com", "/a//b",
                           "/~user/a;b=c", "/%5Cevil.com"}) {
        EXPECT_EQ(safeReturnPath(ok), ok);
    }
    const std::string longest = "/" + std::string(kMaxReturnPath - 1, 'a');
    EXPECT_EQ(safeReturnPath(longest), longest);
}

TEST(AuthorizeTest, SafeReturnPathDefeatsOpenRedirects) {
    for (const char *bad :
         {"", "//evil.com", "//evil.com/path", "/\\evil.com", "\\\\evil.com", "http://evil",
          "https://evil.com/", "javascript:alert(1)", "/\t/evil.com", "/ /evil", "evil.com",
          "/a\\b", "/a b", "/a\r\nLocation: x", "/caf\xc3\xa9", "./x", "?x=1", "#x"}) {
        EXPECT_EQ(safeReturnPath(bad), "/") << bad;
    }
    EXPECT_EQ(safeReturnPath(std::string_view("/a\0b", 4)), "/");
    EXPECT_EQ(safeReturnPath("/" + std::string(kMaxReturnPath, 'a')), "/");
}

// A login comes back to the request's own host, or one the operator
// allows (redirect_hosts); any other target falls back to the own "/".
TEST(AuthorizeTest, ReturnTargetAllowsOnlyTheOwnHostAndListedOnes) {
    const std::string_view own = "https://app.example.com";
    const std::string_view hosts = "api.example.com .corp.example internal:8443";
    // a local path: on the own origin only when the callback is elsewhere
    EXPECT_EQ(returnTarget("/page?x=1", own, false, hosts), "/page?x=1");
    EXPECT_EQ(returnTarget("/page?x=1", own, true, hosts),
              "https://app.example.com/page?x=1");
    EXPECT_EQ(returnTarget("//evil.com/x", own, true, hosts), "https://app.example.com/");
    for (const char *ok : {"https://app.example.com/a", "http://APP.example.com:8080/a?b=c",
                           "https://api.example.com/x", "https://a.b.corp.example/",
                           "https://internal:8443/z"}) {
        EXPECT_EQ(returnTarget(ok, own, false, hosts), ok) << ok;
    }
    EXPECT_EQ(returnTarget("https://api.example.com", own, false, hosts),
              "https://api.example.com/");
    for (const char *bad :
         {"https://evil.com/", "https://app.example.com.evil.com/", "https://corp.example/",
          "https://evilcorp.example/", "https://internal:8444/", "https://evil.com@app.example.com/",
          "https://app.example.com\\@evil.com/", "https://app.example.com?x",
          "https://app.example.com/a b", "https://app.example.com//evil.com", "https:///evil.com",
          "https://evil.com:1.corp.example/", "https://app.example.com:x/", "https://app.example.com:1:2/",
          "https://internal:8443:1/", "https://[::1/"}) {
        EXPECT_EQ(returnTarget(bad, own, false, hosts), "https://app.example.com/") << bad;
    }
    // not http(s): not a URL of ours at all, so the local "/"
    for (const char *bad : {"ftp://app.example.com/", "javascript://app.example.com/%0aalert(1)"}) {
        EXPECT_EQ(returnTarget(bad, own, false, hosts), "/") << bad;
        EXPECT_EQ(returnTarget(bad, own, true, hosts), "https://app.example.com/") << bad;
    }
    // without an origin, local paths only, as before
    EXPECT_EQ(returnTarget("https://app.example.com/a", "", false, hosts), "/");
    EXPECT_EQ(returnTarget("/a", "", true, hosts), "/a");
}

TEST(AuthorizeTest, AStepUpIsAskedInTheRequest) {
    AuthorizeRequest r = request();
    r.acrValues = "urn:mace:incommon:iap:silver gold";
    r.maxAge = 0;
    const std::string asked = url(r);
    EXPECT_NE(asked.find("&acr_values=urn%3Amace%3Aincommon%3Aiap%3Asilver%20gold"),
              std::string::npos) << asked;
    EXPECT_NE(asked.find("&max_age=0"), std::string::npos);
    r.acrValues = "";
    r.maxAge = -1;
    EXPECT_EQ(url(r).find("acr_values"), std::string::npos);
    EXPECT_EQ(url(r).find("max_age"), std::string::npos);
}

}  // namespace
}  // namespace auth_oidc
