#include "jwk/jwks.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>

#include "common/base64url.h"
#include "common/text.h"
#include "json/json.h"

namespace auth_oidc {

namespace {

// Shorter than kDetailValueMax: a skip reason may quote a kid and a value and
// still has to fit a 255-byte detail after the count of keys.
constexpr std::size_t kReasonValueMax = 40;

// HS* never: a JWKS is public, a symmetric key in it would be one anybody can
// sign with. "none" never, obviously.
constexpr std::array<std::string_view, 10> kAcceptedAlgs = {
    "RS256", "RS384", "RS512", "PS256", "PS384",
    "PS512", "ES256", "ES384", "ES512", "EdDSA",
};

struct EcCurve {
    std::string_view name;
    std::size_t coordinateBytes;
    std::string_view alg;
};

constexpr std::array<EcCurve, 3> kEcCurves = {{
    {"P-256", 32, "ES256"},
    {"P-384", 48, "ES384"},
    {"P-521", 66, "ES512"},
}};

struct OkpCurve {
    std::string_view name;
    std::size_t keyBytes;
    int evpType;
};

constexpr std::array<OkpCurve, 2> kOkpCurves = {{
    {"Ed25519", 32, EVP_PKEY_ED25519},
    {"Ed448", 57, EVP_PKEY_ED448},
}};

// Outcome of one key: either a usable key or why it was skipped.
struct Imported {
    std::optional<Jwk> key;
    std::string skipReason;
    // jansson could not allocate: fails the whole parse, skipping would
    // misreport the key as bad.
    bool noMemory = false;
};

Imported skip(std::string reason) {
    return Imported{std::nullopt, std::move(reason)};
}

Imported importOutOfMemory() {
    return Imported{std::nullopt, {}, true};
}

std::string quoted(std::string_view value) {
    return quoteForDetail(value, kReasonValueMax);
}

std::string member(const char *name) {
    std::string out = "\"";
    out += name;
    out += '"';
    return out;
}

// `"use" is "enc"` for strings, `"use" is a number` otherwise.
std::string memberIs(const char *name, const json_t *value) {
    std::string out = member(name);
    if (const auto text = jsonStringView(value)) {
        out += " is ";
        out += quoted(*text);
    } else {
        out += " is not a string but ";
        out += jsonTypeName(value);
    }
    return out;
}

// Reads an optional string member. False, with reason set, when the member
// is present but not a string.
bool optionalString(const json_t *object, const char *name,
                    std::optional<std::string> &out, std::string &reason) {
    const json_t *value = json_object_get(object, name);
    if (value == nullptr) {
        return true;
    }
    const auto text = jsonStringView(value);
    if (!text) {
        reason = memberIs(name, value);
        return false;
    }
    out.emplace(*text);
    return true;
}

// A required base64url member, decoded; an empty value counts as invalid.
std::optional<std::vector<unsigned char>> decodedMember(const json_t *object,
                                                        const char *name,
                                                        std::string &reason) {
    const json_t *value = json_object_get(object, name);
    if (value == nullptr) {
        reason = member(name) + " is missing";
        return std::nullopt;
    }
    const auto text = jsonStringView(value);
    if (!text) {
        reason = memberIs(name, value);
        return std::nullopt;
    }
    auto bytes = decodeBase64Url(*text);
    if (!bytes || bytes->empty()) {
        reason = member(name) + " is not valid base64url";
        return std::nullopt;
    }
    return bytes;
}

bool keyOpsAllowVerify(const json_t *keyOps) noexcept {
    if (!json_is_array(keyOps)) {
        return false;
    }
    for (std::size_t i = 0; i < json_array_size(keyOps); ++i) {
        if (jsonStringView(json_array_get(keyOps, i)) ==
            std::string_view("verify")) {
            return true;
        }
    }
    return false;
}

// Hands cjose a fresh object holding only the public members, so that it
// never sees private parameters or anything else it might interpret.
Imported importWithCjose(const json_t *object,
                         std::initializer_list<const char *> members, Jwk key) {
    JsonPtr minimal(json_object());
    if (!minimal) {
        return importOutOfMemory();
    }
    for (const char *name : members) {
        json_t *value = json_object_get(object, name);
        if (json_object_set(minimal.get(), name, value) != 0) {
            return importOutOfMemory();
        }
    }
    cjose_err err{};
    key.cjose.reset(cjose_jwk_import_json(minimal.get(), &err));
    if (!key.cjose) {
        // cjose reports some invalid parameters (a point off the curve) as
        // CJOSE_ERR_NO_MEMORY, so its message would mislead.
        return skip("key parameters rejected by cjose");
    }
    return Imported{std::move(key), {}};
}

// Strips leading zero bytes, which base64url integers may carry.
std::vector<unsigned char> unsignedMagnitude(std::vector<unsigned char> bytes) {
    const auto first =
        std::find_if(bytes.begin(), bytes.end(),
                     [](unsigned char b) { return b != 0; });
    bytes.erase(bytes.begin(), first);
    return bytes;
}

int bitLength(const std::vector<unsigned char> &magnitude) noexcept {
    if (magnitude.empty()) {
        return 0;
    }
    int top = 0;
    for (unsigned char b = magnitude.front(); b != 0; b >>= 1) {
        ++top;
    }
    return static_cast<int>((magnitude.size() - 1) * 8) + top;
}

Imported importRsa(const json_t *object, Jwk key) {
    if (key.alg && key.alg->compare(0, 2, "RS") != 0 &&
        key.alg->compare(0, 2, "PS") != 0) {
        return skip("\"alg\" " + quoted(*key.alg) + " does not fit an RSA key");
    }
    std::string reason;
    auto n = decodedMember(object, "n", reason);
    if (!n) {
        return skip(std::move(reason));
    }
    auto e = decodedMember(object, "e", reason);
    if (!e) {
        return skip(std::move(reason));
    }
    const auto modulus = unsignedMagnitude(std::move(*n));
    const auto exponent = unsignedMagnitude(std::move(*e));

    key.bits = bitLength(modulus);
    if (key.bits < Jwks::kMinRsaBits || key.bits > Jwks::kMaxRsaBits) {
        return skip("RSA modulus of " + std::to_string(key.bits) +
                    " bits is outside " + std::to_string(Jwks::kMinRsaBits) +
                    ".." + std::to_string(Jwks::kMaxRsaBits));
    }
    if ((modulus.back() & 1u) == 0) {
        return skip("RSA modulus is even");
    }
    // e = 1 would make any "signature" equal to its padded message; OpenSSL
    // caps e at 64 bits for large moduli anyway.
    if (exponent.empty() || exponent.size() > 8 ||
        (exponent.back() & 1u) == 0 ||
        (exponent.size() == 1 && exponent.front() < 3)) {
        return skip("RSA exponent is not an odd number from 3 to 2^64");
    }
    key.type = KeyType::Rsa;
    Imported imported =
        importWithCjose(object, {"kty", "n", "e"}, std::move(key));
    if (imported.key) {
        imported.key->evp = rsaPublicKey(modulus, exponent);
        if (!imported.key->evp) {
            return skip("rejected by OpenSSL");
        }
    }
    return imported;
}

Imported importEc(const json_t *object, Jwk key) {
    std::optional<std::string> crv;
    std::string reason;
    if (!optionalString(object, "crv", crv, reason)) {
        return skip(std::move(reason));
    }
    if (!crv) {
        return skip("\"crv\" is missing");
    }
    const auto curve =
        std::find_if(kEcCurves.begin(), kEcCurves.end(),
                     [&crv](const EcCurve &c) { return c.name == *crv; });
    if (curve == kEcCurves.end()) {
        return skip("unsupported EC curve " + quoted(*crv));
    }
    if (key.alg && *key.alg != curve->alg) {
        return skip("\"alg\" " + quoted(*key.alg) + " does not fit curve " +
                    std::string(curve->name));
    }
    // RFC 7518, section 6.2.1.2: coordinates are full-length octet strings.
    std::array<std::vector<unsigned char>, 2> coordinates;
    for (std::size_t i = 0; i < coordinates.size(); ++i) {
        const char *name = i == 0 ? "x" : "y";
        auto coordinate = decodedMember(object, name, reason);
        if (!coordinate) {
            return skip(std::move(reason));
        }
        if (coordinate->size() != curve->coordinateBytes) {
            return skip(member(name) + " is " +
                        std::to_string(coordinate->size()) + " bytes, " +
                        std::string(curve->name) + " needs " +
                        std::to_string(curve->coordinateBytes));
        }
        coordinates[i] = std::move(*coordinate);
    }
    key.type = KeyType::Ec;
    key.crv = std::move(*crv);
    Imported imported =
        importWithCjose(object, {"kty", "crv", "x", "y"}, std::move(key));
    if (imported.key) {
        imported.key->evp = ecPublicKey(imported.key->crv, coordinates[0],
                                        coordinates[1]);
        if (!imported.key->evp) {
            return skip("rejected by OpenSSL");
        }
    }
    return imported;
}

Imported importOkp(const json_t *object, Jwk key) {
    std::optional<std::string> crv;
    std::string reason;
    if (!optionalString(object, "crv", crv, reason)) {
        return skip(std::move(reason));
    }
    if (!crv) {
        return skip("\"crv\" is missing");
    }
    // X25519 and X448 are OKP too, but for key agreement only.
    const auto curve =
        std::find_if(kOkpCurves.begin(), kOkpCurves.end(),
                     [&crv](const OkpCurve &c) { return c.name == *crv; });
    if (curve == kOkpCurves.end()) {
        return skip("unsupported OKP curve " + quoted(*crv));
    }
    if (key.alg && *key.alg != "EdDSA") {
        return skip("\"alg\" " + quoted(*key.alg) + " does not fit curve " +
                    std::string(curve->name));
    }
    const auto x = decodedMember(object, "x", reason);
    if (!x) {
        return skip(std::move(reason));
    }
    if (x->size() != curve->keyBytes) {
        return skip("\"x\" is " + std::to_string(x->size()) + " bytes, " +
                    std::string(curve->name) + " needs " +
                    std::to_string(curve->keyBytes));
    }
    key.pkey.reset(EVP_PKEY_new_raw_public_key(curve->evpType, nullptr,
                                               x->data(), x->size()));
    if (!key.pkey) {
        return skip("rejected by OpenSSL");
    }
    key.type = KeyType::Okp;
    key.crv = std::move(*crv);
    return Imported{std::move(key), {}};
}

Imported importKey(const json_t *object) {
    Jwk key;
    std::string reason;
    std::optional<std::string> kty;
    if (!optionalString(object, "kty", kty, reason)) {
        return skip(std::move(reason));
    }
    if (!kty) {
        return skip("\"kty\" is missing");
    }
    if (!optionalString(object, "use", key.use, reason)) {
        return skip(std::move(reason));
    }
    if (key.use && *key.use != "sig") {
        return skip("\"use\" is " + quoted(*key.use));
    }
    const json_t *keyOps = json_object_get(object, "key_ops");
    if (keyOps != nullptr && !keyOpsAllowVerify(keyOps)) {
        return skip("\"key_ops\" does not allow \"verify\"");
    }
    if (!optionalString(object, "kid", key.kid, reason) ||
        !optionalString(object, "alg", key.alg, reason)) {
        return skip(std::move(reason));
    }
    if (key.alg && std::find(kAcceptedAlgs.begin(), kAcceptedAlgs.end(),
                             *key.alg) == kAcceptedAlgs.end()) {
        return skip("\"alg\" " + quoted(*key.alg) +
                    " is not an accepted signature algorithm");
    }
    // A published private key is a compromised one; do not trust it.
    if (json_object_get(object, "d") != nullptr) {
        return skip("contains private key material");
    }
    if (*kty == "RSA") {
        return importRsa(object, std::move(key));
    }
    if (*kty == "EC") {
        return importEc(object, std::move(key));
    }
    if (*kty == "OKP") {
        return importOkp(object, std::move(key));
    }
    if (*kty == "oct") {
        return skip("symmetric (oct) keys are never used from a JWKS");
    }
    return skip("unsupported \"kty\" " + quoted(*kty));
}

}  // namespace

const char *toString(KeyType type) noexcept {
    switch (type) {
    case KeyType::Rsa:
        return "RSA";
    case KeyType::Ec:
        return "EC";
    case KeyType::Okp:
        return "OKP";
    }
    return "unknown";
}

Result<Jwks> Jwks::parse(std::string_view document) {
    auto parsed = parseJsonObject(document, "JWKS document", kMaxDocumentBytes);
    if (!parsed) {
        return std::move(parsed).error();
    }
    const json_t *keys = json_object_get(parsed.value().get(), "keys");
    if (keys == nullptr) {
        return makeError(Status::Jwks, "\"keys\" is missing");
    }
    if (!json_is_array(keys)) {
        return makeError(Status::Jwks,
                         std::string("\"keys\" must be an array, not ") +
                             jsonTypeName(keys));
    }
    const std::size_t count = json_array_size(keys);
    if (count > kMaxKeys) {
        return makeError(Status::Jwks, "too many keys: " +
                                           std::to_string(count) +
                                           ", the limit is " +
                                           std::to_string(kMaxKeys));
    }

    Jwks jwks;
    jwks.keys_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const json_t *object = json_array_get(keys, i);
        if (!json_is_object(object)) {
            return makeError(Status::Jwks, "keys[" + std::to_string(i) +
                                               "] must be an object, not " +
                                               jsonTypeName(object));
        }
        Imported imported = importKey(object);
        if (imported.noMemory) {
            return makeError(Status::NoMemory, "importing a key");
        }
        if (imported.key) {
            jwks.keys_.push_back(std::move(*imported.key));
            continue;
        }
        std::string reason = "keys[" + std::to_string(i) + "]";
        if (const auto kid = jsonStringView(json_object_get(object, "kid"))) {
            reason += " (kid " + quoted(*kid) + ")";
        }
        reason += ": ";
        reason += imported.skipReason;
        jwks.skipped_.push_back(std::move(reason));
    }

    if (jwks.keys_.empty()) {
        std::string what = "no usable signature key among " +
                           std::to_string(count) + " keys";
        if (!jwks.skipped_.empty()) {
            what += "; " + jwks.skipped_.front();
        }
        return makeError(Status::NoKeys, what);
    }
    return Result<Jwks>(std::move(jwks));
}

bool Jwks::hasKid(std::string_view kid) const noexcept {
    return std::any_of(keys_.begin(), keys_.end(), [kid](const Jwk &key) {
        return key.kid && *key.kid == kid;
    });
}

Result<std::string> Jwks::describe() const {
    const auto noMemory = [] {
        return makeError(Status::NoMemory, "describing JWKS");
    };
    JsonPtr out(json_array());
    if (!out) {
        return noMemory();
    }
    for (const Jwk &key : keys_) {
        json_t *entry = json_object();
        if (entry == nullptr || json_array_append_new(out.get(), entry) != 0) {
            return noMemory();
        }
        if ((key.kid && !jsonSetString(entry, "kid", *key.kid)) ||
            !jsonSetString(entry, "kty", toString(key.type)) ||
            (key.alg && !jsonSetString(entry, "alg", *key.alg)) ||
            (key.use && !jsonSetString(entry, "use", *key.use)) ||
            (!key.crv.empty() && !jsonSetString(entry, "crv", key.crv)) ||
            (key.type == KeyType::Rsa &&
             !jsonSetNew(entry, "bits", json_integer(key.bits)))) {
            return noMemory();
        }
    }
    return dumpJsonCompact(out.get());
}

}  // namespace auth_oidc
