#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace auth_oidc {

// Values quoted in details come from remote documents and end up in the nginx
// error log, so they are cut to a sane length and anything that could forge a
// log line (control bytes, quotes, non-ASCII) is escaped.
inline constexpr std::size_t kDetailValueMax = 100;

// Returns value in double quotes with ", \ and bytes outside printable ASCII
// escaped; at most maxBytes input bytes are kept, a cut is marked with "...".
std::string quoteForDetail(std::string_view value,
                           std::size_t maxBytes = kDetailValueMax);

// For prose that already carries its own quoting (jansson's error text):
// only bytes outside printable ASCII are escaped, as \xHH; a cut after
// maxBytes input bytes is marked with "...".
std::string printableForDetail(std::string_view text, std::size_t maxBytes);

// ASCII case-insensitive equality (media types, header tokens).
bool equalsIgnoringCase(std::string_view a, std::string_view b) noexcept;

}  // namespace auth_oidc
