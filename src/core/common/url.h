#pragma once

#include <string_view>

namespace auth_oidc {

// Why url cannot serve as an endpoint the module will contact or redirect a
// browser to, or nullptr when it can. Accepted: "http://" or "https://"
// (lower case, as nginx compares schemes byte-wise), a non-empty host of
// letters, digits, '-', '.', '_', '~' or a bracketed IPv6 literal, an
// optional port 1..65535, then any path and query. Rejected as well: user
// information (a classic way to disguise the real host), fragments, and
// whitespace, control or non-ASCII bytes anywhere.
const char *httpUrlProblem(std::string_view url) noexcept;

}  // namespace auth_oidc
