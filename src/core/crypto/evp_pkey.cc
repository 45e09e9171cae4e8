#include "crypto/evp_pkey.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

namespace auth_oidc {

namespace {

struct BnDeleter {
    void operator()(BIGNUM *bn) const noexcept { BN_free(bn); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

struct ParamBldDeleter {
    void operator()(OSSL_PARAM_BLD *bld) const noexcept {
        OSSL_PARAM_BLD_free(bld);
    }
};
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter>;

struct ParamDeleter {
    void operator()(OSSL_PARAM *params) const noexcept {
        OSSL_PARAM_free(params);
    }
};
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamDeleter>;

struct PkeyCtxDeleter {
    void operator()(EVP_PKEY_CTX *ctx) const noexcept { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

BnPtr toBn(const std::vector<unsigned char> &bytes) {
    return BnPtr(
        BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
}

EvpPkeyPtr fromParams(const char *type, OSSL_PARAM_BLD *bld) {
    ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY *key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY,
                          params.get()) != 1) {
        EVP_PKEY_free(key);
        key = nullptr;
    }
    return EvpPkeyPtr(key);
}

// Clears the queue whether or not the build worked: OpenSSL may leave
// entries behind even on success (decoder probing).
EvpPkeyPtr cleared(EvpPkeyPtr key) noexcept {
    ERR_clear_error();
    return key;
}

}  // namespace

EvpPkeyPtr rsaPublicKey(const std::vector<unsigned char> &n,
                        const std::vector<unsigned char> &e) {
    const BnPtr bnN = toBn(n);
    const BnPtr bnE = toBn(e);
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bnN || !bnE || !bld ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bnN.get()) !=
            1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bnE.get()) !=
            1) {
        return cleared(nullptr);
    }
    return cleared(fromParams("RSA", bld.get()));
}

EvpPkeyPtr ecPublicKey(std::string_view crv,
                       const std::vector<unsigned char> &x,
                       const std::vector<unsigned char> &y) {
    const char *group = nullptr;
    if (crv == "P-256") {
        group = "prime256v1";
    } else if (crv == "P-384") {
        group = "secp384r1";
    } else if (crv == "P-521") {
        group = "secp521r1";
    } else {
        return nullptr;
    }
    // SEC 1, section 2.3.3: uncompressed point 0x04 || X || Y.
    std::vector<unsigned char> point;
    point.reserve(1 + x.size() + y.size());
    point.push_back(0x04);
    point.insert(point.end(), x.begin(), x.end());
    point.insert(point.end(), y.begin(), y.end());
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                        group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                         point.data(), point.size()) != 1) {
        return cleared(nullptr);
    }
    return cleared(fromParams("EC", bld.get()));
}

}  // namespace auth_oidc
