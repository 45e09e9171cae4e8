#include "common/text.h"

#include <string>

#include <gtest/gtest.h>

namespace auth_oidc {
namespace {

TEST(TextTest, QuotesPlainValues) {
    EXPECT_EQ(quoteForDetail("https://op.example"), "\"https://op.example\"");
    EXPECT_EQ(quoteForDetail(""), "\"\"");
}

TEST(TextTest, EscapesQuotesBackslashesAndControlBytes) {
    EXPECT_EQ(quoteForDetail("a\"b\\c"), R"("a\"b\\c")");
    EXPECT_EQ(quoteForDetail("a\r\nb\x7f"), R"("a\x0d\x0ab\x7f")");
    EXPECT_EQ(quoteForDetail("\xc3\xa9"), R"("\xc3\xa9")");
    EXPECT_EQ(quoteForDetail(std::string_view("a\0b", 3)), R"("a\x00b")");
}

TEST(TextTest, TruncatesLongValues) {
    EXPECT_EQ(quoteForDetail(std::string(150, 'a')),
              "\"" + std::string(kDetailValueMax, 'a') + "...\"");
    EXPECT_EQ(quoteForDetail("abcdef", 3), "\"abc...\"");
    EXPECT_EQ(quoteForDetail("abc", 3), "\"abc\"");
}

TEST(TextTest, PrintableKeepsQuotesButEscapesControlBytes) {
    EXPECT_EQ(printableForDetail(R"(near '"a\u0000"')", 100), R"(near '"a\u0000"')");
    EXPECT_EQ(printableForDetail("a\nb\xff", 100), R"(a\x0ab\xff)");
    EXPECT_EQ(printableForDetail("abcdef", 4), "abcd...");
}

}  // namespace
}  // namespace auth_oidc
