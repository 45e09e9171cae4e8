#include "auth_oidc_core.h"

#include <openssl/err.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/api_support.h"

namespace {

constexpr std::string_view kCurrent = "current secret: at least 32 bytes of anything";
constexpr std::string_view kPrevious = "previous secret, also 32 bytes or more";
constexpr std::string_view kOther = "a secret this deployment never had, 32+";

using auth_oidc::test::dirtyError;
using auth_oidc::test::sizedCall;
using auth_oidc::test::str;

class KeyringApiTest : public ::testing::Test {
protected:
    void SetUp() override {
        current_ = make(kCurrent, {});
        rotated_ = make(kCurrent, kPrevious);
        previous_ = make(kPrevious, {});
        ASSERT_NE(current_, nullptr);
        ASSERT_NE(rotated_, nullptr);
        ASSERT_NE(previous_, nullptr);
    }

    void TearDown() override {
        auth_oidc_keyring_free(current_);
        auth_oidc_keyring_free(rotated_);
        auth_oidc_keyring_free(previous_);
        EXPECT_EQ(ERR_peek_error(), 0u);
    }

    static auth_oidc_keyring_t *make(std::string_view current, std::string_view previous) {
        auth_oidc_keyring_t *kr = nullptr;
        auth_oidc_error_t err = dirtyError();
        EXPECT_EQ(auth_oidc_keyring_new(str(current), str(previous), &kr, &err), AUTH_OIDC_OK)
            << err.msg;
        EXPECT_STREQ(err.msg, "");
        return kr;
    }

    static std::string lookup(const auth_oidc_keyring_t *kr, std::string_view kind,
                              std::string_view id, int previous = 0) {
        unsigned char out[AUTH_OIDC_LOOKUP_KEY_LEN];
        const std::size_t n =
            auth_oidc_keyring_lookup_key(kr, str(kind), str(id), previous, out, sizeof(out));
        if (n == 0) {
            return "<none>";
        }
        EXPECT_EQ(n, sizeof(out));
        return std::string(reinterpret_cast<char *>(out), n);
    }

    std::string seal(const auth_oidc_keyring_t *kr, std::string_view aad,
                     std::string_view plaintext) {
        // A distinct nonce per record.
        ++nonce_[0];
        return sizedCall(
            [&](unsigned char *buf, size_t size, size_t *needed, auth_oidc_error_t *err) {
                return auth_oidc_seal(kr, str(aad), str(plaintext), nonce_, buf, size, needed,
                                      err);
            });
    }

    // The status of opening, and the plaintext (or the detail).
    static std::pair<auth_oidc_status_t, std::string> open(const auth_oidc_keyring_t *kr,
                                                           std::string_view aad,
                                                           std::string_view sealed) {
        std::size_t needed = 7;
        auth_oidc_error_t err = dirtyError();
        const auth_oidc_status_t status =
            auth_oidc_open(kr, str(aad), str(sealed), nullptr, 0, &needed, &err);
        if (status != AUTH_OIDC_OK) {
            EXPECT_EQ(needed, 0u);
            EXPECT_EQ(ERR_peek_error(), 0u);
            // Nothing is written on failure, even into a buffer large enough.
            std::vector<unsigned char> buf(sealed.size() + 1, 0xAA);
            EXPECT_EQ(auth_oidc_open(kr, str(aad), str(sealed), buf.data(), buf.size(), &needed,
                                     nullptr),
                      status);
            EXPECT_EQ(buf, std::vector<unsigned char>(buf.size(), 0xAA));
            return {status, err.msg};
        }
        return {status, sizedCall([&](unsigned char *buf, size_t size, size_t *n,
                                      auth_oidc_error_t *e) {
                    return auth_oidc_open(kr, str(aad), str(sealed), buf, size, n, e);
                })};
    }

    auth_oidc_keyring_t *current_ = nullptr;
    auth_oidc_keyring_t *rotated_ = nullptr;
    auth_oidc_keyring_t *previous_ = nullptr;
    unsigned char nonce_[AUTH_OIDC_SEAL_NONCE_LEN] = {0};
};

TEST_F(KeyringApiTest, StatusString) {
    EXPECT_STREQ(auth_oidc_status_string(AUTH_OIDC_EAUTH), "authentication failed");
}

TEST_F(KeyringApiTest, SealOpenRoundTrip) {
    const std::string aad = "oidc:s:" + lookup(current_, "s", "session-1");
    const std::string plain = R"({"sub":"u-1","id_token":"a.b.c"})" + std::string("\0\x01", 2);
    const std::string sealed = seal(current_, aad, plain);
    EXPECT_EQ(sealed.size(), plain.size() + AUTH_OIDC_SEAL_OVERHEAD);
    EXPECT_EQ(sealed[0], '\x01');
    EXPECT_EQ(sealed.substr(5, 12),
              std::string(reinterpret_cast<const char *>(nonce_), sizeof(nonce_)));
    // Nothing of the plaintext shows.
    EXPECT_EQ(sealed.find("sub"), std::string::npos);
    EXPECT_EQ(sealed.find("a.b.c"), std::string::npos);

    EXPECT_EQ(open(current_, aad, sealed), std::make_pair(AUTH_OIDC_OK, plain));
    EXPECT_EQ(open(rotated_, aad, sealed), std::make_pair(AUTH_OIDC_OK, plain));

    // A fresh nonce, a different record.
    EXPECT_NE(seal(current_, aad, plain), sealed);
}

TEST_F(KeyringApiTest, EmptyPlaintextAndEmptyAad) {
    const std::string sealed = seal(current_, "", "");
    EXPECT_EQ(sealed.size(), static_cast<std::size_t>(AUTH_OIDC_SEAL_OVERHEAD));
    EXPECT_EQ(open(current_, "", sealed), std::make_pair(AUTH_OIDC_OK, std::string()));
    EXPECT_EQ(open(current_, "x", sealed).first, AUTH_OIDC_EAUTH);

    // {NULL, 0} views are empty strings.
    std::size_t needed = 1;
    unsigned char buf[AUTH_OIDC_SEAL_OVERHEAD];
    ASSERT_EQ(auth_oidc_seal(current_, auth_oidc_str_t{nullptr, 0}, auth_oidc_str_t{nullptr, 0},
                             nonce_, buf, sizeof(buf), &needed, nullptr),
              AUTH_OIDC_OK);
    EXPECT_EQ(needed, sizeof(buf));
    ASSERT_EQ(auth_oidc_open(current_, auth_oidc_str_t{nullptr, 0},
                             auth_oidc_str_t{buf, sizeof(buf)}, nullptr, 0, &needed, nullptr),
              AUTH_OIDC_OK);
    EXPECT_EQ(needed, 0u);
}

TEST_F(KeyringApiTest, EveryAlteredByteIsRefused) {
    const std::string aad = "oidc:p:state";
    const std::string sealed = seal(current_, aad, "pending login record");
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        for (const unsigned char flip : {0x01, 0x80, 0xff}) {
            std::string altered = sealed;
            altered[i] = static_cast<char>(altered[i] ^ flip);
            const auto result = open(rotated_, aad, altered);
            // Version and key id: malformed; nonce, ciphertext, tag: forged.
            EXPECT_EQ(result.first, i < 5 ? AUTH_OIDC_EDECODE : AUTH_OIDC_EAUTH)
                << "byte " << i << " ^ " << int{flip} << ": " << result.second;
        }
    }
    // Cut or extended anywhere.
    for (std::size_t len = 0; len < sealed.size(); ++len) {
        EXPECT_EQ(open(current_, aad, sealed.substr(0, len)).first,
                  len < AUTH_OIDC_SEAL_OVERHEAD ? AUTH_OIDC_EDECODE : AUTH_OIDC_EAUTH)
            << len;
    }
    EXPECT_EQ(open(current_, aad, sealed + '\0').first, AUTH_OIDC_EAUTH);
}

TEST_F(KeyringApiTest, RecordIsBoundToItsKeyName) {
    const std::string mine = "oidc:s:" + lookup(current_, "s", "mine");
    const std::string theirs = "oidc:s:" + lookup(current_, "s", "theirs");
    const std::string sealed = seal(current_, mine, "my session");
    EXPECT_EQ(open(current_, mine, sealed).first, AUTH_OIDC_OK);
    const auto moved = open(current_, theirs, sealed);
    EXPECT_EQ(moved.first, AUTH_OIDC_EAUTH);
    EXPECT_EQ(moved.second,
              "authentication failed: the sealed record does not verify (altered, stored under "
              "another key, or sealed with another secret)");
    // A pending record cannot pass for a session under the same id either.
    const std::string pending = "oidc:p:" + lookup(current_, "p", "mine");
    EXPECT_EQ(open(current_, pending, sealed).first, AUTH_OIDC_EAUTH);
    EXPECT_EQ(open(current_, mine.substr(0, mine.size() - 1), sealed).first, AUTH_OIDC_EAUTH);
}

TEST_F(KeyringApiTest, RotationOpensRecordsOfThePreviousSecret) {
    EXPECT_EQ(auth_oidc_keyring_rotated(rotated_), 1);
    EXPECT_EQ(auth_oidc_keyring_rotated(current_), 0);
    EXPECT_EQ(auth_oidc_keyring_rotated(nullptr), 0);

    // Written before the rotation, under the old secret's key name.
    const std::string oldName = "oidc:s:" + lookup(previous_, "s", "sid");
    const std::string old = seal(previous_, oldName, "before rotation");
    // After it: the current key name misses, the previous one finds it.
    EXPECT_EQ("oidc:s:" + lookup(rotated_, "s", "sid", 1), oldName);
    EXPECT_NE(lookup(rotated_, "s", "sid", 0), lookup(previous_, "s", "sid"));
    EXPECT_EQ(open(rotated_, oldName, old), std::make_pair(AUTH_OIDC_OK, std::string("before rotation")));

    // New records are sealed with the current secret, which the old
    // configuration does not know.
    const std::string newName = "oidc:s:" + lookup(rotated_, "s", "sid");
    const std::string fresh = seal(rotated_, newName, "after rotation");
    EXPECT_EQ(open(current_, newName, fresh).first, AUTH_OIDC_OK);
    EXPECT_EQ(open(previous_, newName, fresh).first, AUTH_OIDC_EDECODE);

    // Once the previous secret is dropped, its records are unknown.
    const auto dropped = open(current_, oldName, old);
    EXPECT_EQ(dropped.first, AUTH_OIDC_EDECODE);
    EXPECT_EQ(dropped.second.rfind("malformed record: sealed with an unknown secret (key id ", 0),
              0u)
        << dropped.second;
}

TEST_F(KeyringApiTest, RecordOfAnUnknownSecretIsMalformed) {
    auth_oidc_keyring_t *other = make(kOther, {});
    const std::string sealed = seal(other, "k", "forged");
    EXPECT_EQ(open(current_, "k", sealed).first, AUTH_OIDC_EDECODE);
    EXPECT_EQ(open(rotated_, "k", sealed).first, AUTH_OIDC_EDECODE);
    auth_oidc_keyring_free(other);
}

TEST_F(KeyringApiTest, SecretsAreChecked) {
    auth_oidc_keyring_t *kr = reinterpret_cast<auth_oidc_keyring_t *>(0x1);
    auth_oidc_error_t err = dirtyError();
    const std::string exact(AUTH_OIDC_SECRET_MIN_LEN, 'k');
    EXPECT_EQ(auth_oidc_keyring_new(str(exact.substr(1)), str(""), &kr, &err), AUTH_OIDC_EINVAL);
    EXPECT_EQ(kr, nullptr);
    EXPECT_STREQ(err.msg,
                 "invalid argument: the secret must be at least 32 bytes (the current one has 31)");
    EXPECT_EQ(auth_oidc_keyring_new(str(""), str(""), &kr, &err), AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_keyring_new(str(exact), str(exact.substr(1)), &kr, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_STREQ(err.msg,
                 "invalid argument: the secret must be at least 32 bytes (the previous one has 31)");
    EXPECT_EQ(auth_oidc_keyring_new(str(exact), str(exact), &kr, &err), AUTH_OIDC_EINVAL);
    EXPECT_STREQ(err.msg, "invalid argument: the previous secret is the same as the current one");
    EXPECT_EQ(auth_oidc_keyring_new(auth_oidc_str_t{nullptr, 32}, str(""), &kr, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_keyring_new(str(exact), auth_oidc_str_t{nullptr, 32}, &kr, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_keyring_new(str(exact), str(""), nullptr, &err), AUTH_OIDC_EINVAL);
    EXPECT_EQ(kr, nullptr);

    // Exactly 32 bytes, previous {NULL, 0}: fine, no rotation.
    ASSERT_EQ(auth_oidc_keyring_new(str(exact), auth_oidc_str_t{nullptr, 0}, &kr, nullptr),
              AUTH_OIDC_OK);
    EXPECT_EQ(auth_oidc_keyring_rotated(kr), 0);
    auth_oidc_keyring_free(kr);
    auth_oidc_keyring_free(nullptr);
}

TEST_F(KeyringApiTest, LookupKeyContract) {
    const std::string id = "Yx2v0cJ8Q7bq1e5mZkR4pT9sWfH3nLd6AaGuVjXoCiE";  // like a real one
    const std::string key = lookup(current_, "s", id);
    ASSERT_EQ(key.size(), static_cast<std::size_t>(AUTH_OIDC_LOOKUP_KEY_LEN));
    EXPECT_EQ(key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_"),
              std::string::npos);
    // The id never shows, and the name depends on the secret.
    EXPECT_NE(key, id);
    for (std::size_t i = 0; i + 8 <= id.size(); ++i) {
        EXPECT_EQ(key.find(id.substr(i, 8)), std::string::npos) << i;
    }
    EXPECT_NE(key, lookup(previous_, "s", id));
    EXPECT_EQ(key, lookup(rotated_, "s", id));
    EXPECT_NE(key, lookup(current_, "p", id));
    EXPECT_NE(key, lookup(current_, "s", id + "x"));

    // size_t contract: the full length always, written only when it fits.
    unsigned char out[AUTH_OIDC_LOOKUP_KEY_LEN + 1];
    std::memset(out, 0xAA, sizeof(out));
    EXPECT_EQ(auth_oidc_keyring_lookup_key(current_, str("s"), str(id), 0, nullptr, 0), 43u);
    EXPECT_EQ(auth_oidc_keyring_lookup_key(current_, str("s"), str(id), 0, out, 42), 43u);
    EXPECT_EQ(out[0], 0xAA);
    EXPECT_EQ(auth_oidc_keyring_lookup_key(current_, str("s"), str(id), 0, out, 43), 43u);
    EXPECT_EQ(std::string(reinterpret_cast<char *>(out), 43), key);
    EXPECT_EQ(out[43], 0xAA);

    // 0: no previous secret, bad arguments.
    EXPECT_EQ(auth_oidc_keyring_lookup_key(current_, str("s"), str(id), 1, out, 43), 0u);
    EXPECT_EQ(auth_oidc_keyring_lookup_key(rotated_, str("s"), str(id), 1, out, 43), 43u);
    EXPECT_EQ(auth_oidc_keyring_lookup_key(rotated_, str("s"), str(id), 2, out, 43), 0u);
    EXPECT_EQ(auth_oidc_keyring_lookup_key(rotated_, str("s"), str(id), -1, out, 43), 0u);
    EXPECT_EQ(auth_oidc_keyring_lookup_key(nullptr, str("s"), str(id), 0, out, 43), 0u);
    EXPECT_EQ(auth_oidc_keyring_lookup_key(current_, str(""), str(id), 0, out, 43), 0u);
    EXPECT_EQ(auth_oidc_keyring_lookup_key(current_, str(std::string_view("s\0", 2)), str(id), 0,
                                           out, 43),
              0u);
    EXPECT_EQ(auth_oidc_keyring_lookup_key(current_, auth_oidc_str_t{nullptr, 1}, str(id), 0,
                                           out, 43),
              0u);
    EXPECT_EQ(auth_oidc_keyring_lookup_key(current_, str("s"), auth_oidc_str_t{nullptr, 1}, 0,
                                           out, 43),
              0u);
    // An empty id is still a name (of nothing anyone stored).
    EXPECT_EQ(auth_oidc_keyring_lookup_key(current_, str("s"), auth_oidc_str_t{nullptr, 0}, 0,
                                           out, 43),
              43u);
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(KeyringApiTest, SizeLimits) {
    const std::string max(AUTH_OIDC_SEAL_MAX, 'm');
    const std::string sealed = seal(current_, "k", max);
    EXPECT_EQ(sealed.size(), max.size() + AUTH_OIDC_SEAL_OVERHEAD);
    const auto opened = open(current_, "k", sealed);
    EXPECT_EQ(opened.first, AUTH_OIDC_OK);
    EXPECT_TRUE(opened.second == max);

    const std::string over = max + "m";
    EXPECT_EQ(sizedCall(
                  [&](unsigned char *buf, size_t size, size_t *needed, auth_oidc_error_t *err) {
                      return auth_oidc_seal(current_, str("k"), str(over), nonce_, buf, size,
                                            needed, err);
                  },
                  AUTH_OIDC_ETOOLARGE),
              "too large: the record exceeds 1 MiB (1048577 bytes)");
    // Refused with a buffer large enough too.
    std::vector<unsigned char> buf(over.size() + AUTH_OIDC_SEAL_OVERHEAD);
    std::size_t needed = 1;
    EXPECT_EQ(auth_oidc_seal(current_, str("k"), str(over), nonce_, buf.data(), buf.size(),
                             &needed, nullptr),
              AUTH_OIDC_ETOOLARGE);
    EXPECT_EQ(needed, 0u);
    EXPECT_EQ(auth_oidc_seal(current_, str(over), str("v"), nonce_, buf.data(), buf.size(),
                             &needed, nullptr),
              AUTH_OIDC_ETOOLARGE);
    EXPECT_EQ(open(current_, "k", sealed + "x").first, AUTH_OIDC_ETOOLARGE);
    EXPECT_EQ(open(current_, over, sealed).first, AUTH_OIDC_ETOOLARGE);
}

TEST_F(KeyringApiTest, NullArguments) {
    std::size_t needed = 5;
    auth_oidc_error_t err = dirtyError();
    unsigned char buf[64];
    EXPECT_EQ(auth_oidc_seal(nullptr, str("k"), str("v"), nonce_, buf, sizeof(buf), &needed, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_STREQ(err.msg, "invalid argument: keyring is NULL");
    EXPECT_EQ(needed, 0u);
    EXPECT_EQ(auth_oidc_seal(current_, str("k"), str("v"), nullptr, buf, sizeof(buf), &needed,
                             &err),
              AUTH_OIDC_EINVAL);
    EXPECT_STREQ(err.msg, "invalid argument: nonce is NULL");
    EXPECT_EQ(auth_oidc_seal(current_, str("k"), str("v"), nonce_, buf, sizeof(buf), nullptr,
                             &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_seal(current_, auth_oidc_str_t{nullptr, 1}, str("v"), nonce_, buf,
                             sizeof(buf), &needed, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_seal(current_, str("k"), auth_oidc_str_t{nullptr, 1}, nonce_, buf,
                             sizeof(buf), &needed, &err),
              AUTH_OIDC_EINVAL);

    const std::string sealed = seal(current_, "k", "v");
    EXPECT_EQ(auth_oidc_open(nullptr, str("k"), str(sealed), buf, sizeof(buf), &needed, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_open(current_, str("k"), str(sealed), buf, sizeof(buf), nullptr, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_open(current_, auth_oidc_str_t{nullptr, 1}, str(sealed), buf, sizeof(buf),
                             &needed, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_open(current_, str("k"), auth_oidc_str_t{nullptr, 1}, buf, sizeof(buf),
                             &needed, &err),
              AUTH_OIDC_EINVAL);
    EXPECT_EQ(auth_oidc_open(current_, str("k"), auth_oidc_str_t{nullptr, 0}, buf, sizeof(buf),
                             &needed, &err),
              AUTH_OIDC_EDECODE);
    EXPECT_STREQ(err.msg, "malformed record: sealed record too short (0 bytes)");
}

}  // namespace
