#include "session/record.h"

#include <algorithm>
#include <initializer_list>

#include "jwt/claims.h"
#include "session/token_packing.h"
#include "session/varint.h"

namespace auth_oidc {

namespace {

constexpr char kPendingKind = 'P';
constexpr char kSessionKind = 'S';
constexpr char kBearerKind = 'B';
constexpr char kRefusedBearerKind = 'R';

void putString(std::string &out, std::string_view value) {
    putVarint(out, value.size());
    out.append(value.data(), value.size());
}

void putInt64(std::string &out, std::int64_t value) {
    const auto bits = static_cast<std::uint64_t>(value);
    for (int shift = 56; shift >= 0; shift -= 8) {
        out += static_cast<char>((bits >> shift) & 0xff);
    }
}

std::string header(char kind) {
    std::string out;
    out += static_cast<char>(kRecordVersion);
    out += kind;
    return out;
}

Error requiredEmpty(const char *name) {
    return makeError(Status::InvalidArgument,
                     std::string(name) + " must not be empty");
}

class Reader {
public:
    explicit Reader(std::string_view record) noexcept : rest_(record) {}

    // Checks version and kind; sets error_ on mismatch.
    bool header(char kind, const char *what) {
        if (rest_.size() < 2) {
            return fail("truncated header");
        }
        version_ = static_cast<unsigned char>(rest_[0]);
        if (version_ < 2 || version_ > kRecordVersion) {
            return fail("unsupported format version " +
                        std::to_string(version_));
        }
        if (rest_[1] != kind) {
            return fail(std::string("not a ") + what + " record");
        }
        rest_.remove_prefix(2);
        return true;
    }

    bool string(std::string_view &out, const char *name) {
        std::uint64_t len = 0;
        if (!varint(len, name)) {
            return false;
        }
        if (len > rest_.size()) {
            return fail(std::string(name) + " is longer than the record");
        }
        out = rest_.substr(0, static_cast<std::size_t>(len));
        rest_.remove_prefix(static_cast<std::size_t>(len));
        return true;
    }

    bool count(std::uint64_t &out, const char *name) {
        return varint(out, name);
    }

    bool int64(std::int64_t &out, const char *name) {
        if (rest_.size() < 8) {
            return fail(std::string("truncated at ") + name);
        }
        std::uint64_t bits = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            bits = (bits << 8) | static_cast<unsigned char>(rest_[i]);
        }
        rest_.remove_prefix(8);
        out = static_cast<std::int64_t>(bits);
        return true;
    }

    bool required(std::string_view value, const char *name) {
        return !value.empty() || fail(std::string(name) + " is empty");
    }

    bool end() {
        return rest_.empty() ||
               fail(std::to_string(rest_.size()) + " trailing bytes");
    }

    unsigned char version() const noexcept { return version_; }

    Error error() const { return makeError(Status::Decode, error_); }
    const std::string &what() const noexcept { return error_; }

private:
    unsigned char version_ = 0;

    bool varint(std::uint64_t &out, const char *name) {
        switch (takeVarint(rest_, out)) {
        case VarintError::None:
            return true;
        case VarintError::Truncated:
            return fail(std::string("truncated at ") + name);
        case VarintError::NotMinimal:
            return fail(std::string("length of ") + name +
                        " is not minimally encoded");
        default:
            return fail(std::string("length of ") + name + " overflows");
        }
    }

    bool fail(std::string what) {
        error_ = std::move(what);
        return false;
    }

    std::string_view rest_;
    std::string error_;
};

bool hasControlBytes(std::string_view text) noexcept {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
    });
}

// Checks a claim table (layout in record.h) and indexes it.
bool readClaimTable(std::string_view table, std::vector<ClaimEntry> &index,
                    std::string &error) {
    Reader in(table);
    std::uint64_t count = 0;
    if (!in.count(count, "claim count")) {
        error = in.what();
        return false;
    }
    // Every entry takes at least two bytes: no allocation from a made-up
    // count.
    if (count > table.size() / 2) {
        error = "claim count exceeds the table";
        return false;
    }
    index.clear();
    index.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
        ClaimEntry entry;
        if (!in.string(entry.name, "claim name") ||
            !in.string(entry.value, "claim value")) {
            error = in.what();
            return false;
        }
        if (!index.empty() && !(index.back().name < entry.name)) {
            error = "claim names out of order";
            return false;
        }
        if (hasControlBytes(entry.value)) {
            error = "control byte in a claim value";
            return false;
        }
        index.push_back(entry);
    }
    if (!in.end()) {
        error = "claim table: " + in.what();
        return false;
    }
    return true;
}

}  // namespace

// Version 4: the three token views hold packed forms; point them at their
// text instead, unpacked into one string the fields share.
bool unpackSessionTokens(SessionFields &f) {
    if (!f.tokensPacked) {
        return true;
    }
    f.tokensPacked = false;
    if (f.idToken.empty() && f.accessToken.empty() && f.refreshToken.empty()) {
        return true;
    }
    auto text = std::make_shared<std::string>();
    text->reserve((f.idToken.size() + f.accessToken.size() +
                   f.refreshToken.size()) / 3 * 4 + 16);
    std::size_t ends[3];
    std::size_t i = 0;
    for (const std::string_view packed :
         {f.idToken, f.accessToken, f.refreshToken}) {
        if (!unpackTokenTo(packed, *text)) {
            return false;
        }
        ends[i++] = text->size();
    }
    const std::string_view all(*text);
    f.idToken = all.substr(0, ends[0]);
    f.accessToken = all.substr(ends[0], ends[1] - ends[0]);
    f.refreshToken = all.substr(ends[1], ends[2] - ends[1]);
    f.tokenText = std::move(text);
    return true;
}

namespace {

Result<std::string> encodeClaimTable(std::string_view json) {
    auto claims = Claims::parse(json);
    if (!claims) {
        return std::move(claims).error();
    }
    return encodeClaimTable(claims.value());
}

}  // namespace

Result<std::string> encodeClaimTable(const Claims &claims,
                                     const ClaimSelection &keep) {
    auto rendered = claims.renderAll();
    if (!rendered) {
        return std::move(rendered).error();
    }
    auto &entries = rendered.value();
    if (!keep.all) {
        entries.erase(std::remove_if(entries.begin(), entries.end(),
                                     [&keep](const Claims::Rendered &e) {
                                         return !keepsClaim(keep, e.name);
                                     }),
                      entries.end());
    }
    std::sort(entries.begin(), entries.end(),
              [](const Claims::Rendered &a, const Claims::Rendered &b) {
                  return std::string_view(a.name) < std::string_view(b.name);
              });
    std::size_t size = kMaxVarintBytes;
    for (const auto &e : entries) {
        size += 2 * kMaxVarintBytes + e.name.size() + e.value.size();
    }
    std::string out;
    out.reserve(size);
    putVarint(out, entries.size());
    for (const auto &e : entries) {
        putString(out, e.name);
        putString(out, e.value);
    }
    return Result<std::string>(std::move(out));
}

Result<std::string> encodePendingLogin(const PendingLoginFields &fields) {
    if (fields.nonce.empty()) {
        return requiredEmpty("nonce");
    }
    if (fields.returnPath.empty()) {
        return requiredEmpty("return path");
    }
    std::string out = header(kPendingKind);
    out.reserve(2 + 4 * kMaxVarintBytes + fields.nonce.size() +
                fields.codeVerifier.size() + fields.returnPath.size() +
                fields.provider.size() + 16);
    putString(out, fields.nonce);
    putString(out, fields.codeVerifier);
    putString(out, fields.returnPath);
    putString(out, fields.provider);
    putInt64(out, fields.created);
    putInt64(out, fields.expires);
    putString(out, fields.acrValues);
    putInt64(out, fields.maxAge);
    return out;
}

Result<std::string> encodeSession(const SessionFields &fields) {
    if (fields.sub.empty()) {
        return requiredEmpty("sub");
    }
    std::string built;
    std::string_view table = fields.claimTable;
    if (!fields.claims.empty()) {
        if (!table.empty()) {
            return makeError(Status::InvalidArgument,
                             "claims and claim table are both given");
        }
        auto encoded = encodeClaimTable(fields.claims);
        if (!encoded) {
            return std::move(encoded).error();
        }
        built = std::move(encoded).value();
        table = built;
    } else if (table.empty()) {
        return requiredEmpty("claims");
    }
    std::vector<ClaimEntry> index;
    std::string error;
    if (!readClaimTable(table, index, error)) {
        return makeError(Status::InvalidArgument,
                         "malformed claim table: " + error);
    }
    // "sub" is the session's own field: the table does not repeat it (a
    // claim "sub" other than the field's, which no login makes, stays)
    const auto sub = findClaim(index, "sub");
    std::string withoutSub;
    if (sub && *sub == fields.sub) {
        putVarint(withoutSub, index.size() - 1);
        for (const ClaimEntry &e : index) {
            if (e.name != "sub") {
                putString(withoutSub, e.name);
                putString(withoutSub, e.value);
            }
        }
        table = withoutSub;
    }
    const std::string idToken = packToken(fields.idToken);
    const std::string accessToken = packToken(fields.accessToken);
    const std::string refreshToken = packToken(fields.refreshToken);
    std::string out = header(kSessionKind);
    std::size_t size = 2 + 7 * kMaxVarintBytes + 40;
    for (const std::string_view value :
         {fields.sub, fields.sid, std::string_view(idToken),
          std::string_view(accessToken), std::string_view(refreshToken),
          table, fields.userinfo}) {
        size += value.size();
    }
    out.reserve(size);
    putString(out, fields.sub);
    putString(out, fields.sid);
    putString(out, idToken);
    putString(out, accessToken);
    putString(out, refreshToken);
    putString(out, table);
    putString(out, fields.userinfo);
    putInt64(out, fields.created);
    putInt64(out, fields.expires);
    putInt64(out, fields.accessTokenExpires);
    putInt64(out, fields.refreshed);
    putInt64(out, fields.idTokenExpires);
    return out;
}

Result<std::string> encodeBearer(const BearerFields &fields) {
    if (!fields.refusedError.empty()) {
        std::string out = header(kRefusedBearerKind);
        putString(out, fields.refusedError);
        putString(out, fields.refusedDescription);
        putInt64(out, fields.verified);
        return out;
    }
    if (fields.claims.empty()) {
        return requiredEmpty("claims");
    }
    // the table of the verified claims when the caller has it (built from
    // the parsed token), else from the JSON
    std::string built;
    std::string_view table = fields.claimTable;
    if (table.empty()) {
        auto encoded = encodeClaimTable(fields.claims);
        if (!encoded) {
            return std::move(encoded).error();
        }
        built = std::move(encoded).value();
        table = built;
    }
    std::string out = header(kBearerKind);
    out.reserve(2 + 4 * kMaxVarintBytes + fields.sub.size() +
                fields.scope.size() + fields.claims.size() + table.size() +
                16);
    putString(out, fields.sub);
    putString(out, fields.scope);
    putString(out, fields.claims);
    putString(out, table);
    putInt64(out, fields.verified);
    putInt64(out, fields.expires);
    return out;
}

bool isRefusedBearer(std::string_view record) noexcept {
    return record.size() >= 2 && record[1] == kRefusedBearerKind;
}

Result<BearerFields> decodeBearer(std::string_view record) {
    BearerFields f;
    if (isRefusedBearer(record)) {
        Reader in(record);
        if (!in.header(kRefusedBearerKind, "refused bearer token") ||
            !in.string(f.refusedError, "error") ||
            !in.string(f.refusedDescription, "error description") ||
            !in.int64(f.verified, "verified") || !in.end() ||
            !in.required(f.refusedError, "error")) {
            return in.error();
        }
        return f;
    }
    Reader in(record);
    if (!in.header(kBearerKind, "bearer token") || !in.string(f.sub, "sub") ||
        !in.string(f.scope, "scope") || !in.string(f.claims, "claims") ||
        !in.string(f.claimTable, "claim table") ||
        !in.int64(f.verified, "verified") ||
        !in.int64(f.expires, "expires") || !in.end() ||
        !in.required(f.claims, "claims")) {
        return in.error();
    }
    std::string error;
    if (!readClaimTable(f.claimTable, f.claimIndex, error)) {
        return makeError(Status::Decode, error);
    }
    return f;
}

Result<PendingLoginFields> decodePendingLogin(std::string_view record) {
    Reader in(record);
    PendingLoginFields f;
    if (!in.header(kPendingKind, "pending login") ||
        !in.string(f.nonce, "nonce") ||
        !in.string(f.codeVerifier, "code_verifier") ||
        !in.string(f.returnPath, "return path") ||
        !in.string(f.provider, "provider") ||
        !in.int64(f.created, "created") || !in.int64(f.expires, "expires") ||
        (in.version() >= 5 && (!in.string(f.acrValues, "acr values") ||
                               !in.int64(f.maxAge, "max_age"))) ||
        !in.end() || !in.required(f.nonce, "nonce") ||
        !in.required(f.returnPath, "return path")) {
        return in.error();
    }
    if (f.maxAge < -1) {
        return makeError(Status::Decode, "max_age is negative");
    }
    return f;
}

Result<SessionFields> decodeSession(std::string_view record, bool unpack) {
    Reader in(record);
    SessionFields f;
    if (!in.header(kSessionKind, "session") || !in.string(f.sub, "sub") ||
        !in.string(f.sid, "sid") || !in.string(f.idToken, "id_token") ||
        !in.string(f.accessToken, "access_token") ||
        !in.string(f.refreshToken, "refresh_token") ||
        !in.string(f.claimTable, "claim table") ||
        !in.string(f.userinfo, "userinfo") ||
        !in.int64(f.created, "created") || !in.int64(f.expires, "expires") ||
        !in.int64(f.accessTokenExpires, "access_token_expires") ||
        (in.version() >= 3 && (!in.int64(f.refreshed, "refreshed") ||
                               !in.int64(f.idTokenExpires,
                                         "id_token_expires"))) ||
        !in.end() || !in.required(f.sub, "sub") ||
        !in.required(f.claimTable, "claim table")) {
        return in.error();
    }
    if (in.version() < 3) {
        f.refreshed = f.created;
    }
    if (in.version() >= 4) {
        f.tokensPacked = true;
        const bool valid =
            unpack ? unpackSessionTokens(f)
                   : validPackedToken(f.idToken) &&
                         validPackedToken(f.accessToken) &&
                         validPackedToken(f.refreshToken);
        if (!valid) {
            return makeError(Status::Decode,
                             "malformed record: a packed token");
        }
    }
    std::string error;
    if (!readClaimTable(f.claimTable, f.claimIndex, error)) {
        return makeError(Status::Decode, error);
    }
    // the table lacks "sub" (version 4 always): the field answers for it
    const auto at = std::lower_bound(
        f.claimIndex.begin(), f.claimIndex.end(), std::string_view("sub"),
        [](const ClaimEntry &e, std::string_view n) { return e.name < n; });
    if (at != f.claimIndex.end() && at->name == "sub") {
        if (in.version() >= 4 && at->value == f.sub) {
            return makeError(Status::Decode,
                             "malformed record: the claim table repeats "
                             "\"sub\"");
        }
    } else {
        f.claimIndex.insert(at, ClaimEntry{"sub", f.sub});
    }
    return f;
}

std::optional<std::string_view> findClaim(
    const std::vector<ClaimEntry> &index, std::string_view name) noexcept {
    const auto it = std::lower_bound(
        index.begin(), index.end(), name,
        [](const ClaimEntry &e, std::string_view n) { return e.name < n; });
    if (it == index.end() || it->name != name) {
        return std::nullopt;
    }
    return it->value;
}

namespace {

// A claim's name as nginx would spell it in a variable name.
bool spelledAs(std::string_view claim, std::string_view variable) noexcept {
    const auto folded = [](char c) {
        if (c >= 'A' && c <= 'Z') {
            return static_cast<char>(c - 'A' + 'a');
        }
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        return alnum ? c : '_';
    };
    return claim.size() == variable.size() &&
           std::equal(claim.begin(), claim.end(), variable.begin(),
                      [&](char c, char n) { return folded(c) == folded(n); });
}

}  // namespace

std::optional<std::string_view> findClaimForVariable(
    const std::vector<ClaimEntry> &index, std::string_view name) noexcept {
    if (const auto exact = findClaim(index, name)) {
        return exact;
    }
    for (const ClaimEntry &entry : index) {
        if (spelledAs(entry.name, name)) {
            return entry.value;
        }
    }
    return std::nullopt;
}

namespace {

// Whether one of the space-separated names spells claim.
bool namedIn(std::string_view names, std::string_view claim) noexcept {
    while (!names.empty()) {
        const std::size_t space = names.find(' ');
        if (spelledAs(claim, names.substr(0, space))) {
            return true;
        }
        names.remove_prefix(space == std::string_view::npos ? names.size()
                                                            : space + 1);
    }
    return false;
}

}  // namespace

bool keepsClaim(const ClaimSelection &keep, std::string_view claim) noexcept {
    return keep.all || namedIn(kAlwaysKeptClaims, claim) ||
           namedIn(keep.names, claim);
}

}  // namespace auth_oidc
