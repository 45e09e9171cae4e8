#include "common/url.h"

#include <string>

#include <gtest/gtest.h>

namespace auth_oidc {
namespace {

std::string problem(std::string_view url) {
    const char *p = httpUrlProblem(url);
    return p == nullptr ? std::string("ok") : std::string(p);
}

TEST(UrlTest, AcceptsAbsoluteHttpUrls) {
    for (const char *url :
         {"https://op.example", "https://op.example/", "http://op.example/a/b",
          "https://op.example:443/x?y=z", "https://op.example?x", "http://10.0.0.1:8080",
          "https://[::1]", "https://[fe80::1%25eth0]", "https://op.example/a%20b",
          "https://Op.Example/PATH"}) {
        // A zone id needs '%', which is not allowed in the bracket form here.
        if (std::string(url).find('%') != std::string::npos &&
            std::string(url).find('[') != std::string::npos) {
            EXPECT_EQ(problem(url), "has an invalid host") << url;
            continue;
        }
        EXPECT_EQ(problem(url), "ok") << url;
    }
}

TEST(UrlTest, NamesTheProblem) {
    EXPECT_EQ(problem(""), "is empty");
    EXPECT_EQ(problem("ftp://op.example"), "is not an absolute http or https URL");
    EXPECT_EQ(problem("Https://op.example"), "is not an absolute http or https URL");
    EXPECT_EQ(problem("https:op.example"), "is not an absolute http or https URL");
    EXPECT_EQ(problem("https://op.example/#"), "contains a fragment");
    EXPECT_EQ(problem("https://op.example/ x"),
              "contains whitespace, control or non-ASCII characters");
    EXPECT_EQ(problem("https://a@op.example"), "contains user information");
    EXPECT_EQ(problem("https:///x"), "has an empty host");
    EXPECT_EQ(problem("https://?x"), "has an empty host");
    EXPECT_EQ(problem("https://[]/"), "has an empty host");
    EXPECT_EQ(problem("https://op.example:/"), "has an invalid port");
    EXPECT_EQ(problem("https://op.example:65536/"), "has an invalid port");
    EXPECT_EQ(problem("https://op.example:123456/"), "has an invalid port");
    EXPECT_EQ(problem("https://op.example:1:2/"), "has an invalid port");
    EXPECT_EQ(problem("https://op.example\\evil.example/"), "has an invalid host");
    EXPECT_EQ(problem("https://[::1]x/"), "has an invalid host");
    EXPECT_EQ(problem("https://[::g]/"), "has an invalid host");
}

TEST(UrlTest, AcceptsHighestPort) {
    EXPECT_EQ(problem("https://op.example:65535/"), "ok");
    EXPECT_EQ(problem("https://op.example:1/"), "ok");
}

}  // namespace
}  // namespace auth_oidc
