#include "flow/step_up.h"

#include <gtest/gtest.h>

namespace auth_oidc {
namespace {

constexpr std::int64_t kNow = 1700000000;

TEST(StepUpTest, NothingAskedIsAlwaysMet) {
    EXPECT_FALSE(stepUpUnmet(std::nullopt, std::nullopt, StepUp{}, kNow, 0));
}

TEST(StepUpTest, TheAcrMustBeOneAskedFor) {
    const StepUp want{"gold silver", -1};
    EXPECT_FALSE(stepUpUnmet("silver", std::nullopt, want, kNow, 0));
    EXPECT_TRUE(stepUpUnmet("bronze", std::nullopt, want, kNow, 0));
    EXPECT_TRUE(stepUpUnmet("gold silver", std::nullopt, want, kNow, 0));
    EXPECT_TRUE(stepUpUnmet("", std::nullopt, want, kNow, 0));
    EXPECT_TRUE(stepUpUnmet(std::nullopt, std::nullopt, want, kNow, 0));
    EXPECT_TRUE(stepUpUnmet("gol", std::nullopt, want, kNow, 0));
}

TEST(StepUpTest, MaxAgeNeedsARecentAuthTime) {
    const StepUp want{"", 300};
    EXPECT_FALSE(stepUpUnmet(std::nullopt, kNow - 300, want, kNow, 0));
    EXPECT_TRUE(stepUpUnmet(std::nullopt, kNow - 301, want, kNow, 0));
    EXPECT_FALSE(stepUpUnmet(std::nullopt, kNow - 330, want, kNow, 30));
    EXPECT_TRUE(stepUpUnmet(std::nullopt, std::nullopt, want, kNow, 0));
    EXPECT_TRUE(stepUpUnmet(std::nullopt, kNow + 120, want, kNow, 60));
    // max_age=0: the login must have just happened (the leeway's worth)
    EXPECT_FALSE(stepUpUnmet(std::nullopt, kNow - 5, StepUp{"", 0}, kNow, 10));
}

TEST(StepUpTest, AuthTimeAsTheClaimTableHasIt) {
    EXPECT_EQ(parseAuthTime("1700000000"), 1700000000);
    EXPECT_EQ(parseAuthTime("1700000000.75"), 1700000000);
    EXPECT_FALSE(parseAuthTime(""));
    EXPECT_FALSE(parseAuthTime("-5"));
    EXPECT_FALSE(parseAuthTime("\"1700000000\""));
    EXPECT_FALSE(parseAuthTime("1e9"));
    EXPECT_FALSE(parseAuthTime("9999999999999999999999"));
}

}  // namespace
}  // namespace auth_oidc
