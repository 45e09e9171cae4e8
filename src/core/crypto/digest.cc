#include "crypto/digest.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>

#include "common/base64url.h"

namespace auth_oidc {

namespace {

struct MdCtxFree {
    void operator()(EVP_MD_CTX *ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

}  // namespace

// OpenSSL 3 looks a digest up in its providers on every EVP_Digest(EVP_sha256())
// or SHA256() call, which costs more than hashing a bearer token (one per
// API request): the digest is fetched once, and each thread keeps one
// context. Both live as long as the process.
bool sha256(std::string_view data, unsigned char (&out)[kSha256Bytes]) noexcept {
    static EVP_MD *const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    unsigned int len = 0;
    if (md == nullptr || !ctx ||
        EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), out, &len) != 1 || len != kSha256Bytes) {
        ERR_clear_error();
        return false;
    }
    return true;
}

std::optional<std::string> sha256Base64Url(std::string_view data) {
    unsigned char digest[kSha256Bytes];
    if (!sha256(data, digest)) {
        return std::nullopt;
    }
    return encodeBase64Url(digest, sizeof(digest));
}

}  // namespace auth_oidc
