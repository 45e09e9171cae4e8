#include "jwt/jws.h"

#include <algorithm>

#include "common/base64url.h"
#include "common/text.h"

namespace auth_oidc {

namespace {

Error malformed(std::string_view what) {
    return makeError(Status::Token, what);
}

}  // namespace

Result<CompactJws> CompactJws::parse(std::string_view token) {
    if (token.size() > kMaxBytes) {
        return makeError(Status::TooLarge,
                         "token is " + std::to_string(token.size()) +
                             " bytes, the limit is " +
                             std::to_string(kMaxBytes));
    }
    if (token.empty()) {
        return malformed("token is empty");
    }
    const auto dots = std::count(token.begin(), token.end(), '.');
    if (dots != 2) {
        // Five parts would be a JWE (RFC 7516): encrypted ID tokens are not
        // supported.
        return malformed("a compact JWS has 3 parts, this token has " +
                         std::to_string(dots + 1));
    }
    const std::size_t first = token.find('.');
    const std::size_t second = token.find('.', first + 1);
    const std::string_view headerPart = token.substr(0, first);
    const std::string_view payloadPart =
        token.substr(first + 1, second - first - 1);
    const std::string_view signaturePart = token.substr(second + 1);

    CompactJws jws;
    jws.signingInput = token.substr(0, second);

    auto headerBytes = decodeBase64Url(headerPart);
    if (!headerBytes || headerBytes->empty()) {
        return malformed("header is not base64url");
    }
    auto header = parseJsonObject(std::string_view(
        reinterpret_cast<const char *>(headerBytes->data()),
        headerBytes->size()));
    if (!header) {
        if (header.status() == Status::NoMemory) {
            return std::move(header).error();
        }
        return malformed("header: " + header.error().detail);
    }
    jws.header = std::move(header).value();
    const json_t *root = jws.header.get();

    const json_t *alg = json_object_get(root, "alg");
    const auto algText = jsonStringView(alg);
    if (!algText) {
        return malformed(alg == nullptr ? "header has no \"alg\""
                                        : "header \"alg\" is not a string");
    }
    jws.alg = std::string(*algText);

    // RFC 7515, section 4.1.11: extensions listed in "crit" must be
    // understood, and this implementation understands none (an empty list
    // is invalid too).
    if (json_object_get(root, "crit") != nullptr) {
        return malformed("header has \"crit\" extensions, none is supported");
    }

    if (const json_t *kid = json_object_get(root, "kid")) {
        const auto kidText = jsonStringView(kid);
        if (!kidText) {
            return malformed("header \"kid\" is not a string");
        }
        jws.kid = std::string(*kidText);
    }

    auto payload = decodeBase64Url(payloadPart);
    if (!payload || payload->empty()) {
        return malformed("payload is not base64url");
    }
    jws.payload = std::move(*payload);

    auto signature = decodeBase64Url(signaturePart);
    if (!signature) {
        return malformed("signature is not base64url");
    }
    jws.signature = std::move(*signature);
    return Result<CompactJws>(std::move(jws));
}

}  // namespace auth_oidc
