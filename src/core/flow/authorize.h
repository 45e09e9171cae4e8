#pragma once

#include <cstddef>
#include <cstdint>
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
    // Step-up (OpenID Connect Core 1.0, 3.1.2.1): space-separated acr
    // values, and the longest age of the authentication (-1: not sent).
    std::string_view acrValues;
    std::int64_t maxAge = -1;
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

// Where a login started by a request of origin ("http(s)://host[:port]")
// comes back to, never another site (no open redirect):
// - an absolute http(s) URL when its host is origin's (any port) or one of
//   returnHosts
//   (space-separated: "host", "host:port", or ".example.com" for any name
//   under example.com; a host without a port matches any port), its path
//   then checked as safeReturnPath()'s, without userinfo, else origin's "/";
// - a local path as safeReturnPath() makes it, on origin when absolute is
//   set (the callback is on another host: redirect_uri names one).
// origin empty: local paths only, as safeReturnPath().
std::string returnTarget(std::string_view uri, std::string_view origin,
                         bool absolute, std::string_view returnHosts);

// Whether host[:port] (an authority without userinfo) is one returnHosts
// allows, as returnTarget() reads the list.
bool returnHostAllowed(std::string_view authority,
                       std::string_view returnHosts) noexcept;

}  // namespace auth_oidc
