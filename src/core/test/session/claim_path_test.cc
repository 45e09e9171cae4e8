#include "session/claim_path.h"

#include <string>

#include <gtest/gtest.h>

#include "common/base64url.h"

// Claims of any shape, read from an ID token's payload (not verified here:
// the session's token was validated at login) and the userinfo answer.

namespace auth_oidc {
namespace {

std::string unsignedToken(const std::string &payload) {
    return encodeBase64Url(R"({"alg":"RS256"})") + "." + encodeBase64Url(payload) +
           "." + encodeBase64Url("sig");
}

const std::string kToken = unsignedToken(
    R"({"sub":"u","realm_access":{"roles":["admin","user"]},)"
    R"("groups":["x,admins","ops",null,7],"n":3,"flag":true,"empty":[],)"
    R"("address":{"country":"FR"},"nothing":null})");

ClaimSources sources(std::string_view userinfo = {}) {
    auto parsed = parseClaimSources(kToken, userinfo);
    EXPECT_TRUE(parsed) << parsed.detail();
    return parsed ? std::move(parsed).value() : ClaimSources();
}

std::optional<std::string> at(std::vector<std::string_view> path,
                              std::string_view userinfo = {}) {
    auto value = claimAtPath(sources(userinfo), path);
    EXPECT_TRUE(value) << value.detail();
    return value ? value.value() : std::nullopt;
}

TEST(ClaimPathTest, NestedMembersArraysAndScalars) {
    EXPECT_EQ(at({"realm_access", "roles"}), "admin,user");
    EXPECT_EQ(at({"realm_access", "roles", "1"}), "user");
    EXPECT_EQ(at({"address", "country"}), "FR");
    EXPECT_EQ(at({"address"}), R"({"country":"FR"})");
    EXPECT_EQ(at({"groups"}), "x,admins,ops,7");
    EXPECT_EQ(at({"n"}), "3");
    EXPECT_EQ(at({"flag"}), "true");
    EXPECT_EQ(at({"empty"}), "");
}

TEST(ClaimPathTest, AbsentNullAndWrongShapes) {
    EXPECT_EQ(at({"nothing"}), std::nullopt);
    EXPECT_EQ(at({"missing"}), std::nullopt);
    EXPECT_EQ(at({"realm_access", "roles", "9"}), std::nullopt);
    EXPECT_EQ(at({"realm_access", "roles", "x"}), std::nullopt);
    EXPECT_EQ(at({"n", "deeper"}), std::nullopt);
    EXPECT_EQ(at({"realm_access", "roles", "99999999999"}), std::nullopt);
}

TEST(ClaimPathTest, UserinfoForWhatTheIdTokenLacks) {
    EXPECT_EQ(at({"nickname"}, R"({"sub":"u","nickname":"nick","n":9})"), "nick");
    EXPECT_EQ(at({"n"}, R"({"sub":"u","n":9})"), "3");  // the ID token wins
}

TEST(ClaimPathTest, MembershipIsExact) {
    EXPECT_TRUE(claimHas(sources(), {"realm_access", "roles"}, "admin"));
    EXPECT_TRUE(claimHas(sources(), {"groups"}, "x,admins"));
    EXPECT_FALSE(claimHas(sources(), {"groups"}, "admins"));
    EXPECT_FALSE(claimHas(sources(), {"groups"}, "7"));  // a number is no string
    EXPECT_TRUE(claimHas(sources(), {"address", "country"}, "FR"));
    EXPECT_FALSE(claimHas(sources(), {"address"}, "FR"));
    EXPECT_FALSE(claimHas(sources(), {"missing"}, "x"));
}

TEST(ClaimPathTest, UnreadableTokenIsAnError) {
    EXPECT_FALSE(parseClaimSources("not a token", {}));
    EXPECT_FALSE(claimHas(ClaimSources(), {"sub"}, "u"));
}

}  // namespace
}  // namespace auth_oidc
