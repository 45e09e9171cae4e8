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

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

void encodeBase64UrlTo(const unsigned char *in, std::size_t len,
                       char *out) noexcept {
    std::size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        const std::uint32_t v = (std::uint32_t{in[i]} << 16) |
                                (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
        *out++ = kAlphabet[(v >> 18) & 0x3f];
        *out++ = kAlphabet[(v >> 12) & 0x3f];
        *out++ = kAlphabet[(v >> 6) & 0x3f];
        *out++ = kAlphabet[v & 0x3f];
    }
    if (len - i == 1) {
        const std::uint32_t v = std::uint32_t{in[i]} << 16;
        *out++ = kAlphabet[(v >> 18) & 0x3f];
        *out++ = kAlphabet[(v >> 12) & 0x3f];
    } else if (len - i == 2) {
        const std::uint32_t v =
            (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8);
        *out++ = kAlphabet[(v >> 18) & 0x3f];
        *out++ = kAlphabet[(v >> 12) & 0x3f];
        *out++ = kAlphabet[(v >> 6) & 0x3f];
    }
}

std::string encodeBase64Url(const unsigned char *in, std::size_t len) {
    std::string out(base64UrlLength(len), '\0');
    encodeBase64UrlTo(in, len, out.data());
    return out;
}

std::string encodeBase64Url(std::string_view in) {
    return encodeBase64Url(reinterpret_cast<const unsigned char *>(in.data()),
                           in.size());
}

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
