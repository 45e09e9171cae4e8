#include "session/keyring.h"

#include <openssl/crypto.h>

#include <cstring>
#include <utility>

#include "common/base64url.h"

namespace auth_oidc {

namespace {

constexpr std::string_view kRecordKeyInfo = "auth_oidc record key v1";
constexpr std::string_view kLookupKeyInfo = "auth_oidc lookup key v1";
constexpr std::string_view kIdKeyInfo = "auth_oidc key id v1";
constexpr std::string_view kKeyIdLabel = "key id";

static_assert(Keyring::kLookupKeyLength == base64UrlLength(kSha256Length),
              "kLookupKeyLength");
static_assert(Keyring::kMaxPlaintext + Keyring::kSealOverhead <=
                  kMaxCipherInput,
              "kMaxPlaintext");

std::string_view bytesView(const unsigned char *data,
                           std::size_t len) noexcept {
    return std::string_view(reinterpret_cast<const char *>(data), len);
}

std::string hex(const unsigned char *data, std::size_t len) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < len; ++i) {
        out += kDigits[data[i] >> 4];
        out += kDigits[data[i] & 0x0f];
    }
    return out;
}

}  // namespace

struct Keyring::Keys {
    unsigned char recordKey[kAes256KeyLength];
    // HMAC-SHA256 keyed with the lookup key, duplicated for each lookupKey():
    // cheaper than keying a new context each time. Freeing it cleanses it.
    EvpMacCtxPtr lookupMac;
    KeyId id;

    Keys() noexcept = default;
    Keys(const Keys &) = delete;
    Keys &operator=(const Keys &) = delete;
    ~Keys() { wipe(recordKey, sizeof(recordKey)); }

    // nullptr when OpenSSL fails; throws std::bad_alloc.
    static std::unique_ptr<Keys> derive(EVP_MAC *mac,
                                        std::string_view secret) {
        auto keys = std::make_unique<Keys>();
        unsigned char lookupKey[kSha256Length];
        unsigned char idKey[kSha256Length];
        unsigned char macOut[kSha256Length];
        bool ok = hkdfSha256(secret, {}, kRecordKeyInfo, keys->recordKey,
                             sizeof(keys->recordKey)) &&
                  hkdfSha256(secret, {}, kLookupKeyInfo, lookupKey,
                             sizeof(lookupKey));
        if (ok) {
            keys->lookupMac = hmacSha256Keyed(mac, lookupKey, sizeof(lookupKey));
            ok = keys->lookupMac != nullptr;
        }
        ok = ok && hkdfSha256(secret, {}, kIdKeyInfo, idKey, sizeof(idKey)) &&
             hmacSha256(idKey, sizeof(idKey), {kKeyIdLabel}, macOut);
        if (ok) {
            std::memcpy(keys->id.data(), macOut, keys->id.size());
        }
        wipe(lookupKey, sizeof(lookupKey));
        wipe(idKey, sizeof(idKey));
        wipe(macOut, sizeof(macOut));
        if (!ok) {
            keys.reset();
        }
        return keys;
    }
};

Keyring::Keyring() noexcept = default;
Keyring::Keyring(Keyring &&) noexcept = default;
Keyring &Keyring::operator=(Keyring &&) noexcept = default;
Keyring::~Keyring() = default;

Result<Keyring> Keyring::create(std::string_view current,
                                std::string_view previous) {
    if (current.size() < kMinSecretLength) {
        return makeError(Status::InvalidArgument,
                         "the secret must be at least 32 bytes (the current "
                         "one has " +
                             std::to_string(current.size()) + ")");
    }
    if (!previous.empty() && previous.size() < kMinSecretLength) {
        return makeError(Status::InvalidArgument,
                         "the secret must be at least 32 bytes (the previous "
                         "one has " +
                             std::to_string(previous.size()) + ")");
    }
    if (previous.size() == current.size() &&
        CRYPTO_memcmp(previous.data(), current.data(), current.size()) == 0) {
        return makeError(Status::InvalidArgument,
                         "the previous secret is the same as the current one");
    }
    Keyring keyring;
    keyring.mac_ = fetchHmac();
    keyring.cipher_ = fetchAes256Gcm();
    if (!keyring.mac_ || !keyring.cipher_) {
        return makeError(Status::Internal,
                         "OpenSSL has no HMAC or AES-256-GCM");
    }
    keyring.current_ = Keys::derive(keyring.mac_.get(), current);
    if (!keyring.current_) {
        return makeError(Status::Internal, "key derivation failed");
    }
    if (!previous.empty()) {
        keyring.previous_ = Keys::derive(keyring.mac_.get(), previous);
        if (!keyring.previous_) {
            return makeError(Status::Internal, "key derivation failed");
        }
    }
    return Result<Keyring>(std::move(keyring));
}

bool Keyring::rotated() const noexcept {
    return previous_ != nullptr;
}

const Keyring::KeyId &Keyring::keyId(bool previous) const noexcept {
    return previous ? previous_->id : current_->id;
}

bool Keyring::lookupKey(std::string_view kind, std::string_view id,
                        bool previous, char *out) const noexcept {
    const Keys *keys = previous ? previous_.get() : current_.get();
    if (keys == nullptr || kind.empty() ||
        kind.find('\0') != std::string_view::npos) {
        return false;
    }
    unsigned char mac[kSha256Length];
    if (!hmacSha256(keys->lookupMac.get(),
                    {kind, std::string_view("\0", 1), id}, mac)) {
        return false;
    }
    encodeBase64UrlTo(mac, sizeof(mac), out);
    return true;
}

Result<std::size_t> Keyring::sealedLength(std::string_view aad,
                                          std::string_view plaintext) {
    if (plaintext.size() > kMaxPlaintext) {
        return makeError(Status::TooLarge,
                         "the record exceeds 1 MiB (" +
                             std::to_string(plaintext.size()) + " bytes)");
    }
    if (aad.size() > kMaxPlaintext) {
        return makeError(Status::TooLarge, "the associated data exceeds 1 MiB");
    }
    return plaintext.size() + kSealOverhead;
}

Result<std::string> Keyring::seal(std::string_view aad,
                                  std::string_view plaintext,
                                  const unsigned char *nonce) const {
    const auto length = sealedLength(aad, plaintext);
    if (!length) {
        return length.error();
    }
    std::string out(length.value(), '\0');
    auto *p = reinterpret_cast<unsigned char *>(out.data());
    p[0] = kSealVersion;
    std::memcpy(p + 1, current_->id.data(), kKeyIdLength);
    std::memcpy(p + 1 + kKeyIdLength, nonce, kGcmNonceLength);
    const auto result = aes256GcmEncrypt(
        cipher_.get(), current_->recordKey, p + 1 + kKeyIdLength,
        {bytesView(p, kSealHeaderLength), aad},
        reinterpret_cast<const unsigned char *>(plaintext.data()),
        plaintext.size(), p + kSealHeaderLength,
        p + kSealHeaderLength + plaintext.size());
    if (result != GcmResult::Ok) {
        return makeError(Status::Internal, "encryption failed");
    }
    return out;
}

Result<SecretBytes> Keyring::open(std::string_view aad,
                                  std::string_view sealed) const {
    if (sealed.size() > kMaxPlaintext + kSealOverhead) {
        return makeError(Status::TooLarge,
                         "the sealed record exceeds 1 MiB (" +
                             std::to_string(sealed.size()) + " bytes)");
    }
    if (aad.size() > kMaxPlaintext) {
        return makeError(Status::TooLarge, "the associated data exceeds 1 MiB");
    }
    if (sealed.size() < kSealOverhead) {
        return makeError(Status::Decode,
                         "sealed record too short (" +
                             std::to_string(sealed.size()) + " bytes)");
    }
    const auto *p = reinterpret_cast<const unsigned char *>(sealed.data());
    if (p[0] != kSealVersion) {
        return makeError(Status::Decode,
                         "unsupported sealed record version " +
                             std::to_string(p[0]));
    }
    const unsigned char *keyId = p + 1;
    const unsigned char *nonce = keyId + kKeyIdLength;
    const std::size_t len = sealed.size() - kSealOverhead;
    const unsigned char *ciphertext = p + kSealHeaderLength;
    const unsigned char *tag = ciphertext + len;

    // Normally one candidate; both only if two secrets share a key id.
    bool known = false;
    SecretBytes plaintext(len);
    for (const Keys *keys : {current_.get(), previous_.get()}) {
        if (keys == nullptr ||
            std::memcmp(keys->id.data(), keyId, kKeyIdLength) != 0) {
            continue;
        }
        known = true;
        switch (aes256GcmDecrypt(cipher_.get(), keys->recordKey, nonce,
                                 {bytesView(p, kSealHeaderLength), aad},
                                 ciphertext, len, tag, plaintext.data())) {
        case GcmResult::Ok:
            return Result<SecretBytes>(std::move(plaintext));
        case GcmResult::Mismatch:
            break;
        case GcmResult::Failed:
            return makeError(Status::Internal, "decryption failed");
        }
    }
    if (!known) {
        return makeError(Status::Decode,
                         "sealed with an unknown secret (key id " +
                             hex(keyId, kKeyIdLength) + ")");
    }
    return makeError(Status::Auth,
                     "the sealed record does not verify (altered, stored "
                     "under another key, or sealed with another secret)");
}

}  // namespace auth_oidc
