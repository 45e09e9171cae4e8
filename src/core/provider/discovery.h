#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace auth_oidc {

// OpenID Provider metadata (OpenID Connect Discovery 1.0, section 3), reduced
// to what the module uses or reports.
class Discovery {
public:
    // Same order and values as auth_oidc_endpoint_t.
    enum class Endpoint {
        Authorization = 0,
        Token,
        Userinfo,
        Jwks,
        EndSession,
        Revocation,
        Introspection,
    };
    static constexpr std::size_t kEndpointCount = 7;

    enum class List {
        Scopes = 0,
        ResponseTypes,
        CodeChallengeMethods,
        IdTokenSigningAlgs,
        TokenEndpointAuthMethods,
        GrantTypes,
    };
    static constexpr std::size_t kListCount = 6;

    enum class Flag {
        FrontchannelLogout = 0,
        BackchannelLogout,
        // RFC 9207: every authorization response carries "iss".
        AuthorizationResponseIss,
    };
    static constexpr std::size_t kFlagCount = 3;

    // Discovery documents are a few KiB; anything near this is not one.
    static constexpr std::size_t kMaxDocumentBytes = 1024 * 1024;

    // Errors: TooLarge, Json, Field, Issuer, Url, NoMemory.
    static Result<Discovery> parse(std::string_view document,
                                   std::string_view expectedIssuer);

    // Metadata member name, e.g. "jwks_uri".
    static const char *memberName(Endpoint which) noexcept;
    static const char *memberName(List which) noexcept;
    static const char *memberName(Flag which) noexcept;

    const std::string &issuer() const noexcept { return issuer_; }

    // Always set for the required endpoints (authorization, token, jwks).
    const std::optional<std::string> &endpoint(Endpoint which) const noexcept {
        return endpoints_[static_cast<std::size_t>(which)];
    }
    const std::optional<std::vector<std::string>> &list(
        List which) const noexcept {
        return lists_[static_cast<std::size_t>(which)];
    }
    std::optional<bool> flag(Flag which) const noexcept {
        return flags_[static_cast<std::size_t>(which)];
    }

    // Whether code_challenge_methods_supported lists "S256"; std::nullopt when
    // the provider does not publish the member at all.
    std::optional<bool> supportsPkceS256() const noexcept;

    // Compact JSON object: issuer, the endpoints present, then the lists and
    // flags present, each under its metadata name.
    Result<std::string> describe() const;

private:
    Discovery() = default;

    std::string issuer_;
    std::array<std::optional<std::string>, kEndpointCount> endpoints_;
    std::array<std::optional<std::vector<std::string>>, kListCount> lists_;
    std::array<std::optional<bool>, kFlagCount> flags_;
};

}  // namespace auth_oidc
