#include "common/base64url.h"

#include <cstdint>

namespace auth_oidc {

namespace {

int sextet(char c) noexcept {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

}  // namespace

std::optional<std::vector<unsigned char>> decodeBase64Url(std::string_view in) {
    // A single leftover character carries only 6 bits: never a whole byte.
    if (in.size() % 4 == 1) {
        return std::nullopt;
    }
    std::vector<unsigned char> out;
    out.reserve(in.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        const int v = sextet(c);
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<unsigned char>((acc >> bits) & 0xffu));
        }
    }
    if ((acc & ((1u << bits) - 1u)) != 0) {
        return std::nullopt;
    }
    return out;
}

}  // namespace auth_oidc
