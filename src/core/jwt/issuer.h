#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace auth_oidc {

class Claims;

// A multi-tenant provider (Microsoft Entra ID's "common" and
// "organizations" endpoints) publishes one issuer for every tenant, with
// the placeholder kTenantPlaceholder where each token's own issuer has its
// tenant: https://login.microsoftonline.com/{tenantid}/v2.0. Such a token
// is accepted only when its "iss" is that template with the token's "tid"
// in place of the placeholder: never any issuer at all. Which tenants may
// log in is then the configuration's choice ($oidc_claim_tid).
inline constexpr std::string_view kTenantPlaceholder = "{tenantid}";

bool isIssuerTemplate(std::string_view issuer) noexcept;

// The issuer a token of tenant has under template.
std::string issuerOfTenant(std::string_view issuerTemplate,
                           std::string_view tenant);

// A tenant id as it may stand in an issuer: 1 to 64 letters, digits and
// "-" (Entra's are GUIDs).
bool validTenant(std::string_view tenant) noexcept;

// Whether value is issuer, or an issuer of some valid tenant under the
// template issuer (an authorization response's "iss", RFC 9207, which
// comes before the token that says the tenant).
bool issuerMatches(std::string_view issuer, std::string_view value) noexcept;

// "iss" present and equal to issuer byte for byte, or for a template to
// the issuer of the token's own "tid". Errors: Field, Issuer.
Result<bool> checkIssuer(const Claims &claims, std::string_view issuer);

}  // namespace auth_oidc
