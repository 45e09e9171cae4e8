#include "session/keyring.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace auth_oidc {
namespace {

constexpr std::string_view kCurrent = "current secret: at least 32 bytes of anything";
constexpr std::string_view kPrevious = "previous secret, also 32 bytes or more";

std::string fromHex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out += static_cast<char>(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16));
    }
    return out;
}

std::string toHex(const unsigned char *data, std::size_t len) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < len; ++i) {
        out += kDigits[data[i] >> 4];
        out += kDigits[data[i] & 0x0f];
    }
    return out;
}

Keyring make(std::string_view current, std::string_view previous = {}) {
    auto keyring = Keyring::create(current, previous);
    EXPECT_TRUE(keyring.ok()) << keyring.detail();
    return std::move(keyring).value();
}

std::string lookup(const Keyring &keyring, std::string_view kind, std::string_view id,
                   bool previous = false) {
    char out[Keyring::kLookupKeyLength];
    if (!keyring.lookupKey(kind, id, previous, out)) {
        return "<none>";
    }
    return std::string(out, sizeof(out));
}

const unsigned char kNonce[kGcmNonceLength] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

// Computed independently (Python: cryptography's HKDF and AESGCM, hmac):
// the derivation and the record layout are what the header documents, and
// stay readable across versions and hosts.
TEST(KeyringTest, KnownAnswers) {
    const Keyring current = make(kCurrent);
    EXPECT_EQ(toHex(current.keyId(false).data(), Keyring::kKeyIdLength), "a2b28b5f");
    EXPECT_EQ(lookup(current, "s", "session-id-1"), "JnxF3ODQAjZLLPyhBY5Z_fvRHxUZeXZ-cOvpcmsml7o");
    const std::string aad = "oidc:s:JnxF3ODQAjZLLPyhBY5Z_fvRHxUZeXZ-cOvpcmsml7o";
    const auto sealed = current.seal(aad, "hello, record", kNonce);
    ASSERT_TRUE(sealed.ok()) << sealed.detail();
    EXPECT_EQ(sealed.value(),
              fromHex("01a2b28b5f000102030405060708090a0ba4ea89d91c420826e56a102cb8d07436a9"
                      "63902d3fb79ce98c4730e32f"));

    const Keyring previous = make(kPrevious);
    EXPECT_EQ(toHex(previous.keyId(false).data(), Keyring::kKeyIdLength), "2ea42d93");
    EXPECT_EQ(lookup(previous, "s", "session-id-1"),
              "wmtAQf_lUYF1x6lOBX4ZsNFkRLkp2StvRWgQrJCIlKI");
}

TEST(KeyringTest, DerivationIsDeterministic) {
    const Keyring a = make(kCurrent);
    const Keyring b = make(std::string(kCurrent));
    EXPECT_EQ(lookup(a, "s", "id"), lookup(b, "s", "id"));
    EXPECT_EQ(a.keyId(false), b.keyId(false));
    const auto sealed = a.seal("k", "value", kNonce);
    ASSERT_TRUE(sealed.ok());
    const auto opened = b.open("k", sealed.value());
    ASSERT_TRUE(opened.ok()) << opened.detail();
    EXPECT_EQ(opened.value().view(), "value");
}

TEST(KeyringTest, LookupKeysSeparateKindsIdsAndSecrets) {
    const Keyring keyring = make(kCurrent);
    const Keyring other = make(kPrevious);
    const std::string base = lookup(keyring, "s", "abc");
    EXPECT_NE(base, lookup(keyring, "p", "abc"));
    EXPECT_NE(base, lookup(keyring, "s", "abd"));
    EXPECT_NE(base, lookup(keyring, "s", "ab"));
    EXPECT_NE(base, lookup(other, "s", "abc"));
    // kind || 0x00 || id cannot be confused across the separator.
    EXPECT_NE(lookup(keyring, "s", std::string("\0x", 2)), lookup(keyring, "sx", ""));
    EXPECT_EQ(lookup(keyring, "s", std::string("a\0b", 3)).size(), Keyring::kLookupKeyLength);
    EXPECT_NE(lookup(keyring, "s", std::string("a\0b", 3)), lookup(keyring, "s", "a"));
}

TEST(KeyringTest, LookupKeyRejectsAmbiguousKindAndMissingPrevious) {
    const Keyring keyring = make(kCurrent);
    char out[Keyring::kLookupKeyLength];
    EXPECT_FALSE(keyring.lookupKey("", "id", false, out));
    EXPECT_FALSE(keyring.lookupKey(std::string_view("s\0", 2), "id", false, out));
    EXPECT_FALSE(keyring.lookupKey("s", "id", true, out));
    EXPECT_TRUE(keyring.lookupKey("s", "", false, out));
}

TEST(KeyringTest, RotationKeepsPreviousRecordsReadable) {
    const Keyring old = make(kPrevious);
    const Keyring rotated = make(kCurrent, kPrevious);
    EXPECT_TRUE(rotated.rotated());
    EXPECT_FALSE(old.rotated());
    EXPECT_EQ(lookup(rotated, "s", "id", true), lookup(old, "s", "id"));
    EXPECT_EQ(lookup(rotated, "s", "id"), lookup(make(kCurrent), "s", "id"));
    EXPECT_EQ(rotated.keyId(true), old.keyId(false));

    const auto before = old.seal("k", "old record", kNonce);
    ASSERT_TRUE(before.ok());
    const auto opened = rotated.open("k", before.value());
    ASSERT_TRUE(opened.ok()) << opened.detail();
    EXPECT_EQ(opened.value().view(), "old record");

    // New records use the current secret only.
    const auto after = rotated.seal("k", "new record", kNonce);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after.value().substr(1, 4),
              std::string(reinterpret_cast<const char *>(rotated.keyId(false).data()), 4));
    EXPECT_EQ(old.open("k", after.value()).status(), Status::Decode);
}

TEST(KeyringTest, CreateChecksSecrets) {
    const std::string exact(32, 's');
    EXPECT_TRUE(Keyring::create(exact, {}).ok());
    const auto shortCurrent = Keyring::create(exact.substr(1), {});
    EXPECT_EQ(shortCurrent.status(), Status::InvalidArgument);
    EXPECT_EQ(shortCurrent.detail(),
              "invalid argument: the secret must be at least 32 bytes (the current one has 31)");
    const auto shortPrevious = Keyring::create(exact, "tiny");
    EXPECT_EQ(shortPrevious.status(), Status::InvalidArgument);
    EXPECT_EQ(shortPrevious.detail(),
              "invalid argument: the secret must be at least 32 bytes (the previous one has 4)");
    const auto same = Keyring::create(exact, exact);
    EXPECT_EQ(same.status(), Status::InvalidArgument);
    EXPECT_EQ(same.detail(), "invalid argument: the previous secret is the same as the current one");
    // Any bytes, NULs included.
    EXPECT_TRUE(Keyring::create(std::string(40, '\0'), std::string(40, '\xff')).ok());
}

TEST(KeyringTest, OpenDetails) {
    const Keyring keyring = make(kCurrent);
    const std::string sealed = keyring.seal("k", "v", kNonce).value();
    EXPECT_EQ(keyring.open("k", sealed.substr(0, 32)).detail(),
              "malformed record: sealed record too short (32 bytes)");
    std::string bad = sealed;
    bad[0] = 2;
    EXPECT_EQ(keyring.open("k", bad).detail(),
              "malformed record: unsupported sealed record version 2");
    const std::string foreign = make(kPrevious).seal("k", "v", kNonce).value();
    EXPECT_EQ(keyring.open("k", foreign).detail(),
              "malformed record: sealed with an unknown secret (key id 2ea42d93)");
    EXPECT_EQ(keyring.open("other", sealed).detail(),
              "authentication failed: the sealed record does not verify (altered, stored "
              "under another key, or sealed with another secret)");
}

}  // namespace
}  // namespace auth_oidc
