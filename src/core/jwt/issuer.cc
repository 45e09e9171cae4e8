#include "jwt/issuer.h"

#include <algorithm>

#include "common/text.h"
#include "jwt/claims.h"
#include "jwt/verify.h"

namespace auth_oidc {

bool isIssuerTemplate(std::string_view issuer) noexcept {
    return issuer.find(kTenantPlaceholder) != std::string_view::npos;
}

std::string issuerOfTenant(std::string_view issuerTemplate,
                           std::string_view tenant) {
    const std::size_t at = issuerTemplate.find(kTenantPlaceholder);
    std::string out(issuerTemplate.substr(0, at));
    out.append(tenant.data(), tenant.size());
    const std::string_view rest =
        issuerTemplate.substr(at + kTenantPlaceholder.size());
    out.append(rest.data(), rest.size());
    return out;
}

bool validTenant(std::string_view tenant) noexcept {
    return !tenant.empty() && tenant.size() <= 64 &&
           std::all_of(tenant.begin(), tenant.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-';
           });
}

bool issuerMatches(std::string_view issuer, std::string_view value) noexcept {
    if (!isIssuerTemplate(issuer)) {
        return value == issuer;
    }
    const std::size_t at = issuer.find(kTenantPlaceholder);
    const std::string_view head = issuer.substr(0, at);
    const std::string_view tail = issuer.substr(at + kTenantPlaceholder.size());
    return value.size() > head.size() + tail.size() &&
           value.substr(0, head.size()) == head &&
           value.substr(value.size() - tail.size()) == tail &&
           validTenant(value.substr(
               head.size(), value.size() - head.size() - tail.size()));
}

Result<bool> checkIssuer(const Claims &claims, std::string_view issuer) {
    const auto iss = claims.string("iss");
    if (!iss) {
        return claimMustBe("iss", "a string");
    }
    if (!isIssuerTemplate(issuer)) {
        if (*iss != issuer) {
            return makeError(Status::Issuer,
                             "\"iss\" is " + quoteForDetail(*iss) +
                                 ", expected " + quoteForDetail(issuer));
        }
        return true;
    }
    const auto tid = claims.string("tid");
    if (!tid || !validTenant(*tid)) {
        return makeError(Status::Issuer,
                         "\"tid\" is missing or not a tenant id, and the "
                         "issuer " + quoteForDetail(issuer) +
                             " names the token's tenant");
    }
    const std::string expected = issuerOfTenant(issuer, *tid);
    if (*iss != expected) {
        return makeError(Status::Issuer,
                         "\"iss\" is " + quoteForDetail(*iss) +
                             ", expected " + quoteForDetail(expected) +
                             " for its \"tid\"");
    }
    return true;
}

}  // namespace auth_oidc
