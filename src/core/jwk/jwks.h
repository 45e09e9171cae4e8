#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/cjose_jwk.h"
#include "crypto/evp_pkey.h"

namespace auth_oidc {

enum class KeyType {
    Rsa,
    Ec,
    Okp,
};

// A public signature key that passed every check and imported cleanly.
struct Jwk {
    KeyType type = KeyType::Rsa;
    std::optional<std::string> kid;
    std::optional<std::string> alg;
    std::optional<std::string> use;
    // "P-256", "P-384", "P-521", "Ed25519" or "Ed448"; empty for RSA.
    std::string crv;
    // Modulus size; 0 unless RSA.
    int bits = 0;
    // RSA and EC keys, for cjose's JWS verification.
    CjoseJwkPtr cjose;
    // OKP keys, which cjose 0.6 cannot represent: verified with EVP directly.
    EvpPkeyPtr pkey;
    // RSA and EC keys again, built by OpenSSL from the same members cjose
    // imported: ID tokens are verified with EVP for every key type (exact
    // signature lengths, PSS salt length and curve checks under our control).
    EvpPkeyPtr evp;
    // Verification contexts of this key, one per JWS algorithm (indexed by
    // Alg), prepared on first use: OpenSSL lets one context verify again and
    // again, which saves its per-call algorithm fetch and set-up. Mutable
    // because a cache; a key set is used by one thread at a time (each nginx
    // worker parses its own).
    mutable std::array<EvpPkeyCtxPtr, 16> verifiers;
};

// The EVP key that verifies signatures made with key: evp for RSA and EC,
// pkey for OKP. Never null for a key Jwks::parse() kept.
inline const EVP_PKEY *verificationKey(const Jwk &key) noexcept {
    return key.type == KeyType::Okp ? key.pkey.get() : key.evp.get();
}

// "RSA", "EC" or "OKP".
const char *toString(KeyType type) noexcept;

// JSON Web Key Set (RFC 7517, section 5) reduced to its usable signature keys.
class Jwks {
public:
    static constexpr std::size_t kMaxDocumentBytes = 1024 * 1024;
    // Real providers publish a handful of keys; a long list only costs
    // memory and lookup time.
    static constexpr std::size_t kMaxKeys = 100;
    // RFC 7518, section 3.3 requires 2048 bits; the upper bound keeps
    // verification cost within what OpenSSL itself accepts.
    static constexpr int kMinRsaBits = 2048;
    static constexpr int kMaxRsaBits = 16384;

    // Errors: TooLarge, Json, Jwks, NoKeys, NoMemory. Individual keys that
    // cannot be used are skipped, not errors.
    static Result<Jwks> parse(std::string_view document);

    const std::vector<Jwk> &keys() const noexcept { return keys_; }

    // One line per skipped key, e.g. `keys[1]: "use" is "enc"`.
    const std::vector<std::string> &skipped() const noexcept {
        return skipped_;
    }

    bool hasKid(std::string_view kid) const noexcept;

    // Compact JSON array with, per usable key: kid, kty, alg, use (each when
    // present), crv (EC, OKP) and bits (RSA).
    Result<std::string> describe() const;

private:
    Jwks() = default;

    std::vector<Jwk> keys_;
    std::vector<std::string> skipped_;
};

}  // namespace auth_oidc
