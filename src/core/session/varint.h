#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace auth_oidc {

// LEB128 lengths, as session records (record.h) and packed tokens
// (token_packing.h) write them: the shortest encoding only, so that a
// record decoded and encoded again is the same bytes.
inline constexpr std::size_t kMaxVarintBytes = 10;

inline void putVarint(std::string &out, std::uint64_t value) {
    while (value >= 0x80) {
        out += static_cast<char>((value & 0x7f) | 0x80);
        value >>= 7;
    }
    out += static_cast<char>(value);
}

enum class VarintError { None, Truncated, Overflow, NotMinimal };

// Reads one from the front of in, which it then leaves after it.
inline VarintError takeVarint(std::string_view &in,
                              std::uint64_t &out) noexcept {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < kMaxVarintBytes; ++i) {
        if (i >= in.size()) {
            return VarintError::Truncated;
        }
        const auto byte = static_cast<unsigned char>(in[i]);
        // The tenth byte holds bit 63 only.
        if (i == kMaxVarintBytes - 1 && byte > 1) {
            return VarintError::Overflow;
        }
        value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
        if ((byte & 0x80) == 0) {
            // a zero final byte after others is padding another encoder
            // would not produce
            if (byte == 0 && i > 0) {
                return VarintError::NotMinimal;
            }
            in.remove_prefix(i + 1);
            out = value;
            return VarintError::None;
        }
    }
    return VarintError::Overflow;
}

}  // namespace auth_oidc
