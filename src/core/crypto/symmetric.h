#pragma once

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <vector>

namespace auth_oidc {

struct EvpKdfDeleter {
    void operator()(EVP_KDF *kdf) const noexcept { EVP_KDF_free(kdf); }
};
using EvpKdfPtr = std::unique_ptr<EVP_KDF, EvpKdfDeleter>;

struct EvpKdfCtxDeleter {
    void operator()(EVP_KDF_CTX *ctx) const noexcept { EVP_KDF_CTX_free(ctx); }
};
using EvpKdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, EvpKdfCtxDeleter>;

struct EvpMacDeleter {
    void operator()(EVP_MAC *mac) const noexcept { EVP_MAC_free(mac); }
};
using EvpMacPtr = std::unique_ptr<EVP_MAC, EvpMacDeleter>;

struct EvpMacCtxDeleter {
    void operator()(EVP_MAC_CTX *ctx) const noexcept { EVP_MAC_CTX_free(ctx); }
};
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, EvpMacCtxDeleter>;

struct EvpCipherDeleter {
    void operator()(EVP_CIPHER *cipher) const noexcept {
        EVP_CIPHER_free(cipher);
    }
};
using EvpCipherPtr = std::unique_ptr<EVP_CIPHER, EvpCipherDeleter>;

struct EvpCipherCtxDeleter {
    void operator()(EVP_CIPHER_CTX *ctx) const noexcept {
        EVP_CIPHER_CTX_free(ctx);
    }
};
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, EvpCipherCtxDeleter>;

// Overwrites len bytes at p in a way the compiler may not elide.
void wipe(void *p, std::size_t len) noexcept;

// Bytes that are wiped when they die: derived keys, decrypted records. The
// size is fixed at construction, so the buffer is never reallocated (which
// would leave an unwiped copy behind).
class SecretBytes {
public:
    SecretBytes() = default;
    explicit SecretBytes(std::size_t size) : bytes_(size) {}
    SecretBytes(SecretBytes &&other) noexcept = default;
    SecretBytes &operator=(SecretBytes &&other) noexcept {
        if (this != &other) {
            clear();
            bytes_ = std::move(other.bytes_);
        }
        return *this;
    }
    SecretBytes(const SecretBytes &) = delete;
    SecretBytes &operator=(const SecretBytes &) = delete;
    ~SecretBytes() { clear(); }

    unsigned char *data() noexcept { return bytes_.data(); }
    const unsigned char *data() const noexcept { return bytes_.data(); }
    std::size_t size() const noexcept { return bytes_.size(); }
    bool empty() const noexcept { return bytes_.empty(); }
    std::string_view view() const noexcept {
        return std::string_view(reinterpret_cast<const char *>(bytes_.data()),
                                bytes_.size());
    }

private:
    void clear() noexcept {
        wipe(bytes_.data(), bytes_.size());
        bytes_.clear();
    }

    std::vector<unsigned char> bytes_;
};

inline constexpr std::size_t kSha256Length = 32;
inline constexpr std::size_t kAes256KeyLength = 32;
inline constexpr std::size_t kGcmNonceLength = 12;
inline constexpr std::size_t kGcmTagLength = 16;
// Inputs to the functions below; EVP counts in int.
inline constexpr std::size_t kMaxCipherInput = 64u * 1024 * 1024;

// In all of these, a failure clears OpenSSL's error queue so that nothing is
// left for nginx to report against an unrelated connection.

// RFC 5869 HKDF with SHA-256 (extract then expand) into out[0..len); an
// empty salt is HashLen zero bytes (section 2.2). false when OpenSSL fails.
bool hkdfSha256(std::string_view ikm, std::string_view salt,
                std::string_view info, unsigned char *out,
                std::size_t len) noexcept;

// RFC 2104 HMAC-SHA256 of the concatenated parts into out[0..32).
bool hmacSha256(const unsigned char *key, std::size_t keyLen,
                std::initializer_list<std::string_view> parts,
                unsigned char *out) noexcept;

// The HMAC and AES-256-GCM implementations fetched once (from the default
// library context), for callers that use them repeatedly: an explicit fetch
// per call is costly. nullptr when OpenSSL fails.
EvpMacPtr fetchHmac() noexcept;
EvpCipherPtr fetchAes256Gcm() noexcept;

// A context of mac (from fetchHmac()) keyed for HMAC-SHA256 with key, to be
// used with the overload of hmacSha256 below; the caller may wipe key once
// this returns. nullptr when OpenSSL fails.
EvpMacCtxPtr hmacSha256Keyed(EVP_MAC *mac, const unsigned char *key,
                             std::size_t keyLen) noexcept;

// As above, with the key of keyed (from hmacSha256Keyed()), which is only
// read (duplicated): one keyed context serves any number of calls, and
// concurrent calls, as long as nothing else uses it.
bool hmacSha256(const EVP_MAC_CTX *keyed,
                std::initializer_list<std::string_view> parts,
                unsigned char *out) noexcept;

enum class GcmResult {
    Ok,
    Mismatch,  // the tag does not verify (decryption only)
    Failed,    // OpenSSL failed, or an input exceeds kMaxCipherInput
};

// AES-256-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag. The
// additional data is the concatenation of aad. Encryption writes len bytes to
// out and the tag to tag; decryption writes len bytes to out, which the
// caller must discard unless the result is Ok.
GcmResult aes256GcmEncrypt(const unsigned char *key, const unsigned char *nonce,
                           std::initializer_list<std::string_view> aad,
                           const unsigned char *in, std::size_t len,
                           unsigned char *out, unsigned char *tag) noexcept;
GcmResult aes256GcmDecrypt(const unsigned char *key, const unsigned char *nonce,
                           std::initializer_list<std::string_view> aad,
                           const unsigned char *in, std::size_t len,
                           const unsigned char *tag,
                           unsigned char *out) noexcept;

// The same with cipher, an AES-256-GCM implementation from fetchAes256Gcm().
GcmResult aes256GcmEncrypt(const EVP_CIPHER *cipher, const unsigned char *key,
                           const unsigned char *nonce,
                           std::initializer_list<std::string_view> aad,
                           const unsigned char *in, std::size_t len,
                           unsigned char *out, unsigned char *tag) noexcept;
GcmResult aes256GcmDecrypt(const EVP_CIPHER *cipher, const unsigned char *key,
                           const unsigned char *nonce,
                           std::initializer_list<std::string_view> aad,
                           const unsigned char *in, std::size_t len,
                           const unsigned char *tag,
                           unsigned char *out) noexcept;

}  // namespace auth_oidc
