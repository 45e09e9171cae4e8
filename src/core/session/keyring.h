#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "crypto/symmetric.h"

namespace auth_oidc {

// Encryption at rest for records kept outside nginx (Redis).
//
// Every secret (at least kMinSecretLength bytes of anything) yields, by
// HKDF-SHA256 (RFC 5869, no salt, the secret as input keying material),
// three independent 32-byte subkeys:
//   record key  info "auth_oidc record key v1"  AES-256-GCM key
//   lookup key  info "auth_oidc lookup key v1"  HMAC-SHA256 key for key names
//   id key      info "auth_oidc key id v1"      only to compute the key id
// and a key id: the first 4 bytes of HMAC-SHA256(id key, "key id"), which
// names the secret inside a sealed record without revealing anything of it.
//
// A sealed record is
//   0x01 || key id (4) || nonce (12) || AES-256-GCM ciphertext || tag (16)
// where the GCM additional data is the 17-byte header (version, key id,
// nonce) followed by the caller's aad (the Redis key), so a record verifies
// only under the key name it was written to, and its header cannot be
// altered either.
//
// A keyring holds the current secret's keys and, during a rotation, the
// previous secret's. It is immutable; all keys are wiped when it dies.
// Thread-compatible: the const members may be called concurrently (each call
// works on its own OpenSSL context; the shared ones are only read).
class Keyring {
public:
    static constexpr std::size_t kMinSecretLength = 32;
    static constexpr std::size_t kKeyIdLength = 4;
    static constexpr unsigned char kSealVersion = 0x01;
    static constexpr std::size_t kSealHeaderLength =
        1 + kKeyIdLength + kGcmNonceLength;
    static constexpr std::size_t kSealOverhead =
        kSealHeaderLength + kGcmTagLength;
    // Plaintext, and aad, at most 1 MiB each.
    static constexpr std::size_t kMaxPlaintext = 1024 * 1024;
    // base64url of a full HMAC-SHA256.
    static constexpr std::size_t kLookupKeyLength = 43;

    using KeyId = std::array<unsigned char, kKeyIdLength>;

    // Errors: InvalidArgument (a secret shorter than kMinSecretLength, or the
    // previous secret equal to the current one), Internal (OpenSSL failed),
    // NoMemory. previous may be empty: no rotation in progress.
    static Result<Keyring> create(std::string_view current,
                                  std::string_view previous);

    Keyring(Keyring &&) noexcept;
    Keyring &operator=(Keyring &&) noexcept;
    ~Keyring();

    // Whether a previous secret is configured.
    bool rotated() const noexcept;

    // The key id of the current (or previous) secret. Precondition for the
    // previous one: rotated().
    const KeyId &keyId(bool previous) const noexcept;

    // base64url(HMAC-SHA256(lookup key, kind || 0x00 || id)) into
    // out[0..kLookupKeyLength). false (nothing written) when kind is empty or
    // holds a NUL byte (kind || 0x00 || id must be unambiguous), when
    // previous is asked for without a previous secret, or when OpenSSL
    // failed. id may be anything, even empty.
    bool lookupKey(std::string_view kind, std::string_view id, bool previous,
                   char *out) const noexcept;

    // The length seal() produces: plaintext.size() + kSealOverhead.
    // Errors: TooLarge (plaintext or aad over kMaxPlaintext).
    static Result<std::size_t> sealedLength(std::string_view aad,
                                            std::string_view plaintext);

    // Seals plaintext with the current secret; nonce points to
    // kGcmNonceLength random bytes, never reused with the same secret.
    // Errors: TooLarge (plaintext or aad over kMaxPlaintext), Internal.
    Result<std::string> seal(std::string_view aad, std::string_view plaintext,
                             const unsigned char *nonce) const;

    // The plaintext of a record sealed by seal() with the current or the
    // previous secret and the same aad.
    // Errors: TooLarge (the record or aad over the limit), Decode (shorter
    // than kSealOverhead, unknown version, key id of neither secret), Auth
    // (the tag does not verify: altered, moved to another key name, or
    // sealed with another secret of the same key id), Internal.
    Result<SecretBytes> open(std::string_view aad,
                             std::string_view sealed) const;

private:
    struct Keys;

    Keyring() noexcept;

    // Fetched once, as fetching per call is costly; shared by both secrets.
    EvpMacPtr mac_;
    EvpCipherPtr cipher_;
    std::unique_ptr<Keys> current_;
    std::unique_ptr<Keys> previous_;
};

}  // namespace auth_oidc
