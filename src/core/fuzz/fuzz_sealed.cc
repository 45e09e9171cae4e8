// libFuzzer entry point: sealed records (auth_oidc_open). The first input
// byte chooses how many of the following bytes are the aad; the rest is
// opened as a record, by a keyring that also has a previous secret. Then the
// rest is sealed as plaintext: it must open again to the same bytes, and
// not at all under an altered aad or with one byte altered.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "auth_oidc_core.h"

namespace {

auth_oidc_keyring_t *makeKeyring() {
    static const char current[] = "fuzzing secret, current, 32 bytes or more";
    static const char previous[] = "fuzzing secret, previous, 32 bytes or more";
    auth_oidc_keyring_t *kr = nullptr;
    if (auth_oidc_keyring_new(
            auth_oidc_str_t{reinterpret_cast<const unsigned char *>(current), sizeof(current) - 1},
            auth_oidc_str_t{reinterpret_cast<const unsigned char *>(previous),
                            sizeof(previous) - 1},
            &kr, nullptr) != AUTH_OIDC_OK) {
        std::abort();
    }
    return kr;
}

// The plaintext, or aborts when a successful open breaks the contract.
bool open(const auth_oidc_keyring_t *kr, auth_oidc_str_t aad, auth_oidc_str_t sealed,
          std::vector<unsigned char> &out) {
    std::size_t needed = 1;
    auth_oidc_error_t err;
    const auth_oidc_status_t status = auth_oidc_open(kr, aad, sealed, nullptr, 0, &needed, &err);
    if (status != AUTH_OIDC_OK) {
        if (needed != 0 || err.msg[0] == '\0' ||
            (status != AUTH_OIDC_EDECODE && status != AUTH_OIDC_EAUTH &&
             status != AUTH_OIDC_ETOOLARGE)) {
            std::abort();
        }
        return false;
    }
    if (needed + AUTH_OIDC_SEAL_OVERHEAD != sealed.len) {
        std::abort();
    }
    out.assign(needed + 1, 0xAA);
    std::size_t again = 0;
    if (auth_oidc_open(kr, aad, sealed, out.data(), needed, &again, nullptr) != AUTH_OIDC_OK ||
        again != needed || out[needed] != 0xAA) {
        std::abort();
    }
    out.pop_back();
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    static auth_oidc_keyring_t *const kr = makeKeyring();
    if (size == 0) {
        return 0;
    }
    const std::size_t aadLen = data[0] % 64 < size - 1 ? data[0] % 64 : size - 1;
    const auth_oidc_str_t aad{data + 1, aadLen};
    const auth_oidc_str_t rest{data + 1 + aadLen, size - 1 - aadLen};

    std::vector<unsigned char> plain;
    // Arbitrary bytes: opening may succeed only by forging a GCM tag.
    if (open(kr, aad, rest, plain)) {
        std::abort();
    }

    static const unsigned char nonce[AUTH_OIDC_SEAL_NONCE_LEN] = {1, 2, 3};
    std::size_t needed = 0;
    if (auth_oidc_seal(kr, aad, rest, nonce, nullptr, 0, &needed, nullptr) != AUTH_OIDC_OK ||
        needed != rest.len + AUTH_OIDC_SEAL_OVERHEAD) {
        std::abort();
    }
    std::vector<unsigned char> sealed(needed);
    if (auth_oidc_seal(kr, aad, rest, nonce, sealed.data(), sealed.size(), &needed, nullptr) !=
        AUTH_OIDC_OK) {
        std::abort();
    }
    const auth_oidc_str_t record{sealed.data(), sealed.size()};
    if (!open(kr, aad, record, plain) || plain.size() != rest.len ||
        (rest.len != 0 && std::memcmp(plain.data(), rest.data, rest.len) != 0)) {
        std::abort();
    }
    // One byte more of aad (the first byte of rest, when there is one).
    if (rest.len != 0 && open(kr, auth_oidc_str_t{data + 1, aadLen + 1}, record, plain)) {
        std::abort();
    }
    sealed[data[0] % sealed.size()] ^= 0x20;
    if (open(kr, aad, record, plain)) {
        std::abort();
    }
    return 0;
}
