#include "flow/client_assertion.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <limits>

#include "common/base64url.h"
#include "json/json.h"

namespace auth_oidc {

namespace {

struct BioDeleter {
    void operator()(BIO *bio) const noexcept { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

const unsigned char *bytesOf(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char *>(s.data());
}

Error keyError(std::string detail) {
    ERR_clear_error();
    return makeError(Status::InvalidArgument, detail);
}

// A DER ECDSA signature as JWS wants it: R and S, each left-padded to the
// coordinate size (RFC 7518, section 3.4).
bool rawEcdsa(std::string &sig, std::size_t coordinate) {
    const unsigned char *p = bytesOf(sig);
    EcdsaSigPtr parsed(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
    if (!parsed) {
        return false;
    }
    const BIGNUM *r = nullptr;
    const BIGNUM *s = nullptr;
    ECDSA_SIG_get0(parsed.get(), &r, &s);
    std::string raw(2 * coordinate, '\0');
    auto *out = reinterpret_cast<unsigned char *>(raw.data());
    if (BN_bn2binpad(r, out, static_cast<int>(coordinate)) < 0 ||
        BN_bn2binpad(s, out + coordinate, static_cast<int>(coordinate)) < 0) {
        return false;
    }
    sig = std::move(raw);
    return true;
}

Result<std::string> hmacSha256(std::string_view secret, std::string_view input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (secret.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), bytesOf(input),
             input.size(), mac, &len) == nullptr) {
        ERR_clear_error();
        return makeError(Status::Internal, "HMAC-SHA256 failed");
    }
    return std::string(reinterpret_cast<const char *>(mac), len);
}

}  // namespace

Result<std::shared_ptr<const ClientKey>> ClientKey::fromPem(std::string_view pem,
                                                           std::string_view keyId) {
    if (!std::all_of(keyId.begin(), keyId.end(),
                     [](char c) { return c > 0x20 && c < 0x7f; })) {
        return keyError("the key id has bytes outside printable ASCII");
    }
    if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        return keyError("the key file is too large");
    }
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) {
        return keyError("out of memory reading the key");
    }
    // an empty passphrase callback: an encrypted key fails instead of
    // prompting on nginx's terminal
    auto noPassphrase = [](char *, int, int, void *) -> int { return -1; };
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr));
    if (!key) {
        return keyError("not an unencrypted PEM private key");
    }
    std::shared_ptr<ClientKey> made(new ClientKey());
    switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(key.get()) < 2048) {
            return keyError("an RSA key of fewer than 2048 bits");
        }
        made->alg_ = "RS256";
        break;
    case EVP_PKEY_EC: {
        const int bits = EVP_PKEY_get_bits(key.get());
        made->alg_ = bits == 256 ? "ES256" : bits == 384 ? "ES384" : bits == 521 ? "ES512" : "";
        if (made->alg_.empty()) {
            return keyError("an EC key on a curve other than P-256, P-384 or P-521");
        }
        made->ecBytes_ = (static_cast<std::size_t>(bits) + 7) / 8;
        break;
    }
    case EVP_PKEY_ED25519:
        made->alg_ = "EdDSA";
        break;
    default:
        return keyError("a key type other than RSA, EC or Ed25519");
    }
    ERR_clear_error();
    made->key_ = std::move(key);
    made->keyId_ = keyId;
    return std::shared_ptr<const ClientKey>(std::move(made));
}

Result<std::string> ClientKey::sign(std::string_view input) const {
    const EVP_MD *md = alg_ == "ES384" ? EVP_sha384()
                       : alg_ == "ES512" ? EVP_sha512()
                       : alg_ == "EdDSA" ? nullptr
                                         : EVP_sha256();
    MdCtxPtr ctx(EVP_MD_CTX_new());
    std::size_t len = 0;
    if (!ctx ||
        EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, bytesOf(input), input.size()) != 1) {
        ERR_clear_error();
        return makeError(Status::Internal, "signing the client assertion failed");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(sig.data()), &len,
                       bytesOf(input), input.size()) != 1) {
        ERR_clear_error();
        return makeError(Status::Internal, "signing the client assertion failed");
    }
    sig.resize(len);
    if (ecBytes_ != 0 && !rawEcdsa(sig, ecBytes_)) {
        ERR_clear_error();
        return makeError(Status::Internal, "an ECDSA signature OpenSSL cannot read");
    }
    return sig;
}

Result<std::string> makeClientAssertion(const ClientAssertionInputs &in) {
    if (in.clientId.empty() || in.audience.empty() ||
        (in.key == nullptr && in.secret.empty())) {
        return makeError(Status::InvalidArgument,
                         "a client assertion needs a client_id, the token "
                         "endpoint and a key or a secret");
    }
    unsigned char random[16];
    if (RAND_bytes(random, sizeof(random)) != 1) {
        ERR_clear_error();
        return makeError(Status::Internal, "no randomness for the jti");
    }

    JsonPtr header(json_object());
    JsonPtr claims(json_object());
    if (!header || !claims) {
        return makeError(Status::NoMemory, "out of memory");
    }
    const std::string alg(in.key ? in.key->alg() : std::string_view("HS256"));
    json_object_set_new(header.get(), "alg", json_string(alg.c_str()));
    json_object_set_new(header.get(), "typ", json_string("JWT"));
    if (in.key && !in.key->keyId().empty()) {
        json_object_set_new(header.get(), "kid",
                            json_stringn(in.key->keyId().data(), in.key->keyId().size()));
    }
    json_object_set_new(claims.get(), "iss", json_stringn(in.clientId.data(), in.clientId.size()));
    json_object_set_new(claims.get(), "sub", json_stringn(in.clientId.data(), in.clientId.size()));
    json_object_set_new(claims.get(), "aud", json_stringn(in.audience.data(), in.audience.size()));
    json_object_set_new(claims.get(), "jti",
                        json_string(encodeBase64Url(random, sizeof(random)).c_str()));
    json_object_set_new(claims.get(), "iat", json_integer(in.now));
    json_object_set_new(claims.get(), "exp", json_integer(in.now + kClientAssertionLifetime));

    auto headerText = dumpJsonCompact(header.get());
    auto claimsText = dumpJsonCompact(claims.get());
    if (!headerText || !claimsText) {
        return makeError(Status::NoMemory, "out of memory");
    }
    std::string jwt = encodeBase64Url(headerText.value()) + "." +
                      encodeBase64Url(claimsText.value());
    auto sig = in.key ? in.key->sign(jwt) : hmacSha256(in.secret, jwt);
    if (!sig) {
        return std::move(sig).error();
    }
    jwt += '.';
    jwt += encodeBase64Url(sig.value());
    return jwt;
}

}  // namespace auth_oidc
