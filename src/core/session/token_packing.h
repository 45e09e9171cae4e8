#pragma once

#include <string>
#include <string_view>

namespace auth_oidc {

// Tokens as a session record keeps them (record format version 4): most
// tokens are base64url text, a JWS three base64url parts joined by ".",
// so storing the bytes they stand for takes a quarter less memory. The
// packed form is one form byte, then:
//   kPackedText    the text as it is (anything that is neither below)
//   kPackedBase64  the bytes of one unpadded base64url string
//   kPackedJws     LEB128 length and bytes of the first part, the same for
//                  the second, then the third part's bytes to the end
// A token is packed only when unpacking gives back exactly its text
// (canonical base64url: no padding, zero leftover bits), so a token
// reaches the provider or the app byte for byte as it was issued. The
// empty token packs to nothing.
inline constexpr unsigned char kPackedText = 0;
inline constexpr unsigned char kPackedBase64 = 1;
inline constexpr unsigned char kPackedJws = 2;

// The packed form of text.
std::string packToken(std::string_view text);

// Appends the text packed stands for to out; false (out then unspecified)
// for a malformed packed form: an unknown form byte, a length past the
// end, or text that packToken() would have packed otherwise (each token
// has one packed form).
bool unpackTokenTo(std::string_view packed, std::string &out);

// Whether unpackTokenTo() would accept packed, without unpacking it.
bool validPackedToken(std::string_view packed);

}  // namespace auth_oidc
