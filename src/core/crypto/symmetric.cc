#include "crypto/symmetric.h"

#include <algorithm>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

namespace auth_oidc {

namespace {

bool failed() noexcept {
    ERR_clear_error();
    return false;
}

GcmResult gcmFailed(GcmResult result) noexcept {
    ERR_clear_error();
    return result;
}

bool fitsCipher(std::initializer_list<std::string_view> parts,
                std::size_t len) noexcept {
    if (len > kMaxCipherInput) {
        return false;
    }
    for (const std::string_view part : parts) {
        if (part.size() > kMaxCipherInput) {
            return false;
        }
    }
    return true;
}

// Feeds the additional data; EVP wants it before any plaintext.
bool addAad(EVP_CIPHER_CTX *ctx, bool encrypt,
            std::initializer_list<std::string_view> aad) noexcept {
    for (const std::string_view part : aad) {
        if (part.empty()) {
            continue;
        }
        int outLen = 0;
        const auto *data = reinterpret_cast<const unsigned char *>(part.data());
        const int n = static_cast<int>(part.size());
        const int ok = encrypt
                           ? EVP_EncryptUpdate(ctx, nullptr, &outLen, data, n)
                           : EVP_DecryptUpdate(ctx, nullptr, &outLen, data, n);
        if (ok != 1) {
            return false;
        }
    }
    return true;
}

}  // namespace

void wipe(void *p, std::size_t len) noexcept {
    if (p != nullptr && len != 0) {
        OPENSSL_cleanse(p, len);
    }
}

bool hkdfSha256(std::string_view ikm, std::string_view salt,
                std::string_view info, unsigned char *out,
                std::size_t len) noexcept {
    EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr));
    if (!kdf) {
        return failed();
    }
    EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
    if (!ctx) {
        return failed();
    }
    // The OSSL_PARAM constructors take non-const pointers but only read.
    char digest[] = "SHA256";
    OSSL_PARAM params[5];
    std::size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                   digest, 0);
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_KEY, const_cast<char *>(ikm.data()), ikm.size());
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_INFO, const_cast<char *>(info.data()), info.size());
    if (!salt.empty()) {
        params[n++] = OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_SALT, const_cast<char *>(salt.data()), salt.size());
    }
    params[n] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(ctx.get(), out, len, params) != 1) {
        wipe(out, len);
        return failed();
    }
    return true;
}

EvpMacPtr fetchHmac() noexcept {
    EvpMacPtr mac(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
    if (!mac) {
        failed();
    }
    return mac;
}

EvpCipherPtr fetchAes256Gcm() noexcept {
    EvpCipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
    if (!cipher) {
        failed();
    }
    return cipher;
}

EvpMacCtxPtr hmacSha256Keyed(EVP_MAC *mac, const unsigned char *key,
                             std::size_t keyLen) noexcept {
    EvpMacCtxPtr ctx(mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr);
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!ctx || EVP_MAC_init(ctx.get(), key, keyLen, params) != 1) {
        failed();
        ctx.reset();
    }
    return ctx;
}

namespace {

// Feeds parts to ctx, keyed for HMAC-SHA256, and finishes it into out.
bool hmacFinish(EVP_MAC_CTX *ctx,
                std::initializer_list<std::string_view> parts,
                unsigned char *out) noexcept {
    bool ok = ctx != nullptr;
    for (const std::string_view part : parts) {
        const auto *data = reinterpret_cast<const unsigned char *>(part.data());
        ok = ok && EVP_MAC_update(ctx, data, part.size()) == 1;
    }
    std::size_t outLen = 0;
    ok = ok && EVP_MAC_final(ctx, out, &outLen, kSha256Length) == 1 &&
         outLen == kSha256Length;
    if (!ok) {
        wipe(out, kSha256Length);
        return failed();
    }
    return true;
}

}  // namespace

bool hmacSha256(const unsigned char *key, std::size_t keyLen,
                std::initializer_list<std::string_view> parts,
                unsigned char *out) noexcept {
    const EvpMacPtr mac = fetchHmac();
    const EvpMacCtxPtr ctx = hmacSha256Keyed(mac.get(), key, keyLen);
    return hmacFinish(ctx.get(), parts, out);
}

bool hmacSha256(const EVP_MAC_CTX *keyed,
                std::initializer_list<std::string_view> parts,
                unsigned char *out) noexcept {
    const EvpMacCtxPtr ctx(keyed != nullptr ? EVP_MAC_CTX_dup(keyed)
                                            : nullptr);
    return hmacFinish(ctx.get(), parts, out);
}

GcmResult aes256GcmEncrypt(const unsigned char *key, const unsigned char *nonce,
                           std::initializer_list<std::string_view> aad,
                           const unsigned char *in, std::size_t len,
                           unsigned char *out, unsigned char *tag) noexcept {
    return aes256GcmEncrypt(EVP_aes_256_gcm(), key, nonce, aad, in, len, out,
                            tag);
}

GcmResult aes256GcmDecrypt(const unsigned char *key, const unsigned char *nonce,
                           std::initializer_list<std::string_view> aad,
                           const unsigned char *in, std::size_t len,
                           const unsigned char *tag,
                           unsigned char *out) noexcept {
    return aes256GcmDecrypt(EVP_aes_256_gcm(), key, nonce, aad, in, len, tag,
                            out);
}

GcmResult aes256GcmEncrypt(const EVP_CIPHER *cipher, const unsigned char *key,
                           const unsigned char *nonce,
                           std::initializer_list<std::string_view> aad,
                           const unsigned char *in, std::size_t len,
                           unsigned char *out, unsigned char *tag) noexcept {
    if (!fitsCipher(aad, len)) {
        return GcmResult::Failed;
    }
    EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int outLen = 0;
    // GCM's final step writes nothing (a stream mode); out may be NULL.
    unsigned char scratch[EVP_MAX_BLOCK_LENGTH];
    // The default IV length of GCM in OpenSSL is 12 bytes (kGcmNonceLength).
    if (!ctx || cipher == nullptr ||
        EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key,
                           nonce) != 1 ||
        !addAad(ctx.get(), true, aad) ||
        (len != 0 && (EVP_EncryptUpdate(ctx.get(), out, &outLen, in,
                                        static_cast<int>(len)) != 1 ||
                      static_cast<std::size_t>(outLen) != len)) ||
        EVP_EncryptFinal_ex(ctx.get(), scratch, &outLen) != 1 ||
        outLen != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG,
                            static_cast<int>(kGcmTagLength), tag) != 1) {
        return gcmFailed(GcmResult::Failed);
    }
    return GcmResult::Ok;
}

GcmResult aes256GcmDecrypt(const EVP_CIPHER *cipher, const unsigned char *key,
                           const unsigned char *nonce,
                           std::initializer_list<std::string_view> aad,
                           const unsigned char *in, std::size_t len,
                           const unsigned char *tag,
                           unsigned char *out) noexcept {
    if (!fitsCipher(aad, len)) {
        return GcmResult::Failed;
    }
    EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int outLen = 0;
    // GCM's final step writes nothing (a stream mode); out may be NULL.
    unsigned char scratch[EVP_MAX_BLOCK_LENGTH];
    // EVP_CTRL_GCM_SET_TAG reads the buffer.
    unsigned char expected[kGcmTagLength];
    std::copy(tag, tag + kGcmTagLength, expected);
    if (!ctx || cipher == nullptr ||
        EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, key,
                           nonce) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG,
                            static_cast<int>(kGcmTagLength), expected) != 1 ||
        !addAad(ctx.get(), false, aad) ||
        (len != 0 && (EVP_DecryptUpdate(ctx.get(), out, &outLen, in,
                                        static_cast<int>(len)) != 1 ||
                      static_cast<std::size_t>(outLen) != len))) {
        return gcmFailed(GcmResult::Failed);
    }
    // The tag is compared (in constant time) here and only here.
    if (EVP_DecryptFinal_ex(ctx.get(), scratch, &outLen) != 1 || outLen != 0) {
        return gcmFailed(GcmResult::Mismatch);
    }
    return GcmResult::Ok;
}

}  // namespace auth_oidc
