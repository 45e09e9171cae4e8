#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace auth_oidc {

// Inputs of an authentication request (OpenID Connect Core 1.0, section
// 3.1.2.1) with response_type=code. Values are raw, not percent-encoded.
struct AuthorizeRequest {
    // authorization_endpoint, an absolute http(s) URL; may have a query.
    std::string_view endpoint;
    std::string_view clientId;
    // Absolute http(s) URL without fragment (RFC 6749, section 3.1.2).
    std::string_view redirectUri;
    // Space-separated scope tokens; "openid" is put first when missing.
    std::string_view scope;
    std::string_view state;
    std::string_view nonce;
    // S256 challenge; empty: no PKCE parameters.
    std::string_view codeChallenge;
    // "a=b&c=d" appended verbatim after extraArgsProblem() found nothing.
    std::string_view extraArgs;
};

// The scope with tokens separated by single spaces and "openid" first (added
// when missing). Errors: InvalidArgument (a character outside RFC 6749,
// section 3.3's scope-token set).
Result<std::string> normalizeScope(std::string_view scope);

// Why extra authorization arguments cannot be appended, or nullptr when
// they can: every byte must be an RFC 3986 query character (percent signs
// followed by two hex digits), parameters separated by single "&" with a
// non-empty name, and no name (after percent-decoding) may be one the
// module sets itself: response_type, client_id, redirect_uri, scope, state,
// nonce, code_challenge, code_challenge_method. Empty is fine.
const char *extraArgsProblem(std::string_view args) noexcept;

// The complete authorization URL. Errors: InvalidArgument (empty
// client_id, state or nonce, bad scope or extra args, a code challenge that
// is not 43 base64url characters), Url (endpoint or redirect_uri).
Result<std::string> buildAuthorizeUrl(const AuthorizeRequest &request);

// Longest return path kept; longer ones fall back to "/".
inline constexpr std::size_t kMaxReturnPath = 2048;

// uri when it is a safe local redirect target, "/" otherwise. Safe: starts
// with exactly one "/" (so neither "//host" nor "/\host", which browsers
// read as another host), at most kMaxReturnPath bytes, only printable ASCII
// without backslashes (no spaces, tabs, CR, LF or other control bytes).
std::string_view safeReturnPath(std::string_view uri) noexcept;

}  // namespace auth_oidc
