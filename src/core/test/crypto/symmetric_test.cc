#include "crypto/symmetric.h"

#include <openssl/err.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace auth_oidc {
namespace {

std::vector<unsigned char> fromHex(std::string_view hex) {
    std::vector<unsigned char> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<unsigned char>(
            std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

std::string_view asView(const std::vector<unsigned char> &bytes) {
    return std::string_view(reinterpret_cast<const char *>(bytes.data()), bytes.size());
}

// RFC 5869, appendix A.1 and A.3 (SHA-256).
TEST(SymmetricTest, HkdfMatchesRfc5869) {
    const std::vector<unsigned char> ikm(22, 0x0b);
    const auto salt = fromHex("000102030405060708090a0b0c");
    const auto info = fromHex("f0f1f2f3f4f5f6f7f8f9");
    std::vector<unsigned char> okm(42);
    ASSERT_TRUE(hkdfSha256(asView(ikm), asView(salt), asView(info), okm.data(), okm.size()));
    EXPECT_EQ(okm, fromHex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                           "34007208d5b887185865"));

    // No salt, no info: the form the keyring uses (with an info).
    ASSERT_TRUE(hkdfSha256(asView(ikm), {}, {}, okm.data(), okm.size()));
    EXPECT_EQ(okm, fromHex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                           "9d201395faa4b61a96c8"));
}

// RFC 4231, test case 2; the parts are concatenated.
TEST(SymmetricTest, HmacMatchesRfc4231) {
    const std::string key = "Jefe";
    unsigned char mac[kSha256Length];
    ASSERT_TRUE(hmacSha256(reinterpret_cast<const unsigned char *>(key.data()), key.size(),
                           {"what do ya ", "want ", "", "for nothing?"}, mac));
    EXPECT_EQ(std::vector<unsigned char>(mac, mac + sizeof(mac)),
              fromHex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

// The GCM specification (McGrew and Viega), test cases 13 and 14.
TEST(SymmetricTest, GcmMatchesSpecVectors) {
    const std::vector<unsigned char> key(32, 0);
    const std::vector<unsigned char> nonce(12, 0);
    unsigned char tag[kGcmTagLength];
    ASSERT_EQ(aes256GcmEncrypt(key.data(), nonce.data(), {}, nullptr, 0, nullptr, tag),
              GcmResult::Ok);
    EXPECT_EQ(std::vector<unsigned char>(tag, tag + sizeof(tag)),
              fromHex("530f8afbc74536b9a963b4f1c4cb738b"));

    const std::vector<unsigned char> plain(16, 0);
    std::vector<unsigned char> cipher(16);
    ASSERT_EQ(aes256GcmEncrypt(key.data(), nonce.data(), {}, plain.data(), plain.size(),
                               cipher.data(), tag),
              GcmResult::Ok);
    EXPECT_EQ(cipher, fromHex("cea7403d4d606b6e074ec5d3baf39d18"));
    EXPECT_EQ(std::vector<unsigned char>(tag, tag + sizeof(tag)),
              fromHex("d0d1c8a799996bf0265b98b5d48ab919"));

    std::vector<unsigned char> back(16, 0xAA);
    EXPECT_EQ(aes256GcmDecrypt(key.data(), nonce.data(), {}, cipher.data(), cipher.size(), tag,
                               back.data()),
              GcmResult::Ok);
    EXPECT_EQ(back, plain);
}

TEST(SymmetricTest, GcmAadPartsAreConcatenatedAndAuthenticated) {
    const std::vector<unsigned char> key(32, 7);
    const std::vector<unsigned char> nonce(12, 9);
    const std::string plain = "plaintext";
    std::vector<unsigned char> cipher(plain.size());
    unsigned char tag[kGcmTagLength];
    ASSERT_EQ(aes256GcmEncrypt(key.data(), nonce.data(), {"head", "er"},
                               reinterpret_cast<const unsigned char *>(plain.data()),
                               plain.size(), cipher.data(), tag),
              GcmResult::Ok);
    std::vector<unsigned char> back(plain.size());
    EXPECT_EQ(aes256GcmDecrypt(key.data(), nonce.data(), {"", "header"}, cipher.data(),
                               cipher.size(), tag, back.data()),
              GcmResult::Ok);
    EXPECT_EQ(asView(back), plain);
    EXPECT_EQ(aes256GcmDecrypt(key.data(), nonce.data(), {"headex"}, cipher.data(),
                               cipher.size(), tag, back.data()),
              GcmResult::Mismatch);
    EXPECT_EQ(ERR_peek_error(), 0u);
    tag[0] ^= 1;
    EXPECT_EQ(aes256GcmDecrypt(key.data(), nonce.data(), {"header"}, cipher.data(),
                               cipher.size(), tag, back.data()),
              GcmResult::Mismatch);
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(SymmetricTest, SecretBytesMoveLeavesSourceEmpty) {
    SecretBytes a(5);
    a.data()[0] = 'x';
    SecretBytes b = std::move(a);
    EXPECT_EQ(b.size(), 5u);
    EXPECT_EQ(b.view()[0], 'x');
    SecretBytes c(2);
    c = std::move(b);
    EXPECT_EQ(c.size(), 5u);
    EXPECT_TRUE(SecretBytes().empty());
}

}  // namespace
}  // namespace auth_oidc
