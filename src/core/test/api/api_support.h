#pragma once

// What the tests of the C API (src/core/api/auth_oidc_core.h) share: views
// over test strings, a dirtied error buffer, and the sized-output contract.

#include <openssl/err.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "auth_oidc_core.h"

namespace auth_oidc::test {

inline auth_oidc_str_t str(std::string_view text) {
    return auth_oidc_str_t{reinterpret_cast<const unsigned char *>(text.data()), text.size()};
}

inline const unsigned char *bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char *>(text.data());
}

inline std::string toString(auth_oidc_str_t s) {
    return s.data == nullptr ? std::string("<null>")
                             : std::string(reinterpret_cast<const char *>(s.data), s.len);
}

// Garbage in the error buffer, so that a test sees what a call writes.
inline auth_oidc_error_t dirtyError() {
    auth_oidc_error_t err;
    std::memset(err.msg, 'X', sizeof(err.msg));
    return err;
}

// Runs a (buf, size, needed, err) function the way the module does: asks
// for the size, then tries one byte short (nothing written), then the exact
// size (nothing past it written). A failure must set needed to 0 and leave
// nothing in OpenSSL's error queue. Returns the output, or the error text.
template <typename Fn>
std::string sizedCall(Fn fn, auth_oidc_status_t expected = AUTH_OIDC_OK) {
    std::size_t needed = 12345;
    auth_oidc_error_t err = dirtyError();
    EXPECT_EQ(fn(nullptr, 0, &needed, &err), expected) << err.msg;
    if (expected != AUTH_OIDC_OK) {
        EXPECT_EQ(needed, 0u);
        EXPECT_EQ(ERR_peek_error(), 0u);
        return err.msg;
    }
    EXPECT_STREQ(err.msg, "");
    std::vector<unsigned char> small(needed > 0 ? needed - 1 : 0, 0xAA);
    std::size_t again = 0;
    EXPECT_EQ(fn(small.data(), small.size(), &again, &err), AUTH_OIDC_OK);
    EXPECT_EQ(again, needed);
    EXPECT_EQ(small, std::vector<unsigned char>(small.size(), 0xAA));
    std::vector<unsigned char> buf(needed + 1, 0xAA);
    EXPECT_EQ(fn(buf.data(), needed, &again, &err), AUTH_OIDC_OK);
    EXPECT_EQ(again, needed);
    EXPECT_EQ(buf[needed], 0xAA);
    return std::string(buf.begin(), buf.begin() + static_cast<long>(needed));
}

}  // namespace auth_oidc::test
