#include "common/base64url.h"

#include <cstdint>

namespace auth_oidc {

namespace {

// Sextet value of each byte, or -1 for bytes outside the base64url alphabet.
// Decoding sits on every request (cookies) and in every ID-token check: one
// table load per character instead of a chain of range tests.
struct SextetTable {
    signed char value[256];
    constexpr SextetTable() : value() {
        for (int i = 0; i < 256; ++i) {
            value[i] = -1;
        }
        for (int i = 0; i < 26; ++i) {
            value['A' + i] = static_cast<signed char>(i);
            value['a' + i] = static_cast<signed char>(26 + i);
        }
        for (int i = 0; i < 10; ++i) {
            value['0' + i] = static_cast<signed char>(52 + i);
        }
        value[static_cast<unsigned char>('-')] = 62;
        value[static_cast<unsigned char>('_')] = 63;
    }
};

constexpr SextetTable kSextets;

inline int sextet(char c) noexcept {
    return kSextets.value[static_cast<unsigned char>(c)];
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
    const std::size_t tail = in.size() % 4;
    if (tail == 1) {
        return std::nullopt;
    }
    std::vector<unsigned char> out(in.size() / 4 * 3 + (tail == 0 ? 0 : tail - 1));
    unsigned char *o = out.data();
    const char *p = in.data();
    const char *const whole = p + (in.size() - tail);
    for (; p != whole; p += 4) {
        const int a = sextet(p[0]);
        const int b = sextet(p[1]);
        const int c = sextet(p[2]);
        const int d = sextet(p[3]);
        if ((a | b | c | d) < 0) {
            return std::nullopt;
        }
        const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) |
                                                  (c << 6) | d);
        *o++ = static_cast<unsigned char>(v >> 16);
        *o++ = static_cast<unsigned char>(v >> 8);
        *o++ = static_cast<unsigned char>(v);
    }
    if (tail != 0) {
        const int a = sextet(p[0]);
        const int b = sextet(p[1]);
        const int c = tail == 3 ? sextet(p[2]) : 0;
        if ((a | b | c) < 0) {
            return std::nullopt;
        }
        // The bits below the last whole byte must be zero (RFC 4648,
        // section 3.5): otherwise two encodings would decode alike.
        if (tail == 2 ? (b & 0x0f) != 0 : (c & 0x03) != 0) {
            return std::nullopt;
        }
        *o++ = static_cast<unsigned char>((a << 2) | (b >> 4));
        if (tail == 3) {
            *o++ = static_cast<unsigned char>(((b & 0x0f) << 4) | (c >> 2));
        }
    }
    return out;
}

}  // namespace auth_oidc
