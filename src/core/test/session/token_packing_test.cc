#include "session/token_packing.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/base64url.h"

namespace auth_oidc {
namespace {

std::string randomBytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string out(n, '\0');
    for (char &c : out) {
        c = static_cast<char>(rng() & 0xff);
    }
    return out;
}

std::string unpack(std::string_view packed) {
    std::string out;
    EXPECT_TRUE(unpackTokenTo(packed, out));
    return out;
}

// A JWS of realistic size: 1.5 KB of text, 1.1 KB packed.
TEST(TokenPackingTest, AJwsKeepsItsBytes) {
    const std::string header = R"({"alg":"RS256","typ":"JWT","kid":"k1"})";
    const std::string jws = encodeBase64Url(header) + "." +
        encodeBase64Url(randomBytes(800, 1)) + "." +
        encodeBase64Url(randomBytes(256, 2));
    const std::string packed = packToken(jws);
    ASSERT_FALSE(packed.empty());
    EXPECT_EQ(static_cast<unsigned char>(packed[0]), kPackedJws);
    // form byte, 1 + 2 length bytes, the three parts' bytes
    EXPECT_EQ(packed.size(), 1 + 1 + 2 + header.size() + 800 + 256);
    EXPECT_EQ(unpack(packed), jws);
}

TEST(TokenPackingTest, OpaqueBase64UrlTokensKeepTheirBytes) {
    for (std::size_t n : {1u, 2u, 3u, 32u, 600u}) {
        const std::string token = encodeBase64Url(randomBytes(n, n));
        const std::string packed = packToken(token);
        EXPECT_EQ(static_cast<unsigned char>(packed[0]), kPackedBase64) << n;
        EXPECT_EQ(packed.size(), 1 + n);
        EXPECT_EQ(unpack(packed), token);
    }
}

// Whatever would not come back byte for byte stays text: padding, the
// standard alphabet, non-zero leftover bits, a JWE's five parts, spaces.
TEST(TokenPackingTest, AnythingElseStaysText) {
    for (const std::string &token : std::vector<std::string>{
             "YQ==", "a+b/", "SlAV32hkKG", "a.b.c.d.e", "a b", "x",
          "eyJh.eyJh", "ey!.e30.c2ln", "e30.e30.c2ln.", "2YotnFZFEjr1zCsicMWpAA=",
          std::string("nul\0byte", 8)}) {
        const std::string packed = packToken(token);
        ASSERT_FALSE(packed.empty()) << token;
        EXPECT_EQ(static_cast<unsigned char>(packed[0]), kPackedText) << token;
        EXPECT_EQ(unpack(packed), token);
    }
}

TEST(TokenPackingTest, EmptyPartsOfAJwsRoundTrip) {
    for (const std::string token : {"..", "e30..", ".e30.c2ln", "e30.e30."}) {
        const std::string packed = packToken(token);
        EXPECT_EQ(static_cast<unsigned char>(packed[0]), kPackedJws) << token;
        EXPECT_EQ(unpack(packed), token);
    }
}

TEST(TokenPackingTest, TheEmptyTokenPacksToNothing) {
    EXPECT_EQ(packToken(""), "");
    EXPECT_EQ(unpack(""), "");
}

TEST(TokenPackingTest, MalformedPackedFormsAreRefused) {
    std::string out;
    EXPECT_FALSE(unpackTokenTo(std::string("\x03" "abc"), out));
    EXPECT_FALSE(unpackTokenTo(std::string("\x02\x05" "ab", 4), out));
    EXPECT_FALSE(unpackTokenTo(std::string("\x02\x01" "a\x09", 4), out));
    EXPECT_FALSE(unpackTokenTo(std::string("\x02\xff\xff", 3), out));
    EXPECT_FALSE(unpackTokenTo(std::string("\x02", 1), out));
    // text that would have been packed, and empty text: not the one form
    EXPECT_FALSE(unpackTokenTo(std::string("\x00" "e30.e30.c2ln", 13), out));
    EXPECT_FALSE(unpackTokenTo(std::string("\x00" "YWJj", 5), out));
    EXPECT_FALSE(unpackTokenTo(std::string("\x00", 1), out));
    EXPECT_TRUE(unpackTokenTo(std::string("\x00" "a b", 4), out));
}

// Every byte string unpacks to something or is refused, never past its end.
TEST(TokenPackingTest, SurvivesGarbage) {
    std::mt19937 rng(7);
    for (int i = 0; i < 2000; ++i) {
        std::string garbage = randomBytes(rng() % 40, rng());
        if (!garbage.empty()) {
            garbage[0] = static_cast<char>(rng() % 4);
        }
        std::string out;
        (void) unpackTokenTo(garbage, out);
    }
}

}  // namespace
}  // namespace auth_oidc

namespace auth_oidc {
namespace {

// A JWS part's length is read as strictly as the record's: a padded
// (non-minimal) length is another encoding of the same token, refused.
TEST(TokenPackingTest, APaddedLengthIsRefused) {
    const std::string packed = packToken("e30.e30.c2ln");
    ASSERT_EQ(static_cast<unsigned char>(packed[0]), kPackedJws);
    ASSERT_EQ(packed[1], '\x02');
    std::string padded = packed;
    padded.replace(1, 1, std::string("\x82\x00", 2));
    std::string out;
    EXPECT_FALSE(unpackTokenTo(padded, out));
    EXPECT_FALSE(validPackedToken(padded));
    EXPECT_TRUE(validPackedToken(packed));
}

}  // namespace
}  // namespace auth_oidc
