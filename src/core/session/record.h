#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
//
// Version 2 replaced the session's claims JSON by a claim table (the string
// field in its place): a LEB128 count, then count pairs of strings (name,
// value), names strictly increasing bytewise (unique, binary-searchable),
// nothing after. It holds every non-null top-level claim, the value as
// Claims::render() gives it (so no control bytes), and is built at encode
// time: reading a claim never parses JSON. Version 1 records do not decode.
//
// Version 3 appends two int64 to the session: "refreshed" (when its tokens
// were obtained: the login or the last refresh) and "idTokenExpires" (the
// ID token's "exp"; 0 when unknown or after a refresh that brought none).
// Version 2 records still decode (refreshed = created, idTokenExpires = 0),
// so an upgrade logs nobody out; pending logins are the same in both.
//
// Version 4 keeps the session's three tokens packed (token_packing.h): the
// bytes a base64url token stands for, a quarter less than its text; and
// its claim table does not repeat "sub", the session's own field, which
// the decoded index lists in its place.
// Version 5 appends to a pending login the step-up it asked for: the acr
// values and max_age, which the callback checks. Sessions and bearer
// entries are as in version 4.
// Versions 2 to 4 still decode; pending logins and bearer entries before 5
// are as in version 3.
inline constexpr unsigned char kRecordVersion = 5;

// One claim of a decoded table; views into the record.
struct ClaimEntry {
    std::string_view name;
    std::string_view value;
};

// A login in progress, stored under its state value (which is therefore not
// part of the record).
struct PendingLoginFields {
    std::string_view nonce;         // required
    std::string_view codeVerifier;  // empty without PKCE
    std::string_view returnPath;    // required
    std::string_view provider;      // oidc_provider name, may be empty
    std::int64_t created = 0;
    std::int64_t expires = 0;
    // Step-up asked for: acr values (space-separated; empty: none), and the
    // longest age of the authentication in seconds (-1: none).
    std::string_view acrValues;
    std::int64_t maxAge = -1;
};

struct SessionFields {
    std::string_view sub;           // required
    std::string_view sid;
    // Each kept only when the configuration uses it (see CallbackConfig).
    // Decode: views into tokenText (version 4), or into the record.
    std::string_view idToken;
    std::string_view accessToken;
    std::string_view refreshToken;
    // Encode: the claims as a JSON object (the ID token's compact JSON),
    // rendered into the claim table. Never filled by decode.
    std::string_view claims;
    // Decode: the claim table's bytes. Encode: when claims is empty, copied
    // as it is after the decoder's checks (re-encoding a decoded session).
    // One of claims and claimTable is required, not both.
    std::string_view claimTable;
    // Decode only: the table's entries, sorted by name.
    std::vector<ClaimEntry> claimIndex;
    std::string_view userinfo;      // JSON
    std::int64_t created = 0;
    std::int64_t expires = 0;
    std::int64_t accessTokenExpires = 0;  // 0: unknown
    std::int64_t refreshed = 0;
    std::int64_t idTokenExpires = 0;      // 0: unknown
    // Decode only: the unpacked tokens the views above point into; shared,
    // so that a copy of the fields keeps its views valid.
    std::shared_ptr<const std::string> tokenText;
    // Decode only: the three token views hold packed forms still (see
    // decodeSession()); unpackSessionTokens() gives their text.
    bool tokensPacked = false;
};

// A bearer token's verification, kept in the verification cache under the
// token's hash (kind 'B': accepted, 'R': refused). Accepted: the token's
// claims as compact JSON (paths read them) and as a claim table
// ($oidc_claim_* reads it without parsing), its "sub" (may be empty: a
// client credentials token), the scopes it grants (space-separated), when
// it was verified and when it expires (0: unknown). Refused: the RFC 6750
// error code and its description, sent again until the entry expires.
struct BearerFields {
    std::string_view refusedError;        // not empty: refused
    std::string_view refusedDescription;
    std::string_view sub;
    std::string_view scope;
    std::string_view claims;              // compact JSON object
    // Encode: encodeClaimTable() of the claims, or empty to build it from
    // claims. Decode: the table and its entries.
    std::string_view claimTable;
    std::vector<ClaimEntry> claimIndex;
    std::int64_t verified = 0;
    std::int64_t expires = 0;
};

// Errors: InvalidArgument (a required field empty; for sessions also both
// claims and claimTable given, or a malformed claimTable), NoMemory;
// sessions also Json, TooLarge (claims not a JSON object, over 1 MiB).
Result<std::string> encodePendingLogin(const PendingLoginFields &fields);
Result<std::string> encodeSession(const SessionFields &fields);
// Errors: InvalidArgument (neither a refusal nor claims), Json, TooLarge,
// NoMemory.
Result<std::string> encodeBearer(const BearerFields &fields);

class Claims;

// Which claims a session's table keeps. "session_claims auto" (Issue 15):
// those the configuration names (names: its $oidc_claim_* variables
// without the prefix, space-separated, matched as findClaimForVariable()
// matches), and those the module reads again itself: "nonce" and
// "auth_time" (a refreshed ID token must repeat them) and "acr".
struct ClaimSelection {
    bool all = true;
    std::string_view names;
};

// The claims every selection keeps, space-separated.
inline constexpr std::string_view kAlwaysKeptClaims = "acr auth_time nonce";

// The claim table of claims (the format above), for SessionFields::claimTable:
// a login renders the ID token's claims straight from the parsed token,
// without serializing them to JSON and parsing that again.
// Errors: NoMemory, Internal.
Result<std::string> encodeClaimTable(const Claims &claims,
                                     const ClaimSelection &keep = {});

// Whether keep keeps the claim named claim.
bool keepsClaim(const ClaimSelection &keep, std::string_view claim) noexcept;

// The views point into record. Errors: Decode (wrong version or kind,
// truncated, overlong length, trailing bytes, required field empty).
Result<PendingLoginFields> decodePendingLogin(std::string_view record);
// A version 4 session's tokens are unpacked unless unpack is false: the
// token views then hold the packed forms (tokensPacked), checked, so that
// a reader that needs no token spends nothing on them.
Result<SessionFields> decodeSession(std::string_view record,
                                    bool unpack = true);
// The text of a session decoded with unpack false; false for a malformed
// packed form (never after a successful decode).
bool unpackSessionTokens(SessionFields &fields);
Result<BearerFields> decodeBearer(std::string_view record);
// Whether record is a bearer refusal (kind 'R'), without decoding it.
bool isRefusedBearer(std::string_view record) noexcept;

// The rendered value of a claim in a decoded claimIndex; std::nullopt when
// absent (or null). Binary search, no allocation.
std::optional<std::string_view> findClaim(
    const std::vector<ClaimEntry> &index, std::string_view name) noexcept;

// The claim an nginx variable name means: nginx lowercases variable names
// and allows only letters, digits and "_" in them, so "$oidc_claim_isadmin"
// must find "isAdmin" and "$oidc_claim_cognito_groups" "cognito:groups".
// An exact match wins; otherwise the first claim (in the table's order)
// whose name, with ASCII letters lowercased and every byte other than a
// letter or digit read as "_", equals name.
std::optional<std::string_view> findClaimForVariable(
    const std::vector<ClaimEntry> &index, std::string_view name) noexcept;

}  // namespace auth_oidc
