#include "flow/step.h"

#include "crypto/digest.h"

namespace auth_oidc {

namespace {

std::string hashedKey(std::string_view provider, std::string_view kind,
                      std::string_view value) {
    std::string key(provider);
    key += '\n';
    key += kind;
    key += '\n';
    // SHA-256 cannot fail short of memory; the value itself then, which a
    // store refuses when too long (a logout that says so, no crash).
    key += sha256Base64Url(value).value_or(std::string(value));
    return key;
}

}  // namespace

std::string sessionIndexKey(std::string_view provider, std::string_view kind,
                            std::string_view value) {
    return hashedKey(provider, kind, value);
}

std::string usedJtiKey(std::string_view provider, std::string_view jti) {
    return hashedKey(provider, "jti", jti);
}

}  // namespace auth_oidc
