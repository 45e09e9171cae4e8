#include "jwt/id_token.h"

#include <openssl/crypto.h>

#include <utility>

#include "common/text.h"
#include "jwt/verify.h"
#include "jwt/issuer.h"

namespace auth_oidc {

namespace {

Result<bool> checkClaims(const Claims &claims,
                         const IdTokenExpectations &expect) {
    const json_t *root = claims.root();

    auto issuer = checkIssuer(claims, expect.issuer);
    if (!issuer) {
        return std::move(issuer).error();
    }

    auto audiences = checkAudience(claims, expect.clientId);
    if (!audiences) {
        return std::move(audiences).error();
    }
    const json_t *azp = json_object_get(root, "azp");
    if (azp != nullptr) {
        const auto text = jsonStringView(azp);
        if (!text) {
            return claimMustBe("azp", "a string");
        }
        if (*text != expect.clientId) {
            return makeError(Status::Azp, "\"azp\" is " +
                                              quoteForDetail(*text) +
                                              ", expected " +
                                              quoteForDetail(expect.clientId));
        }
    } else if (audiences.value() > 1) {
        return makeError(Status::Azp,
                         "\"aud\" has " + std::to_string(audiences.value()) +
                             " values but there is no \"azp\"");
    }

    auto exp = checkExpiry(claims, expect.now, expect.leeway);
    if (!exp) {
        return std::move(exp).error();
    }

    auto iat =
        checkIssuedAt(claims, expect.now, expect.leeway, expect.maxIatAge);
    if (!iat) {
        return std::move(iat).error();
    }

    auto nbf = checkNotBefore(claims, expect.now, expect.leeway);
    if (!nbf) {
        return std::move(nbf).error();
    }

    auto sub = checkSubject(claims);
    if (!sub) {
        return std::move(sub).error();
    }

    if (!expect.nonce.empty()) {
        // The values are secrets of this login: never quoted in details.
        const auto nonce = claims.string("nonce");
        if (!nonce) {
            return makeError(Status::Nonce, "the token has no \"nonce\"");
        }
        if (nonce->size() != expect.nonce.size() ||
            CRYPTO_memcmp(nonce->data(), expect.nonce.data(),
                          nonce->size()) != 0) {
            return makeError(Status::Nonce,
                             "\"nonce\" differs from the one sent");
        }
    }
    return true;
}

}  // namespace

Result<Claims> validateIdToken(std::string_view token, const Jwks *jwks,
                               const IdTokenExpectations &expect) {
    if (expect.issuer.empty() || expect.clientId.empty()) {
        return makeError(Status::InvalidArgument,
                         "issuer and client_id must not be empty");
    }
    if (expect.leeway < 0 || expect.maxIatAge < 0) {
        return makeError(Status::InvalidArgument,
                         "leeway and max_iat_age must not be negative");
    }

    auto verified = verifyJws(token, jwks, expect.clientSecret, expect.algs);
    if (!verified) {
        return std::move(verified).error();
    }
    Claims &claims = verified.value().claims;
    auto checked = checkClaims(claims, expect);
    if (!checked) {
        return std::move(checked).error();
    }
    return std::move(claims);
}

}  // namespace auth_oidc
