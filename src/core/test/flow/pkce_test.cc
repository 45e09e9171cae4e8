#include "flow/pkce.h"

#include <string>

#include <gtest/gtest.h>

namespace auth_oidc {
namespace {

TEST(PkceTest, MatchesRfc7636AppendixB) {
    EXPECT_EQ(pkceS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
              std::optional<std::string>("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
}

TEST(PkceTest, VerifierLengthAndAlphabet) {
    EXPECT_TRUE(isValidCodeVerifier(std::string(43, 'a')));
    EXPECT_TRUE(isValidCodeVerifier(std::string(128, '~')));
    EXPECT_TRUE(isValidCodeVerifier("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789-._~"));
    EXPECT_FALSE(isValidCodeVerifier(std::string(42, 'a')));
    EXPECT_FALSE(isValidCodeVerifier(std::string(129, 'a')));
    EXPECT_FALSE(isValidCodeVerifier(std::string(42, 'a') + "+"));
    EXPECT_FALSE(isValidCodeVerifier(std::string(42, 'a') + "="));
    EXPECT_FALSE(isValidCodeVerifier(std::string(42, 'a') + " "));
    EXPECT_FALSE(pkceS256(std::string(42, 'a')));
    EXPECT_EQ(pkceS256(std::string(43, 'a'))->size(), kCodeChallengeLength);
}

}  // namespace
}  // namespace auth_oidc
