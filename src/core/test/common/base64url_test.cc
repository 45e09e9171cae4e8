#include "common/base64url.h"

#include <string>

#include <gtest/gtest.h>

namespace auth_oidc {
namespace {

std::string decoded(std::string_view in) {
    const auto out = decodeBase64Url(in);
    return out ? std::string(out->begin(), out->end()) : std::string("<invalid>");
}

TEST(Base64UrlTest, DecodesRfc4648Vectors) {
    EXPECT_EQ(decoded(""), "");
    EXPECT_EQ(decoded("Zg"), "f");
    EXPECT_EQ(decoded("Zm8"), "fo");
    EXPECT_EQ(decoded("Zm9v"), "foo");
    EXPECT_EQ(decoded("Zm9vYg"), "foob");
    EXPECT_EQ(decoded("Zm9vYmE"), "fooba");
    EXPECT_EQ(decoded("Zm9vYmFy"), "foobar");
}

TEST(Base64UrlTest, UsesUrlSafeAlphabet) {
    EXPECT_EQ(decoded("-_8"), "\xfb\xff");
    EXPECT_EQ(decoded("+/8"), "<invalid>");
}

TEST(Base64UrlTest, RejectsPaddingWhitespaceAndJunk) {
    for (const char *in : {"Zg==", "Zm8=", "Zm 9v", "Zm9v\n", "Z", "Zm9vY", "Zm9v!",
                           "=", "Zm\0v"}) {
        EXPECT_EQ(decoded(in), "<invalid>") << in;
    }
    EXPECT_EQ(decoded(std::string_view("Zm\0v", 4)), "<invalid>");
}

TEST(Base64UrlTest, RejectsNonCanonicalTrailingBits) {
    // "Zh" and "Zm9" carry non-zero bits past the last whole byte.
    EXPECT_EQ(decoded("Zh"), "<invalid>");
    EXPECT_EQ(decoded("Zm9"), "<invalid>");
}

}  // namespace
}  // namespace auth_oidc
