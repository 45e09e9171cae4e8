#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace auth_oidc {

// Decodes unpadded base64url (RFC 7515, section 2) strictly: no padding, no
// whitespace, no characters outside the URL-safe alphabet and no non-zero
// leftover bits. Key material that only a lenient decoder accepts is treated
// as invalid rather than guessed at. std::nullopt when the input is not
// canonical base64url.
std::optional<std::vector<unsigned char>> decodeBase64Url(std::string_view in);

}  // namespace auth_oidc
