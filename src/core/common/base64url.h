#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace auth_oidc {

// Length of the unpadded base64url encoding of len bytes. Precondition:
// len <= kMaxBase64UrlInput (larger inputs would overflow the result).
inline constexpr std::size_t kMaxBase64UrlInput =
    static_cast<std::size_t>(-1) / 4 * 3;
constexpr std::size_t base64UrlLength(std::size_t len) noexcept {
    return len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}

// Writes the unpadded base64url encoding (RFC 7515, section 2) of in[0..len)
// to out, which must hold base64UrlLength(len) bytes. No NUL is appended.
void encodeBase64UrlTo(const unsigned char *in, std::size_t len,
                       char *out) noexcept;

std::string encodeBase64Url(const unsigned char *in, std::size_t len);
std::string encodeBase64Url(std::string_view in);

// Decodes unpadded base64url (RFC 7515, section 2) strictly: no padding, no
// whitespace, no characters outside the URL-safe alphabet and no non-zero
// leftover bits. Key material that only a lenient decoder accepts is treated
// as invalid rather than guessed at. std::nullopt when the input is not
// canonical base64url.
std::optional<std::vector<unsigned char>> decodeBase64Url(std::string_view in);

}  // namespace auth_oidc
