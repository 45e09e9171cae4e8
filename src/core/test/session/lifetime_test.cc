#include "session/lifetime.h"

#include <gtest/gtest.h>

namespace auth_oidc {
namespace {

constexpr std::int64_t kNow = 1700000000;

// Tokens obtained at refreshed, the access token expiring at access and the
// ID token at id (0: unknown).
SessionFields tokens(std::int64_t refreshed, std::int64_t access, std::int64_t id,
                     std::string_view refreshToken = "rt") {
    SessionFields s;
    s.sub = "user-1";
    s.refreshToken = refreshToken;
    s.refreshed = refreshed;
    s.accessTokenExpires = access;
    s.idTokenExpires = id;
    return s;
}

TEST(TokenStateTest, ValidDueExpiredAroundTheMargin) {
    // obtained 1000 s ago, 1000 s to go: a margin of 60 s is not capped
    const SessionFields s = tokens(kNow - 1000, kNow + 1000, 0);
    EXPECT_EQ(tokenState(s, kNow, 60), TokenState::Valid);
    EXPECT_EQ(tokenState(s, kNow + 939, 60), TokenState::Valid);
    EXPECT_EQ(tokenState(s, kNow + 940, 60), TokenState::Due);
    EXPECT_EQ(tokenState(s, kNow + 999, 60), TokenState::Due);
    EXPECT_EQ(tokenState(s, kNow + 1000, 60), TokenState::Expired);
    EXPECT_EQ(tokenState(s, kNow + 5000, 60), TokenState::Expired);
    // margin 0: Valid up to the expiry itself
    EXPECT_EQ(tokenState(s, kNow + 999, 0), TokenState::Valid);
    // a negative margin counts as none
    EXPECT_EQ(tokenState(s, kNow + 999, -100), TokenState::Valid);
}

TEST(TokenStateTest, TheEarlierExpiryCounts) {
    // the ID token expires first
    const SessionFields id = tokens(kNow - 1000, kNow + 1000, kNow + 100);
    EXPECT_EQ(tokenState(id, kNow, 60), TokenState::Valid);
    EXPECT_EQ(tokenState(id, kNow + 40, 60), TokenState::Due);
    EXPECT_EQ(tokenState(id, kNow + 100, 60), TokenState::Expired);
    // the access token expires first
    const SessionFields access = tokens(kNow - 1000, kNow + 100, kNow + 1000);
    EXPECT_EQ(tokenState(access, kNow + 40, 60), TokenState::Due);
    EXPECT_EQ(tokenState(access, kNow + 100, 60), TokenState::Expired);
    // only one known
    EXPECT_EQ(tokenState(tokens(kNow - 1000, 0, kNow - 1), kNow, 60), TokenState::Expired);
    EXPECT_EQ(tokenState(tokens(kNow - 1000, kNow - 1, 0), kNow, 60), TokenState::Expired);
}

TEST(TokenStateTest, MarginCappedAtHalfTheLifetime) {
    // a 20 s token: a 60 s margin would refresh at every request
    const SessionFields s = tokens(kNow, kNow + 20, 0);
    EXPECT_EQ(tokenState(s, kNow, 60), TokenState::Valid);
    EXPECT_EQ(tokenState(s, kNow + 9, 60), TokenState::Valid);
    EXPECT_EQ(tokenState(s, kNow + 10, 60), TokenState::Due);
    EXPECT_EQ(tokenState(s, kNow + 20, 60), TokenState::Expired);
    // odd lifetime: half rounded down (21 / 2 = 10)
    const SessionFields odd = tokens(kNow, kNow + 21, 0);
    EXPECT_EQ(tokenState(odd, kNow + 10, 60), TokenState::Valid);
    EXPECT_EQ(tokenState(odd, kNow + 11, 60), TokenState::Due);
    // a margin under half the lifetime is kept as it is
    EXPECT_EQ(tokenState(s, kNow + 14, 5), TokenState::Valid);
    EXPECT_EQ(tokenState(s, kNow + 15, 5), TokenState::Due);
    // refreshed at or after the expiry (clock jumps): no cap
    const SessionFields odd2 = tokens(kNow + 50, kNow + 20, 0);
    EXPECT_EQ(tokenState(odd2, kNow - 40, 60), TokenState::Due);
    EXPECT_EQ(tokenState(odd2, kNow - 41, 60), TokenState::Valid);
}

TEST(TokenStateTest, NoRefreshTokenOrNoExpiryIsValid) {
    // without a refresh token the session ends with its tokens instead
    EXPECT_EQ(tokenState(tokens(kNow - 1000, kNow - 500, kNow - 500, ""), kNow, 60),
              TokenState::Valid);
    EXPECT_EQ(tokenState(tokens(kNow - 1000, kNow + 10, 0, ""), kNow, 60),
              TokenState::Valid);
    // no expiry known
    EXPECT_EQ(tokenState(tokens(kNow - 1000, 0, 0), kNow, 60), TokenState::Valid);
    EXPECT_EQ(tokenState(tokens(kNow - 1000, -5, -5), kNow, 60), TokenState::Valid);
}

TEST(SessionExpiryTest, TimeoutWithRefreshToken) {
    EXPECT_EQ(sessionExpiry(kNow, 3600, kNow + 300, true), kNow + 3600);
    EXPECT_EQ(sessionExpiry(kNow, 3600, 0, true), kNow + 3600);
    EXPECT_EQ(sessionExpiry(kNow, 3600, kNow + 7200, true), kNow + 3600);
}

TEST(SessionExpiryTest, NeverAfterTheIdTokenWithoutRefreshToken) {
    EXPECT_EQ(sessionExpiry(kNow, 3600, kNow + 300, false), kNow + 300);
    EXPECT_EQ(sessionExpiry(kNow, 3600, kNow + 7200, false), kNow + 3600);
    EXPECT_EQ(sessionExpiry(kNow, 3600, kNow + 3600, false), kNow + 3600);
    // unknown ID token expiry: the timeout alone
    EXPECT_EQ(sessionExpiry(kNow, 3600, 0, false), kNow + 3600);
    EXPECT_EQ(sessionExpiry(kNow, 3600, -1, false), kNow + 3600);
}

}  // namespace
}  // namespace auth_oidc
