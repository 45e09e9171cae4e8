#include "jwt/issuer.h"

#include <gtest/gtest.h>

#include "jwt/claims.h"

namespace auth_oidc {
namespace {

constexpr std::string_view kTemplate = "https://login.example/{tenantid}/v2.0";

Claims claims(const std::string &json) {
    auto parsed = Claims::parse(json);
    EXPECT_TRUE(parsed) << parsed.detail();
    return std::move(parsed).value();
}

TEST(IssuerTest, AFixedIssuerMatchesExactly) {
    EXPECT_TRUE(checkIssuer(claims(R"({"iss":"https://op"})"), "https://op"));
    EXPECT_EQ(checkIssuer(claims(R"({"iss":"https://op/"})"), "https://op").status(), Status::Issuer);
    EXPECT_EQ(checkIssuer(claims(R"({"iss":1})"), "https://op").status(), Status::Field);
    // a fixed issuer ignores "tid"
    EXPECT_EQ(checkIssuer(claims(R"({"iss":"https://op","tid":"x"})"), "https://op/x").status(),
              Status::Issuer);
}

// A template takes the issuer of the token's own tenant, and only that.
TEST(IssuerTest, ATemplateTakesTheIssuerOfTheTokensTenant) {
    EXPECT_TRUE(isIssuerTemplate(kTemplate));
    EXPECT_FALSE(isIssuerTemplate("https://login.example/common/v2.0"));
    const std::string tid = "9188040d-6c67-4c5b-b112-36a304b66dad";
    EXPECT_TRUE(checkIssuer(
        claims(R"({"iss":"https://login.example/)" + tid + R"(/v2.0","tid":")" + tid + R"("})"),
        kTemplate));
    // another tenant's issuer, the template itself, no tid, a tid that is no id
    const auto refused = [](const std::string &json) {
        const auto r = checkIssuer(claims(json), kTemplate);
        EXPECT_EQ(r.status(), Status::Issuer) << json;
        return r.ok() ? std::string() : r.detail();
    };
    EXPECT_NE(refused(R"({"iss":"https://login.example/other/v2.0","tid":")" + tid + R"("})")
                  .find("for its \"tid\""),
              std::string::npos);
    refused(R"({"iss":"https://login.example/{tenantid}/v2.0","tid":"{tenantid}"})");
    refused(R"({"iss":"https://login.example/{tenantid}/v2.0"})");
    refused(R"({"iss":"https://login.example/a/b/v2.0","tid":"a/b"})");
    refused(R"({"iss":"https://login.example//v2.0","tid":""})");
    refused(R"({"iss":"https://login.example/x/v2.0","tid":["x"]})");
}

TEST(IssuerTest, AnAuthorizationResponsesIssMatchesAnyTenant) {
    EXPECT_TRUE(issuerMatches("https://op", "https://op"));
    EXPECT_FALSE(issuerMatches("https://op", "https://op/"));
    EXPECT_TRUE(issuerMatches(kTemplate, "https://login.example/abc-123/v2.0"));
    EXPECT_FALSE(issuerMatches(kTemplate, "https://login.example//v2.0"));
    EXPECT_FALSE(issuerMatches(kTemplate, "https://login.example/a/b/v2.0"));
    EXPECT_FALSE(issuerMatches(kTemplate, "https://evil.example/abc/v2.0"));
    EXPECT_FALSE(issuerMatches(kTemplate, "https://login.example/abc/v2.0/x"));
    EXPECT_FALSE(issuerMatches(kTemplate, std::string(kTemplate)));
    EXPECT_EQ(issuerOfTenant(kTemplate, "t1"), "https://login.example/t1/v2.0");
}

}  // namespace
}  // namespace auth_oidc
