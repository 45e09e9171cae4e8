#include "jwt/algorithm.h"

#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <array>
#include <limits>
#include <memory>
#include <tuple>

#include "common/text.h"
#include "crypto/evp_pkey.h"

namespace auth_oidc {

namespace {

enum class Family {
    RsaPkcs1,
    RsaPss,
    Ecdsa,
    EdDsa,
    Hmac,
};

struct AlgInfo {
    const char *name;
    Family family;
    // SHA-2 size in bits; 0 for EdDSA (the curve fixes the hash).
    int shaBits;
    // ES*: the curve and its coordinate size.
    std::string_view curve;
    std::size_t coordinateBytes;
};

constexpr std::array<AlgInfo, kAlgCount> kAlgs = {{
    {"RS256", Family::RsaPkcs1, 256, {}, 0},
    {"RS384", Family::RsaPkcs1, 384, {}, 0},
    {"RS512", Family::RsaPkcs1, 512, {}, 0},
    {"PS256", Family::RsaPss, 256, {}, 0},
    {"PS384", Family::RsaPss, 384, {}, 0},
    {"PS512", Family::RsaPss, 512, {}, 0},
    {"ES256", Family::Ecdsa, 256, "P-256", 32},
    {"ES384", Family::Ecdsa, 384, "P-384", 48},
    {"ES512", Family::Ecdsa, 512, "P-521", 66},
    {"EdDSA", Family::EdDsa, 0, {}, 0},
    {"HS256", Family::Hmac, 256, {}, 0},
    {"HS384", Family::Hmac, 384, {}, 0},
    {"HS512", Family::Hmac, 512, {}, 0},
}};

const AlgInfo &info(Alg alg) noexcept {
    return kAlgs[static_cast<std::size_t>(alg)];
}

// SHA-2 digests fetched once per process: EVP_sha256() and friends are
// legacy handles that OpenSSL 3 resolves to a provider implementation again
// on every use. Freed when the library is unloaded (nginx unloads its
// modules as a worker exits), so that a leak checker sees nothing left.
struct Digests {
    EVP_MD *sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    EVP_MD *sha384 = EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
    EVP_MD *sha512 = EVP_MD_fetch(nullptr, "SHA2-512", nullptr);

    Digests() = default;
    Digests(const Digests &) = delete;
    Digests &operator=(const Digests &) = delete;
    ~Digests() {
        EVP_MD_free(sha256);
        EVP_MD_free(sha384);
        EVP_MD_free(sha512);
    }
};

const EVP_MD *digest(int bits) noexcept {
    static const Digests digests;
    switch (bits) {
    case 256:
        return digests.sha256;
    case 384:
        return digests.sha384;
    case 512:
        return digests.sha512;
    default:
        return nullptr;
    }
}

const unsigned char *bytesOf(std::string_view text) noexcept {
    return reinterpret_cast<const unsigned char *>(text.data());
}

// RFC 7518, section 3.4: R and S as big-endian integers of the coordinate
// size each, concatenated. OpenSSL wants the DER form.
bool ecdsaToDer(const std::vector<unsigned char> &raw,
                std::size_t coordinateBytes, std::vector<unsigned char> &der) {
    if (raw.size() != 2 * coordinateBytes) {
        return false;
    }
    const int half = static_cast<int>(coordinateBytes);
    EcdsaSigPtr sig(ECDSA_SIG_new());
    BIGNUM *r = BN_bin2bn(raw.data(), half, nullptr);
    BIGNUM *s = BN_bin2bn(raw.data() + coordinateBytes, half, nullptr);
    if (!sig || r == nullptr || s == nullptr ||
        ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return false;
    }
    // Owned by sig from here on.
    const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0) {
        return false;
    }
    der.resize(static_cast<std::size_t>(len));
    unsigned char *out = der.data();
    return i2d_ECDSA_SIG(sig.get(), &out) == len;
}

// A context ready for EVP_PKEY_verify() with key under alg (not EdDSA):
// padding, digest and, for PSS, MGF1 and salt length set.
EvpPkeyCtxPtr prepareVerifier(const AlgInfo &alg, EVP_PKEY *key) {
    const EVP_MD *md = digest(alg.shaBits);
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    if (!ctx || md == nullptr || EVP_PKEY_verify_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) {
        return nullptr;
    }
    if (alg.family == Family::RsaPkcs1 &&
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
        return nullptr;
    }
    // RFC 7518, section 3.5: MGF1 with the same hash, salt as long as the
    // hash output; RSA_PSS_SALTLEN_DIGEST makes OpenSSL insist on that.
    if (alg.family == Family::RsaPss &&
        (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) !=
             1)) {
        return nullptr;
    }
    return ctx;
}

// RSA and ECDSA: hash, then verify the digest on the key's prepared context
// for alg (the same parameters every time, as EVP_PKEY_verify() allows).
bool digestThenVerify(Alg id, const AlgInfo &alg, const Jwk &key,
                      EVP_PKEY *pkey, std::string_view signingInput,
                      const std::vector<unsigned char> &signature) {
    static_assert(kAlgCount <= std::tuple_size_v<decltype(key.verifiers)>);
    EvpPkeyCtxPtr &verifier = key.verifiers[static_cast<std::size_t>(id)];
    if (!verifier) {
        verifier = prepareVerifier(alg, pkey);
        if (!verifier) {
            return false;
        }
    }
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int hashLen = 0;
    if (EVP_Digest(signingInput.data(), signingInput.size(), hash, &hashLen,
                   digest(alg.shaBits), nullptr) != 1) {
        return false;
    }
    std::vector<unsigned char> der;
    const std::vector<unsigned char> *sig = &signature;
    if (alg.family == Family::Ecdsa) {
        if (!ecdsaToDer(signature, alg.coordinateBytes, der)) {
            return false;
        }
        sig = &der;
    }
    return EVP_PKEY_verify(verifier.get(), sig->data(), sig->size(), hash,
                           hashLen) == 1;
}

// EdDSA signs the message itself: no digest (RFC 8032, "PureEdDSA"), and
// OpenSSL offers it only as a one-shot EVP_DigestVerify().
bool pureVerify(EVP_PKEY *key, std::string_view signingInput,
                const std::vector<unsigned char> &signature) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    return ctx &&
           EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) ==
               1 &&
           EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                            bytesOf(signingInput), signingInput.size()) == 1;
}

}  // namespace

const char *toString(Alg alg) noexcept {
    return info(alg).name;
}

std::optional<Alg> algFromName(std::string_view name) noexcept {
    for (std::size_t i = 0; i < kAlgs.size(); ++i) {
        if (name == kAlgs[i].name) {
            return static_cast<Alg>(i);
        }
    }
    return std::nullopt;
}

bool isHmac(Alg alg) noexcept {
    return info(alg).family == Family::Hmac;
}

AlgSet defaultAlgs() noexcept {
    AlgSet set;
    for (std::size_t i = 0; i < kAlgs.size(); ++i) {
        set[i] = kAlgs[i].family != Family::Hmac;
    }
    return set;
}

Result<AlgSet> parseAlgList(std::string_view list) {
    AlgSet set;
    bool any = false;
    std::size_t pos = 0;
    while (pos < list.size()) {
        const std::size_t end = list.find_first_of(", ", pos);
        const std::string_view name =
            list.substr(pos, end == std::string_view::npos ? end : end - pos);
        pos = end == std::string_view::npos ? list.size() : end + 1;
        if (name.empty()) {
            continue;
        }
        any = true;
        if (name == "none") {
            continue;
        }
        const auto alg = algFromName(name);
        if (!alg) {
            return makeError(Status::InvalidArgument,
                             "unknown signature algorithm " +
                                 quoteForDetail(name));
        }
        set.set(static_cast<std::size_t>(*alg));
    }
    if (!any) {
        return defaultAlgs();
    }
    return set;
}

bool keyFitsAlg(const Jwk &key, Alg alg) noexcept {
    if (key.alg && *key.alg != toString(alg)) {
        return false;
    }
    const AlgInfo &a = info(alg);
    switch (a.family) {
    case Family::RsaPkcs1:
    case Family::RsaPss:
        return key.type == KeyType::Rsa;
    case Family::Ecdsa:
        return key.type == KeyType::Ec && key.crv == a.curve;
    case Family::EdDsa:
        return key.type == KeyType::Okp;
    case Family::Hmac:
        return false;
    }
    return false;
}

bool verifySignature(Alg alg, const Jwk &key, std::string_view signingInput,
                     const std::vector<unsigned char> &signature) noexcept {
    bool ok = false;
    try {
        const EVP_PKEY *pkey = verificationKey(key);
        // OpenSSL takes the key non-const but only reads it (and takes a
        // reference).
        const AlgInfo &a = info(alg);
        auto *mutableKey = const_cast<EVP_PKEY *>(pkey);
        ok = pkey != nullptr && keyFitsAlg(key, alg) &&
             (a.family == Family::EdDsa
                  ? pureVerify(mutableKey, signingInput, signature)
                  : digestThenVerify(alg, a, key, mutableKey, signingInput,
                                     signature));
    } catch (...) {
        ok = false;
    }
    ERR_clear_error();
    return ok;
}

bool verifyHmac(Alg alg, std::string_view secret, std::string_view signingInput,
                const std::vector<unsigned char> &signature) noexcept {
    const AlgInfo &a = info(alg);
    const EVP_MD *md = digest(a.shaBits);
    if (a.family != Family::Hmac || md == nullptr || secret.empty() ||
        secret.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        return false;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int macLen = 0;
    const bool computed =
        HMAC(md, secret.data(), static_cast<int>(secret.size()),
             bytesOf(signingInput), signingInput.size(), mac, &macLen) !=
        nullptr;
    ERR_clear_error();
    return computed && signature.size() == macLen &&
           CRYPTO_memcmp(mac, signature.data(), macLen) == 0;
}

}  // namespace auth_oidc
