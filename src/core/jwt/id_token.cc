#include "jwt/id_token.h"

#include <openssl/crypto.h>

#include <limits>
#include <vector>

#include "common/text.h"
#include "jwt/jws.h"

namespace auth_oidc {

namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

// a + b and a - b, saturating instead of overflowing: the claims are
// bounded, but now, leeway and max_iat_age come from the caller.
std::int64_t plus(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) {
        return b > 0 ? kInt64Max : kInt64Min;
    }
    return sum;
}

std::int64_t minus(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t difference = 0;
    if (__builtin_sub_overflow(a, b, &difference)) {
        return b < 0 ? kInt64Max : kInt64Min;
    }
    return difference;
}

std::string seconds(std::int64_t value) {
    return std::to_string(value) + " s";
}

Error claimMissing(const char *name, const char *expected) {
    std::string what = "claim \"";
    what += name;
    what += "\" must be ";
    what += expected;
    return makeError(Status::Field, what);
}

std::string keyLabel(const Jwk &key) {
    std::string label = key.kid ? "key " + quoteForDetail(*key.kid, 40)
                                : std::string("key without kid");
    label += " (";
    label += toString(key.type);
    if (!key.crv.empty()) {
        label += ' ';
        label += key.crv;
    }
    label += ')';
    return label;
}

Result<bool> verify(const CompactJws &jws, Alg alg, const Jwks *jwks,
                    const IdTokenExpectations &expect) {
    const char *algName = toString(alg);
    if (isHmac(alg)) {
        if (!verifyHmac(alg, expect.clientSecret, jws.signingInput,
                        jws.signature)) {
            return makeError(Status::Signature,
                             std::string(algName) +
                                 " MAC does not match the client secret");
        }
        return true;
    }
    if (jwks == nullptr || jwks->keys().empty()) {
        return makeError(Status::Kid, "no JWKS loaded");
    }

    std::vector<const Jwk *> candidates;
    std::vector<const Jwk *> unfit;
    bool kidFound = false;
    if (jws.kid) {
        for (const Jwk &key : jwks->keys()) {
            if (key.kid && *key.kid == *jws.kid) {
                kidFound = true;
                (keyFitsAlg(key, alg) ? candidates : unfit).push_back(&key);
            }
        }
    }
    if (!kidFound) {
        // No kid in the token, or none of the keys has it: keys without a
        // kid are the candidates then (with no kid in the token, all keys).
        for (const Jwk &key : jwks->keys()) {
            if (jws.kid && key.kid) {
                continue;
            }
            (keyFitsAlg(key, alg) ? candidates : unfit).push_back(&key);
        }
    }
    if (candidates.empty()) {
        if (!unfit.empty() && kidFound) {
            return makeError(Status::Signature,
                             keyLabel(*unfit.front()) + " cannot verify " +
                                 algName);
        }
        if (jws.kid) {
            return makeError(Status::Kid, "no key with kid " +
                                              quoteForDetail(*jws.kid, 60) +
                                              " for " + algName);
        }
        return makeError(Status::Kid, std::string("no key for ") + algName +
                                          " (the token names no kid)");
    }
    for (const Jwk *key : candidates) {
        if (verifySignature(alg, *key, jws.signingInput, jws.signature)) {
            return true;
        }
    }
    if (candidates.size() == 1) {
        return makeError(Status::Signature,
                         std::string(algName) + " signature does not verify "
                                                "with " +
                             keyLabel(*candidates.front()));
    }
    return makeError(Status::Signature,
                     std::string(algName) +
                         " signature does not verify with any of " +
                         std::to_string(candidates.size()) + " keys");
}

// "aud": a string or an array of strings (RFC 7519, section 4.1.3).
Result<std::size_t> checkAudience(const Claims &claims,
                                  std::string_view clientId) {
    const json_t *aud = json_object_get(claims.root(), "aud");
    if (const auto single = jsonStringView(aud)) {
        if (*single != clientId) {
            return makeError(Status::Audience,
                             "\"aud\" is " + quoteForDetail(*single) +
                                 ", expected " + quoteForDetail(clientId));
        }
        return std::size_t{1};
    }
    if (!json_is_array(aud) || json_array_size(aud) == 0) {
        return claimMissing("aud", "a string or a non-empty array of strings");
    }
    bool found = false;
    for (std::size_t i = 0; i < json_array_size(aud); ++i) {
        const auto item = jsonStringView(json_array_get(aud, i));
        if (!item) {
            return claimMissing("aud",
                                "a string or a non-empty array of strings");
        }
        found = found || *item == clientId;
    }
    if (!found) {
        return makeError(Status::Audience,
                         "\"aud\" does not list " + quoteForDetail(clientId) +
                             " among its " +
                             std::to_string(json_array_size(aud)) + " values");
    }
    return json_array_size(aud);
}

Result<bool> checkClaims(const Claims &claims,
                         const IdTokenExpectations &expect) {
    const json_t *root = claims.root();

    const auto iss = claims.string("iss");
    if (!iss) {
        return claimMissing("iss", "a string");
    }
    if (*iss != expect.issuer) {
        return makeError(Status::Issuer, "\"iss\" is " + quoteForDetail(*iss) +
                                             ", expected " +
                                             quoteForDetail(expect.issuer));
    }

    auto audiences = checkAudience(claims, expect.clientId);
    if (!audiences) {
        return std::move(audiences).error();
    }
    const json_t *azp = json_object_get(root, "azp");
    if (azp != nullptr) {
        const auto text = jsonStringView(azp);
        if (!text) {
            return claimMissing("azp", "a string");
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

    const auto exp = claims.numericDate("exp");
    if (!exp) {
        return claimMissing("exp", "a number");
    }
    if (expect.now > plus(*exp, expect.leeway)) {
        return makeError(Status::Expired,
                         "\"exp\" " + std::to_string(*exp) + " is " +
                             seconds(minus(expect.now, *exp)) +
                             " ago (leeway " + seconds(expect.leeway) + ")");
    }

    const auto iat = claims.numericDate("iat");
    if (!iat) {
        return claimMissing("iat", "a number");
    }
    if (*iat > plus(expect.now, expect.leeway)) {
        return makeError(Status::NotYet,
                         "\"iat\" " + std::to_string(*iat) + " is " +
                             seconds(minus(*iat, expect.now)) +
                             " in the future (leeway " +
                             seconds(expect.leeway) + ")");
    }
    if (expect.maxIatAge > 0 &&
        *iat < minus(expect.now, plus(expect.maxIatAge, expect.leeway))) {
        return makeError(Status::Expired,
                         "\"iat\" " + std::to_string(*iat) + " is " +
                             seconds(minus(expect.now, *iat)) +
                             " ago, the limit is " +
                             seconds(expect.maxIatAge) + " (leeway " +
                             seconds(expect.leeway) + ")");
    }

    if (json_object_get(root, "nbf") != nullptr) {
        const auto nbf = claims.numericDate("nbf");
        if (!nbf) {
            return claimMissing("nbf", "a number");
        }
        if (*nbf > plus(expect.now, expect.leeway)) {
            return makeError(Status::NotYet,
                             "\"nbf\" " + std::to_string(*nbf) + " is " +
                                 seconds(minus(*nbf, expect.now)) +
                                 " in the future (leeway " +
                                 seconds(expect.leeway) + ")");
        }
    }

    const auto sub = claims.string("sub");
    if (!sub || sub->empty() || sub->size() > kMaxSubjectBytes) {
        return claimMissing("sub", "a string of 1 to 255 bytes");
    }
    for (const char c : *sub) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            return claimMissing("sub", "free of control characters");
        }
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

    auto parsed = CompactJws::parse(token);
    if (!parsed) {
        return std::move(parsed).error();
    }
    const CompactJws &jws = parsed.value();

    // RFC 8725, section 2.1: the algorithm comes from the allow list, never
    // from the token alone.
    if (jws.alg == "none") {
        return makeError(Status::Alg, "unsigned tokens (\"alg\":\"none\") "
                                      "are never accepted");
    }
    const auto alg = algFromName(jws.alg);
    if (!alg) {
        return makeError(Status::Alg,
                         "unsupported \"alg\" " + quoteForDetail(jws.alg, 20));
    }
    if (!expect.algs.test(static_cast<std::size_t>(*alg))) {
        return makeError(Status::Alg, std::string("\"alg\" ") +
                                          toString(*alg) +
                                          " is not in the allowed list");
    }
    if (isHmac(*alg) && expect.clientSecret.empty()) {
        return makeError(Status::Alg, std::string(toString(*alg)) +
                                          " needs a client secret");
    }
    if (jws.signature.empty()) {
        return makeError(Status::Token, "signature is empty");
    }

    auto verified = verify(jws, *alg, jwks, expect);
    if (!verified) {
        return std::move(verified).error();
    }

    auto payload = parseJsonObject(
        std::string_view(reinterpret_cast<const char *>(jws.payload.data()),
                         jws.payload.size()));
    if (!payload) {
        if (payload.status() == Status::NoMemory) {
            return std::move(payload).error();
        }
        return makeError(Status::Token, "payload: " + payload.error().detail);
    }
    auto claims = Claims::fromObject(std::move(payload).value());
    if (!claims) {
        return std::move(claims).error();
    }
    auto checked = checkClaims(claims.value(), expect);
    if (!checked) {
        return std::move(checked).error();
    }
    return claims;
}

}  // namespace auth_oidc
