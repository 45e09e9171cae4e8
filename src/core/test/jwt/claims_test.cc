#include "jwt/claims.h"

#include <string>

#include <gtest/gtest.h>

namespace auth_oidc {
namespace {

// {"sub":"u1","name":"Jane \"JD\" Doe","email_verified":true,"age":42,
//  "score":0.1,"groups":["a","b"],"address":{"country":"NL"},"gone":null,
//  "evil":"x\r\nX-Admin: 1","exp":1700000300.75,"iat":"1700000000"}
constexpr const char *kClaims =
    R"({"sub":"u1","name":"Jane \"JD\" Doe","email_verified":true,"age":42,)"
    R"("score":0.1,"groups":["a","b"],"address":{"country":"NL"},"gone":null,)"
    R"("evil":"x\r\nX-Admin: 1","exp":1700000300.75,"iat":"1700000000"})";

std::string rendered(const Claims &claims, std::string_view name) {
    const auto text = claims.render(name);
    EXPECT_TRUE(text.ok()) << text.detail();
    return text.value() ? *text.value() : std::string("<absent>");
}

TEST(ClaimsTest, RendersEveryJsonType) {
    const auto claims = Claims::parse(kClaims);
    ASSERT_TRUE(claims.ok()) << claims.detail();
    const Claims &c = claims.value();
    EXPECT_EQ(rendered(c, "sub"), "u1");
    EXPECT_EQ(rendered(c, "name"), "Jane \"JD\" Doe");
    EXPECT_EQ(rendered(c, "email_verified"), "true");
    EXPECT_EQ(rendered(c, "age"), "42");
    EXPECT_EQ(rendered(c, "score"), "0.1");
    EXPECT_EQ(rendered(c, "groups"), R"(["a","b"])");
    EXPECT_EQ(rendered(c, "address"), R"({"country":"NL"})");
    EXPECT_EQ(rendered(c, "gone"), "<absent>");
    EXPECT_EQ(rendered(c, "missing"), "<absent>");
    EXPECT_EQ(rendered(c, ""), "<absent>");
    EXPECT_EQ(rendered(c, std::string_view()), "<absent>");
}

TEST(ClaimsTest, ControlBytesCannotSplitHeaders) {
    const auto claims = Claims::parse(kClaims);
    ASSERT_TRUE(claims.ok());
    EXPECT_EQ(rendered(claims.value(), "evil"), "x  X-Admin: 1");
    // Inside JSON output jansson escapes them already.
    const auto nested = Claims::parse(R"({"a":["x\ny\u007f"]})");
    ASSERT_TRUE(nested.ok());
    EXPECT_EQ(rendered(nested.value(), "a"), "[\"x\\ny \"]");
}

TEST(ClaimsTest, NumericDatesAndStrings) {
    const auto claims = Claims::parse(kClaims);
    ASSERT_TRUE(claims.ok());
    const Claims &c = claims.value();
    EXPECT_EQ(c.numericDate("exp"), std::optional<std::int64_t>(1700000300));
    EXPECT_EQ(c.numericDate("iat"), std::nullopt);
    EXPECT_EQ(c.numericDate("sub"), std::nullopt);
    EXPECT_EQ(c.string("sub"), std::optional<std::string_view>("u1"));
    EXPECT_EQ(c.string("age"), std::nullopt);
}

TEST(ClaimsTest, KeepsMemberOrderInCompactJson) {
    const auto claims = Claims::parse("{ \"z\" : 1,\n \"a\" : [ 1, 2 ] }");
    ASSERT_TRUE(claims.ok());
    EXPECT_EQ(claims.value().json(), R"({"z":1,"a":[1,2]})");
}

TEST(ClaimsTest, NamesAreViewsNotCStrings) {
    const auto claims = Claims::parse(R"({"ab":"two","a":"one"})");
    ASSERT_TRUE(claims.ok()) << claims.detail();
    // Only len bytes count, and an embedded NUL does not end the name.
    EXPECT_EQ(rendered(claims.value(), std::string_view("abc", 1)), "one");
    EXPECT_EQ(rendered(claims.value(), std::string_view("ab", 2)), "two");
    EXPECT_EQ(rendered(claims.value(), std::string_view("a\0b", 3)), "<absent>");
}

TEST(ClaimsTest, RejectsNonObjects) {
    EXPECT_EQ(Claims::parse("[]").status(), Status::Json);
    EXPECT_EQ(Claims::parse("").status(), Status::Json);
    EXPECT_EQ(Claims::parse(R"({"a":1,"a":2})").status(), Status::Json);
    EXPECT_EQ(Claims::parse(std::string(Claims::kMaxDocumentBytes + 1, ' ')).status(),
              Status::TooLarge);
}

}  // namespace
}  // namespace auth_oidc
