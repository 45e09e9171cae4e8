#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace auth_oidc {

// Binary records the module keeps in shared memory (and, encrypted, in
// Redis). Layout, all fields in the order declared below:
//   byte 0     format version (kRecordVersion)
//   byte 1     kind: 'P' pending login, 'S' session
//   string     LEB128 length (minimal, at most 10 bytes), then the bytes
//   int64      8 bytes, big-endian two's complement
// and nothing after the last field. An empty string means "absent" for the
// optional fields. Decoding never trusts a length: every one is checked
// against the bytes left.
inline constexpr unsigned char kRecordVersion = 1;

// A login in progress, stored under its state value (which is therefore not
// part of the record).
struct PendingLoginFields {
    std::string_view nonce;         // required
    std::string_view codeVerifier;  // empty without PKCE
    std::string_view returnPath;    // required
    std::string_view provider;      // oidc_provider name, may be empty
    std::int64_t created = 0;
    std::int64_t expires = 0;
};

struct SessionFields {
    std::string_view sub;           // required
    std::string_view sid;
    std::string_view idToken;       // required
    std::string_view accessToken;
    std::string_view refreshToken;
    std::string_view claims;        // required, compact JSON object
    std::string_view userinfo;      // JSON
    std::int64_t created = 0;
    std::int64_t expires = 0;
    std::int64_t accessTokenExpires = 0;  // 0: unknown
};

// Errors: InvalidArgument (a required field empty), NoMemory.
Result<std::string> encodePendingLogin(const PendingLoginFields &fields);
Result<std::string> encodeSession(const SessionFields &fields);

// The views point into record. Errors: Decode (wrong version or kind,
// truncated, overlong length, trailing bytes, required field empty).
Result<PendingLoginFields> decodePendingLogin(std::string_view record);
Result<SessionFields> decodeSession(std::string_view record);

}  // namespace auth_oidc
