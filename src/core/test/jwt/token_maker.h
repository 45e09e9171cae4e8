#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "common/base64url.h"
#include "crypto/evp_pkey.h"

// Signs arbitrary header and payload JSON the way a provider would, so tests
// can produce valid tokens and every kind of broken one.

namespace auth_oidc::test {

inline EvpPkeyPtr loadPrivateKey(const char *pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem, -1),
                                                  &BIO_free);
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    EXPECT_TRUE(key) << "test key does not load";
    return key;
}

inline std::string b64(const std::vector<unsigned char> &bytes) {
    return encodeBase64Url(bytes.data(), bytes.size());
}

inline std::vector<unsigned char> bnParam(const EVP_PKEY *key, const char *name,
                                          int padTo = 0) {
    BIGNUM *bn = nullptr;
    EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1) << name;
    const int len = padTo > 0 ? padTo : BN_num_bytes(bn);
    std::vector<unsigned char> out(static_cast<std::size_t>(len));
    BN_bn2binpad(bn, out.data(), len);
    BN_free(bn);
    return out;
}

// The public half as a JWK object (JSON text); extra is appended inside the
// braces as is, e.g. R"("kid":"k1","alg":"RS256")".
inline std::string publicJwk(const EVP_PKEY *key, const std::string &extra) {
    std::string jwk;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        jwk = R"({"kty":"RSA","n":")" + b64(bnParam(key, OSSL_PKEY_PARAM_RSA_N)) +
              R"(","e":")" + b64(bnParam(key, OSSL_PKEY_PARAM_RSA_E)) + '"';
        break;
    case EVP_PKEY_EC: {
        const int bits = EVP_PKEY_get_bits(key);
        const int bytes = (bits + 7) / 8;
        const char *crv = bits == 256 ? "P-256" : bits == 384 ? "P-384" : "P-521";
        jwk = R"({"kty":"EC","crv":")" + std::string(crv) + R"(","x":")" +
              b64(bnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, bytes)) + R"(","y":")" +
              b64(bnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, bytes)) + '"';
        break;
    }
    case EVP_PKEY_ED25519: {
        std::vector<unsigned char> raw(32);
        std::size_t len = raw.size();
        EXPECT_EQ(EVP_PKEY_get_raw_public_key(key, raw.data(), &len), 1);
        jwk = R"({"kty":"OKP","crv":"Ed25519","x":")" + b64(raw) + '"';
        break;
    }
    default:
        ADD_FAILURE() << "unexpected key type";
    }
    if (!extra.empty()) {
        jwk += ',' + extra;
    }
    return jwk + '}';
}

inline const EVP_MD *shaFor(std::string_view alg) {
    if (alg.substr(2) == "384") {
        return EVP_sha384();
    }
    if (alg.substr(2) == "512") {
        return EVP_sha512();
    }
    return EVP_sha256();
}

// Signs input as alg ("RS256", "PS384", "ES256", "EdDSA", ...) with key,
// producing the JWS signature octets (raw R || S for ECDSA).
inline std::vector<unsigned char> signBytes(EVP_PKEY *key, std::string_view alg,
                                            std::string_view input) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                &EVP_MD_CTX_free);
    EVP_PKEY_CTX *pctx = nullptr;
    const EVP_MD *md = alg == "EdDSA" ? nullptr : shaFor(alg);
    EXPECT_EQ(EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key), 1);
    if (alg.substr(0, 2) == "PS") {
        EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        EXPECT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
    }
    const auto *data = reinterpret_cast<const unsigned char *>(input.data());
    std::size_t len = 0;
    EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()), 1);
    std::vector<unsigned char> sig(len);
    EXPECT_EQ(EVP_DigestSign(ctx.get(), sig.data(), &len, data, input.size()), 1);
    sig.resize(len);
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
        return sig;
    }
    // DER ECDSA-Sig-Value to the fixed-width R || S of RFC 7518, 3.4.
    const int half = (EVP_PKEY_get_bits(key) + 7) / 8;
    const unsigned char *p = sig.data();
    ECDSA_SIG *der = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::vector<unsigned char> raw(static_cast<std::size_t>(2 * half));
    BN_bn2binpad(ECDSA_SIG_get0_r(der), raw.data(), half);
    BN_bn2binpad(ECDSA_SIG_get0_s(der), raw.data() + half, half);
    ECDSA_SIG_free(der);
    return raw;
}

inline std::string signingInput(std::string_view header, std::string_view payload) {
    return encodeBase64Url(header) + '.' + encodeBase64Url(payload);
}

// Compact JWS of header and payload (JSON text, used verbatim).
inline std::string signToken(EVP_PKEY *key, std::string_view alg,
                             std::string_view header, std::string_view payload) {
    const std::string input = signingInput(header, payload);
    return input + '.' + b64(signBytes(key, alg, input));
}

inline std::string hmacToken(std::string_view secret, std::string_view alg,
                             std::string_view header, std::string_view payload) {
    const std::string input = signingInput(header, payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(shaFor(alg), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char *>(input.data()), input.size(), mac, &len);
    return input + '.' + encodeBase64Url(mac, len);
}

}  // namespace auth_oidc::test
