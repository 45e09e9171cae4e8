#include "jwt/verify.h"

#include <limits>
#include <utility>
#include <vector>

#include "common/text.h"

namespace auth_oidc {

namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

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

Result<bool> verifySignatureOf(const CompactJws &jws, Alg alg,
                               const Jwks *jwks,
                               std::string_view clientSecret) {
    const char *algName = toString(alg);
    if (isHmac(alg)) {
        if (!verifyHmac(alg, clientSecret, jws.signingInput, jws.signature)) {
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

}  // namespace

Result<VerifiedJws> verifyJws(std::string_view token, const Jwks *jwks,
                              std::string_view clientSecret,
                              const AlgSet &algs) {
    auto parsed = CompactJws::parse(token);
    if (!parsed) {
        return std::move(parsed).error();
    }
    CompactJws &jws = parsed.value();

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
    if (!algs.test(static_cast<std::size_t>(*alg))) {
        return makeError(Status::Alg, std::string("\"alg\" ") +
                                          toString(*alg) +
                                          " is not in the allowed list");
    }
    if (isHmac(*alg) && clientSecret.empty()) {
        return makeError(Status::Alg, std::string(toString(*alg)) +
                                          " needs a client secret");
    }
    if (jws.signature.empty()) {
        return makeError(Status::Token, "signature is empty");
    }

    auto verified = verifySignatureOf(jws, *alg, jwks, clientSecret);
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
    return VerifiedJws{std::move(jws), std::move(claims).value()};
}

Result<std::optional<std::string_view>> headerType(const json_t *header) {
    using Type = std::optional<std::string_view>;
    const json_t *typ = json_object_get(header, "typ");
    if (typ == nullptr) {
        return Type();
    }
    const auto text = jsonStringView(typ);
    if (!text) {
        return makeError(Status::Field, "header \"typ\" is not a string");
    }
    std::string_view type = *text;
    constexpr std::string_view kPrefix = "application/";
    if (type.size() > kPrefix.size() &&
        equalsIgnoringCase(type.substr(0, kPrefix.size()), kPrefix)) {
        type.remove_prefix(kPrefix.size());
    }
    return Type(type);
}

std::int64_t saturatingAdd(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) {
        return b > 0 ? kInt64Max : kInt64Min;
    }
    return sum;
}

std::int64_t saturatingSub(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t difference = 0;
    if (__builtin_sub_overflow(a, b, &difference)) {
        return b < 0 ? kInt64Max : kInt64Min;
    }
    return difference;
}

std::string secondsText(std::int64_t value) {
    return std::to_string(value) + " s";
}

Error claimMustBe(std::string_view name, std::string_view expected) {
    std::string what = "claim \"";
    what += name;
    what += "\" must be ";
    what += expected;
    return makeError(Status::Field, what);
}

Result<bool> checkNotBefore(const Claims &claims, std::int64_t now,
                            std::int64_t leeway) {
    if (json_object_get(claims.root(), "nbf") == nullptr) {
        return true;
    }
    const auto nbf = claims.numericDate("nbf");
    if (!nbf) {
        return claimMustBe("nbf", "a number");
    }
    if (*nbf > saturatingAdd(now, leeway)) {
        return makeError(Status::NotYet,
                         "\"nbf\" " + std::to_string(*nbf) + " is " +
                             secondsText(saturatingSub(*nbf, now)) +
                             " in the future (leeway " + secondsText(leeway) +
                             ")");
    }
    return true;
}

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
        return claimMustBe("aud", "a string or a non-empty array of strings");
    }
    bool found = false;
    for (std::size_t i = 0; i < json_array_size(aud); ++i) {
        const auto item = jsonStringView(json_array_get(aud, i));
        if (!item) {
            return claimMustBe("aud",
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

Result<std::int64_t> checkIssuedAt(const Claims &claims, std::int64_t now,
                                   std::int64_t leeway,
                                   std::int64_t maxIatAge) {
    const auto iat = claims.numericDate("iat");
    if (!iat) {
        return claimMustBe("iat", "a number");
    }
    if (*iat > saturatingAdd(now, leeway)) {
        return makeError(Status::NotYet,
                         "\"iat\" " + std::to_string(*iat) + " is " +
                             secondsText(saturatingSub(*iat, now)) +
                             " in the future (leeway " + secondsText(leeway) +
                             ")");
    }
    if (maxIatAge > 0 &&
        *iat < saturatingSub(now, saturatingAdd(maxIatAge, leeway))) {
        return makeError(Status::Expired,
                         "\"iat\" " + std::to_string(*iat) + " is " +
                             secondsText(saturatingSub(now, *iat)) +
                             " ago, the limit is " + secondsText(maxIatAge) +
                             " (leeway " + secondsText(leeway) + ")");
    }
    return *iat;
}

Result<std::int64_t> checkExpiry(const Claims &claims, std::int64_t now,
                                 std::int64_t leeway) {
    const auto exp = claims.numericDate("exp");
    if (!exp) {
        return claimMustBe("exp", "a number");
    }
    if (now > saturatingAdd(*exp, leeway)) {
        return makeError(Status::Expired,
                         "\"exp\" " + std::to_string(*exp) + " is " +
                             secondsText(saturatingSub(now, *exp)) +
                             " ago (leeway " + secondsText(leeway) + ")");
    }
    return *exp;
}

Result<std::string_view> checkSubject(const Claims &claims) {
    const auto sub = claims.string("sub");
    if (!sub || sub->empty() || sub->size() > kMaxSubjectBytes) {
        return claimMustBe("sub", "a string of 1 to 255 bytes");
    }
    for (const char c : *sub) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            return claimMustBe("sub", "free of control characters");
        }
    }
    return *sub;
}

}  // namespace auth_oidc
