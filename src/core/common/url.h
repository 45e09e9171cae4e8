#pragma once

#include <string>
#include <string_view>

namespace auth_oidc {

// RFC 3986, section 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
bool isUnreserved(char c) noexcept;

// Appends value with every byte outside the unreserved set written as %XX
// (upper-case hex, RFC 3986 section 2.1): safe in any URI component.
void appendPercentEncoded(std::string &out, std::string_view value);

// application/x-www-form-urlencoded as RFC 6749 Appendix B describes it:
// the same as appendPercentEncoded() except that a space becomes "+".
void appendFormEncoded(std::string &out, std::string_view value);

// Why url cannot serve as an endpoint the module will contact or redirect a
// browser to, or nullptr when it can. Accepted: "http://" or "https://"
// (lower case, as nginx compares schemes byte-wise), a non-empty host of
// letters, digits, '-', '.', '_', '~' or a bracketed IPv6 literal, an
// optional port 1..65535, then any path and query. Rejected as well: user
// information (a classic way to disguise the real host), fragments, and
// whitespace, control or non-ASCII bytes anywhere.
const char *httpUrlProblem(std::string_view url) noexcept;

}  // namespace auth_oidc
