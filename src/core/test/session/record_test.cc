#include "session/record.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "jwt/claims.h"
#include "session/token_packing.h"

namespace auth_oidc {
namespace {

PendingLoginFields pending() {
    PendingLoginFields f;
    f.nonce = "nonce-43-characters-aaaaaaaaaaaaaaaaaaaaaaa";
    f.codeVerifier = "verifier-43-characters-aaaaaaaaaaaaaaaaaaaa";
    f.returnPath = "/app/page?x=1";
    f.provider = "keycloak";
    f.created = 1700000000;
    f.expires = 1700000600;
    return f;
}

SessionFields session() {
    SessionFields f;
    f.sub = "248289761001";
    f.sid = "08a5019c-17e1-4977-8f42-65a12843ea02";
    f.idToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIyNDgyODk3NjEwMDEifQ.c2ln";
    f.accessToken = "SlAV32hkKG";
    f.refreshToken = "8xLOxBtZp8";
    f.claims = R"({"sub":"248289761001","name":"Jane Doe"})";
    f.userinfo = R"({"sub":"248289761001","email":"jane@example.com"})";
    f.created = 1700000000;
    f.expires = 1700028800;
    f.accessTokenExpires = 1700003600;
    return f;
}

TEST(RecordTest, PendingLoginRoundTrip) {
    const auto encoded = encodePendingLogin(pending());
    ASSERT_TRUE(encoded.ok()) << encoded.detail();
    // version, kind, 4 one-byte lengths, 43 + 43 + 13 + 8 bytes, 2 x 8,
    // no acr values (one length byte) and max_age (8).
    EXPECT_EQ(encoded.value().size(), 2u + 4 + 43 + 43 + 13 + 8 + 16 + 1 + 8);
    EXPECT_EQ(encoded.value()[0], '\x05');
    EXPECT_EQ(encoded.value()[1], 'P');

    const auto decoded = decodePendingLogin(encoded.value());
    ASSERT_TRUE(decoded.ok()) << decoded.detail();
    const PendingLoginFields &f = decoded.value();
    EXPECT_EQ(f.nonce, pending().nonce);
    EXPECT_EQ(f.codeVerifier, pending().codeVerifier);
    EXPECT_EQ(f.returnPath, "/app/page?x=1");
    EXPECT_EQ(f.provider, "keycloak");
    EXPECT_EQ(f.created, 1700000000);
    EXPECT_EQ(f.expires, 1700000600);
    EXPECT_TRUE(f.acrValues.empty());
    EXPECT_EQ(f.maxAge, -1);
}

TEST(RecordTest, PendingLoginKeepsTheStepUpAskedFor) {
    PendingLoginFields in = pending();
    in.acrValues = "gold silver";
    in.maxAge = 300;
    const auto encoded = encodePendingLogin(in);
    ASSERT_TRUE(encoded.ok()) << encoded.detail();
    const auto decoded = decodePendingLogin(encoded.value());
    ASSERT_TRUE(decoded.ok()) << decoded.detail();
    EXPECT_EQ(decoded.value().acrValues, "gold silver");
    EXPECT_EQ(decoded.value().maxAge, 300);

    // a version 4 pending login (no step-up) still decodes, asking none
    std::string v4 = encoded.value();
    v4[0] = '\x04';
    v4.resize(v4.size() - (1 + 11 + 8));
    const auto old = decodePendingLogin(v4);
    ASSERT_TRUE(old.ok()) << old.detail();
    EXPECT_TRUE(old.value().acrValues.empty());
    EXPECT_EQ(old.value().maxAge, -1);

    // a max_age below -1 is no record of ours
    std::string bad = encoded.value();
    for (std::size_t i = bad.size() - 8; i < bad.size(); ++i) {
        bad[i] = '\xfe';
    }
    EXPECT_FALSE(decodePendingLogin(bad).ok());
}

TEST(RecordTest, SessionRoundTrip) {
    const auto encoded = encodeSession(session());
    ASSERT_TRUE(encoded.ok()) << encoded.detail();
    const auto decoded = decodeSession(encoded.value());
    ASSERT_TRUE(decoded.ok()) << decoded.detail();
    const SessionFields &f = decoded.value();
    const SessionFields want = session();
    EXPECT_EQ(f.sub, want.sub);
    EXPECT_EQ(f.sid, want.sid);
    EXPECT_EQ(f.idToken, want.idToken);
    EXPECT_EQ(f.accessToken, want.accessToken);
    EXPECT_EQ(f.refreshToken, want.refreshToken);
    EXPECT_TRUE(f.claims.empty());
    ASSERT_EQ(f.claimIndex.size(), 2u);
    EXPECT_EQ(f.claimIndex[0].name, "name");
    EXPECT_EQ(f.claimIndex[0].value, "Jane Doe");
    EXPECT_EQ(f.claimIndex[1].name, "sub");
    EXPECT_EQ(f.claimIndex[1].value, "248289761001");
    // count, then (length, name, length, value) per claim, sorted by name;
    // "sub" is the session's field, not repeated in the table (the index
    // lists it all the same).
    EXPECT_EQ(f.claimTable, std::string_view("\x01\x04name\x08Jane Doe"));
    EXPECT_EQ(f.userinfo, want.userinfo);
    EXPECT_EQ(f.created, want.created);
    EXPECT_EQ(f.expires, want.expires);
    EXPECT_EQ(f.accessTokenExpires, want.accessTokenExpires);
}

TEST(RecordTest, OptionalFieldsMayBeEmpty) {
    SessionFields s = session();
    s.sid = s.accessToken = s.refreshToken = s.userinfo = {};
    s.accessTokenExpires = 0;
    const auto decoded = decodeSession(encodeSession(s).value());
    ASSERT_TRUE(decoded.ok()) << decoded.detail();
    EXPECT_TRUE(decoded.value().sid.empty());
    EXPECT_TRUE(decoded.value().userinfo.empty());
    EXPECT_EQ(decoded.value().accessTokenExpires, 0);

    PendingLoginFields p = pending();
    p.codeVerifier = p.provider = {};
    EXPECT_TRUE(decodePendingLogin(encodePendingLogin(p).value()).ok());
}

TEST(RecordTest, SessionSizeIsPayloadPlusSmallOverhead) {
    // A realistic ID token (~1 KiB) and its claims (which overlap): the
    // record costs 28 bytes plus one length byte per short field (two for
    // fields of 128 bytes to 16 KiB) on top of the values themselves; the
    // claim table is no larger than the claims JSON it replaces (one count
    // byte and two length bytes per claim instead of quotes, colons and
    // commas).
    SessionFields s = session();
    const std::string idToken(1100, 't');
    const std::string claims = R"({"iss":"https://op.example","sub":"248289761001",)"
                               R"("aud":"client","exp":1700003600,"iat":1700000000,)"
                               R"("email_verified":true,"name":"Jane Doe",)"
                               R"("groups":["admins","users"],"opt":null})";
    s.idToken = idToken;
    s.claims = claims;
    // Count, then 7 entries (opt is null; sub is the session's field): iss
    // 3+18, aud 3+6, exp 3+10, iat 3+10, email_verified 14+4, name 4+8,
    // groups 6+18, two length bytes each.
    const std::size_t table = 1 + 7 * 2 + 21 + 9 + 13 + 13 + 18 + 12 + 24;
    EXPECT_LT(table, claims.size());
    // The tokens packed: 1100 base64url characters are 825 bytes; the two
    // short tokens end in non-canonical base64url and stay text.
    EXPECT_EQ(packToken(s.idToken).size(), 1u + 825);
    EXPECT_EQ(packToken(s.accessToken).size(), 1 + s.accessToken.size());
    std::size_t payload = table + 826;
    for (const std::string_view v :
         {s.sub, s.sid, s.accessToken, s.refreshToken, s.userinfo}) {
        payload += v.size();
    }
    const auto encoded = encodeSession(s);
    ASSERT_TRUE(encoded.ok()) << encoded.detail();
    // the table is under 128 bytes now: a one-byte length
    EXPECT_EQ(encoded.value().size(), payload + 2 + 2 + 6 * 1 + 1 * 2 + 40);
    EXPECT_LT(encoded.value().size(), 2000u);
    const auto decoded = decodeSession(encoded.value());
    ASSERT_TRUE(decoded.ok()) << decoded.detail();
    EXPECT_EQ(decoded.value().claimTable.size(), table);
}

TEST(RecordTest, NegativeAndExtremeTimesSurvive) {
    PendingLoginFields p = pending();
    p.created = -1;
    p.expires = INT64_MIN;
    const auto decoded = decodePendingLogin(encodePendingLogin(p).value());
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded.value().created, -1);
    EXPECT_EQ(decoded.value().expires, INT64_MIN);
}

TEST(RecordTest, LongFieldsUseMultiByteLengths) {
    SessionFields s = session();
    const std::string big(300000, 'x');
    s.userinfo = big;
    const auto decoded = decodeSession(encodeSession(s).value());
    ASSERT_TRUE(decoded.ok()) << decoded.detail();
    EXPECT_EQ(decoded.value().userinfo.size(), big.size());
}

TEST(RecordTest, EncodeRequiresMandatoryFields) {
    PendingLoginFields p = pending();
    p.nonce = {};
    EXPECT_EQ(encodePendingLogin(p).status(), Status::InvalidArgument);
    p = pending();
    p.returnPath = {};
    EXPECT_EQ(encodePendingLogin(p).status(), Status::InvalidArgument);
    for (auto field : {&SessionFields::sub, &SessionFields::claims}) {
        SessionFields s = session();
        s.*field = {};
        EXPECT_EQ(encodeSession(s).status(), Status::InvalidArgument);
    }
}

// A session keeps only the tokens its configuration uses: none at all is a
// record too, and decodes with them empty.
TEST(RecordTest, ASessionWithoutTokensRoundTrips) {
    SessionFields s = session();
    s.idToken = {};
    s.accessToken = {};
    s.refreshToken = {};
    auto encoded = encodeSession(s);
    ASSERT_TRUE(encoded) << encoded.detail();
    EXPECT_LT(encoded.value().size(), encodeSession(session()).value().size());
    auto decoded = decodeSession(encoded.value());
    ASSERT_TRUE(decoded) << decoded.detail();
    EXPECT_TRUE(decoded.value().idToken.empty());
    EXPECT_TRUE(decoded.value().accessToken.empty());
    EXPECT_TRUE(decoded.value().refreshToken.empty());
    EXPECT_EQ(decoded.value().sub, s.sub);
}

TEST(RecordTest, RejectsWrongVersionKindAndTrailingBytes) {
    const std::string good = encodePendingLogin(pending()).value();
    std::string other = good;
    other[0] = '\x01';
    EXPECT_EQ(decodePendingLogin(other).detail(),
              "malformed record: unsupported format version 1");
    EXPECT_EQ(decodeSession(good).detail(), "malformed record: not a session record");
    EXPECT_EQ(decodePendingLogin(encodeSession(session()).value()).status(), Status::Decode);
    EXPECT_EQ(decodePendingLogin(good + "x").detail(), "malformed record: 1 trailing bytes");
    EXPECT_EQ(decodePendingLogin("").status(), Status::Decode);
    EXPECT_EQ(decodePendingLogin(std::string_view()).status(), Status::Decode);
}

TEST(RecordTest, RejectsBadLengths) {
    // version 2, 'P', nonce length 0x80 0x00 (non-minimal zero).
    EXPECT_EQ(decodePendingLogin(std::string("\x02P\x80\x00", 4)).detail(),
              "malformed record: length of nonce is not minimally encoded");
    // Eleven continuation bytes.
    EXPECT_EQ(decodePendingLogin(std::string("\x02P") + std::string(11, '\xff')).detail(),
              "malformed record: length of nonce overflows");
    // 2^64 - 1 bytes claimed.
    EXPECT_EQ(decodePendingLogin(std::string("\x02P") + std::string(9, '\xff') + "\x01")
                  .detail(),
              "malformed record: nonce is longer than the record");
    EXPECT_EQ(decodePendingLogin(std::string("\x02P\x05" "abc", 6)).detail(),
              "malformed record: nonce is longer than the record");
}

TEST(RecordTest, RejectsEveryTruncation) {
    for (const std::string &good :
         {encodePendingLogin(pending()).value(), encodeSession(session()).value()}) {
        for (std::size_t len = 0; len < good.size(); ++len) {
            const std::string_view cut(good.data(), len);
            EXPECT_EQ(good[1] == 'P' ? decodePendingLogin(cut).status()
                                     : decodeSession(cut).status(),
                      Status::Decode)
                << len;
        }
    }
}

TEST(RecordTest, SurvivesGarbage) {
    std::mt19937 random(20240601);
    const std::string good = encodeSession(session()).value();
    std::size_t accepted = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string bytes = good;
        // Flip a few bytes of a valid record, or start from noise.
        if (round % 2 == 0) {
            for (int i = 0; i < 3; ++i) {
                bytes[random() % bytes.size()] = static_cast<char>(random());
            }
        } else {
            bytes.resize(random() % 64);
            for (char &c : bytes) {
                c = static_cast<char>(random());
            }
            if (!bytes.empty()) {
                bytes[0] = '\x02';
            }
            if (bytes.size() > 1) {
                bytes[1] = round % 4 == 1 ? 'S' : 'P';
            }
        }
        const auto s = decodeSession(bytes);
        const auto p = decodePendingLogin(bytes);
        for (const Status status : {s.status(), p.status()}) {
            ASSERT_TRUE(status == Status::Ok || status == Status::Decode);
        }
        accepted += s.ok() + p.ok();
        if (s.ok()) {
            // Views never leave the input.
            for (const std::string_view v : {s.value().sub, s.value().claimTable}) {
                EXPECT_GE(v.data(), bytes.data());
                EXPECT_LE(v.data() + v.size(), bytes.data() + bytes.size());
            }
        }
    }
    // Some flipped bytes only change contents.
    EXPECT_GT(accepted, 0u);
}

// Every kind of claim value, unsorted names.
constexpr std::string_view kMixedClaims =
    "{\"sub\":\"u-1\",\"n\":42,\"f\":0.1,\"neg\":-7,\"t\":true,\"no\":false,"
    "\"nul\":null,\"arr\":[1,\"two\",null,{\"x\":\"y\"}],"
    "\"obj\":{\"a\":[],\"b\":{}},\"uni\":\"J\\u00f6rg \\u2603 \\ud83d\\ude00\","
    "\"ctl\":\"a\\nb\\tc\\u0001d\\u007fe\",\"empty\":\"\","
    "\"A\":\"upper sorts first\",\"\":\"empty name\"}";

TEST(RecordTest, ClaimTableMatchesRender) {
    SessionFields in = session();
    in.claims = kMixedClaims;
    const auto encoded = encodeSession(in);
    ASSERT_TRUE(encoded.ok()) << encoded.detail();
    const auto decoded = decodeSession(encoded.value());
    ASSERT_TRUE(decoded.ok()) << decoded.detail();
    const auto &index = decoded.value().claimIndex;

    const auto claims = Claims::parse(kMixedClaims);
    ASSERT_TRUE(claims.ok()) << claims.detail();
    // Every non-null claim, and nothing else.
    EXPECT_EQ(index.size(), json_object_size(claims.value().root()) - 1);
    for (const char *name : {"sub", "n", "f", "neg", "t", "no", "nul", "arr", "obj", "uni",
                             "ctl", "empty", "A", "", "absent", "su", "subs"}) {
        const auto want = claims.value().render(name);
        ASSERT_TRUE(want.ok());
        const auto got = findClaim(index, name);
        ASSERT_EQ(got.has_value(), want.value().has_value()) << name;
        if (got) {
            EXPECT_EQ(*got, *want.value()) << name;
        }
    }
    EXPECT_EQ(findClaim(index, "ctl"), std::optional<std::string_view>("a b c d e"));
    EXPECT_EQ(findClaim(index, "arr"), std::optional<std::string_view>(R"([1,"two",null,{"x":"y"}])"));
    EXPECT_EQ(findClaim(index, "f"), std::optional<std::string_view>("0.1"));
    EXPECT_EQ(findClaim(index, "nul"), std::nullopt);
    EXPECT_EQ(findClaim(index, "empty"), std::optional<std::string_view>(""));
    EXPECT_EQ(findClaim({}, "sub"), std::nullopt);

    // Re-encoding the decoded table gives the same record.
    SessionFields again = decoded.value();
    again.claims = {};
    const auto reencoded = encodeSession(again);
    ASSERT_TRUE(reencoded.ok()) << reencoded.detail();
    EXPECT_EQ(reencoded.value(), encoded.value());
}

// nginx lowercases variable names and allows [A-Za-z0-9_] only.
TEST(RecordTest, ClaimForVariableFoldsCaseAndPunctuation) {
    SessionFields in = session();
    in.claims = R"({"sub":"u","isAdmin":true,"cognito:groups":["a","b"],"x-team":"blue",)"
                R"("dotted.name":"d","Upper":"U","upper":"lower wins exactly"})";
    const auto encoded = encodeSession(in);
    ASSERT_TRUE(encoded.ok()) << encoded.detail();
    const auto decoded = decodeSession(encoded.value());
    ASSERT_TRUE(decoded.ok()) << decoded.detail();
    const auto &index = decoded.value().claimIndex;
    using V = std::optional<std::string_view>;
    EXPECT_EQ(findClaimForVariable(index, "isadmin"), V("true"));
    EXPECT_EQ(findClaimForVariable(index, "cognito_groups"), V(R"(["a","b"])"));
    EXPECT_EQ(findClaimForVariable(index, "x_team"), V("blue"));
    EXPECT_EQ(findClaimForVariable(index, "dotted_name"), V("d"));
    EXPECT_EQ(findClaimForVariable(index, "upper"), V("lower wins exactly"));
    EXPECT_EQ(findClaimForVariable(index, "sub"), V("u"));
    EXPECT_EQ(findClaimForVariable(index, "isadmi"), std::nullopt);
    EXPECT_EQ(findClaimForVariable(index, "cognito_group"), std::nullopt);
    EXPECT_EQ(findClaimForVariable(index, "nothing"), std::nullopt);
    // the exact lookup itself stays exact
    EXPECT_EQ(findClaim(index, "isadmin"), std::nullopt);
}

// A login stores the claim table straight from the parsed token: the same
// record, byte for byte, as encoding the claims JSON.
TEST(RecordTest, ClaimTableFromClaimsEqualsClaimsJson) {
    const auto claims = Claims::parse(kMixedClaims);
    ASSERT_TRUE(claims.ok()) << claims.detail();
    const auto table = encodeClaimTable(claims.value());
    ASSERT_TRUE(table.ok()) << table.detail();
    SessionFields viaJson = session();
    viaJson.claims = kMixedClaims;
    SessionFields viaTable = session();
    viaTable.claims = {};
    viaTable.claimTable = table.value();
    const auto a = encodeSession(viaJson);
    const auto b = encodeSession(viaTable);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a.value(), b.value());
}

TEST(RecordTest, EncodeChecksClaims) {
    SessionFields s = session();
    s.claims = "[1]";
    EXPECT_EQ(encodeSession(s).status(), Status::Json);
    s.claims = "{\"a\":";
    EXPECT_EQ(encodeSession(s).status(), Status::Json);
    s.claims = "{}";
    const auto empty = decodeSession(encodeSession(s).value());
    ASSERT_TRUE(empty.ok()) << empty.detail();
    EXPECT_EQ(empty.value().claimTable, std::string_view("\0", 1));
    // only the session's "sub", from its field
    ASSERT_EQ(empty.value().claimIndex.size(), 1u);
    EXPECT_EQ(empty.value().claimIndex[0].name, "sub");

    s = session();
    s.claimTable = std::string_view("\0", 1);
    EXPECT_EQ(encodeSession(s).detail(),
              "invalid argument: claims and claim table are both given");
    s.claims = {};
    EXPECT_TRUE(encodeSession(s).ok());
    for (const std::string_view bad :
         {std::string_view("\x02\x01" "b\x01" "1\x01" "a\x01" "2", 9),  // out of order
          std::string_view("\x02\x01" "a\x01" "1\x01" "a\x01" "2", 9),  // duplicate
          std::string_view("\x01\x01" "a\x01\n", 5),                 // control byte
          std::string_view("\x01\x01" "a\x01" "1x", 6),               // trailing byte
          std::string_view("\x7f\x01" "a\x01" "1", 5)}) {             // count too high
        s.claimTable = bad;
        EXPECT_EQ(encodeSession(s).status(), Status::InvalidArgument) << bad.size();
    }
}

// Hand-built: a session record whose claim table is out of order.
TEST(RecordTest, DecodeChecksClaimTable) {
    const std::string tail(24, '\0');
    std::string record("\x02S\x01s\x00\x01t\x00\x00", 9);
    const std::string good = record + std::string("\x05\x01\x01" "a\x01" "1", 6) +
                             std::string(1, '\0') + tail;
    const auto ok = decodeSession(good);
    ASSERT_TRUE(ok.ok()) << ok.detail();
    EXPECT_EQ(findClaim(ok.value().claimIndex, "a"), std::optional<std::string_view>("1"));
    const std::string bad = record +
                            std::string("\x09\x02\x01" "b\x01" "1\x01" "a\x01" "2", 10) +
                            std::string(1, '\0') + tail;
    EXPECT_EQ(decodeSession(bad).detail(), "malformed record: claim names out of order");
    const std::string ctl = record + std::string("\x05\x01\x01" "a\x01\x7f", 6) +
                            std::string(1, '\0') + tail;
    EXPECT_EQ(decodeSession(ctl).detail(), "malformed record: control byte in a claim value");
}

// The layout of version 1: the claims JSON where the table is now.
TEST(RecordTest, VersionOneSessionDoesNotDecode) {
    std::string v1("\x01S\x01s\x00\x01t\x00\x00", 9);
    v1 += "\x0b{\"sub\":\"s\"}";
    v1 += std::string(1, '\0') + std::string(24, '\0');
    const auto decoded = decodeSession(v1);
    EXPECT_EQ(decoded.status(), Status::Decode);
    EXPECT_EQ(decoded.detail(), "malformed record: unsupported format version 1");
}

}  // namespace
}  // namespace auth_oidc

namespace auth_oidc {
namespace {

// An upgrade logs nobody out: version 2 sessions (without "refreshed" and
// "idTokenExpires") still decode, refreshed at their creation.
TEST(RecordTest, VersionTwoSessionStillDecodes) {
    std::string v2("\x02S\x01s\x00\x01t\x00\x00", 9);
    v2 += std::string("\x07\x01\x03sub\x01s", 8);
    v2 += std::string(1, '\0');
    const auto putInt = [&v2](std::uint64_t v) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            v2 += static_cast<char>((v >> shift) & 0xff);
        }
    };
    putInt(100);
    putInt(200);
    putInt(150);
    const auto decoded = decodeSession(v2);
    ASSERT_TRUE(decoded) << decoded.detail();
    EXPECT_EQ(decoded.value().created, 100);
    EXPECT_EQ(decoded.value().refreshed, 100);
    EXPECT_EQ(decoded.value().expires, 200);
    EXPECT_EQ(decoded.value().accessTokenExpires, 150);
    EXPECT_EQ(decoded.value().idTokenExpires, 0);
    // Written again, it is a record of the current version.
    auto again = encodeSession(decoded.value());
    ASSERT_TRUE(again) << again.detail();
    EXPECT_EQ(again.value()[0], static_cast<char>(kRecordVersion));
}

}  // namespace
}  // namespace auth_oidc

namespace auth_oidc {
namespace {

// Version 4 keeps tokens packed and gives back their text; a version 3
// record (tokens as text) still decodes, so an upgrade logs nobody out.
TEST(RecordTest, TokensArePackedAndComeBackAsText) {
    SessionFields s = session();
    const std::string idToken = "eyJhbGciOiJSUzI1NiJ9." +
                                std::string(1000, 'Q') + "." +
                                std::string(344, 'A');
    const std::string refreshToken(800, 'r');
    s.idToken = idToken;
    s.refreshToken = refreshToken;
    const auto encoded = encodeSession(s);
    ASSERT_TRUE(encoded) << encoded.detail();
    EXPECT_LT(encoded.value().size(), 2 + idToken.size() * 3 / 4 + 600 + 200);
    SessionFields copy;
    {
        const auto decoded = decodeSession(encoded.value());
        ASSERT_TRUE(decoded) << decoded.detail();
        copy = decoded.value();
    }
    // the copy's views outlive the decoded fields they were copied from
    EXPECT_EQ(copy.idToken, idToken);
    EXPECT_EQ(copy.accessToken, "SlAV32hkKG");
    EXPECT_EQ(copy.refreshToken, refreshToken);

    std::string v3 = encoded.value();
    v3 = std::string("\x03S", 2);
    const auto putString = [&v3](std::string_view v) {
        std::size_t n = v.size();
        while (n >= 0x80) {
            v3 += static_cast<char>((n & 0x7f) | 0x80);
            n >>= 7;
        }
        v3 += static_cast<char>(n);
        v3 += v;
    };
    putString("sub-1");
    putString("");
    putString(idToken);
    putString("opaque access");
    putString("");
    putString(std::string("\x01\x03sub\x05sub-1", 11));
    putString("");
    v3 += std::string(40, '\0');
    const auto old = decodeSession(v3);
    ASSERT_TRUE(old) << old.detail();
    EXPECT_EQ(old.value().idToken, idToken);
    EXPECT_EQ(old.value().accessToken, "opaque access");
    EXPECT_TRUE(old.value().refreshToken.empty());
}

TEST(RecordTest, AMalformedPackedTokenDoesNotDecode) {
    auto encoded = encodeSession(session());
    ASSERT_TRUE(encoded) << encoded.detail();
    std::string record = encoded.value();
    // sub (12), sid (36), then the ID token's length and its form byte
    const std::size_t form = 2 + 1 + 12 + 1 + 36 + 1;
    ASSERT_EQ(static_cast<unsigned char>(record[form]), kPackedJws);
    // left packed, then unpacked on demand: the same text
    const auto packed = decodeSession(record, false);
    ASSERT_TRUE(packed) << packed.detail();
    SessionFields later = packed.value();
    EXPECT_TRUE(later.tokensPacked);
    EXPECT_EQ(static_cast<unsigned char>(later.idToken[0]), kPackedJws);
    ASSERT_TRUE(unpackSessionTokens(later));
    EXPECT_FALSE(later.tokensPacked);
    EXPECT_EQ(later.idToken, session().idToken);
    EXPECT_EQ(later.refreshToken, session().refreshToken);

    record[form] = '\x07';
    const auto decoded = decodeSession(record);
    EXPECT_EQ(decoded.status(), Status::Decode);
    // checked even when left packed
    EXPECT_EQ(decodeSession(record, false).status(), Status::Decode);
}

}  // namespace
}  // namespace auth_oidc

namespace auth_oidc {
namespace {

// "sub" lives once, in its field: a version 4 table does not repeat it,
// and a table that does is not this format.
TEST(RecordTest, SubIsKeptOnce) {
    SessionFields s = session();
    s.idToken = s.accessToken = s.refreshToken = {};
    const auto encoded = encodeSession(s);
    ASSERT_TRUE(encoded) << encoded.detail();
    EXPECT_EQ(encoded.value().find("\x03sub"), std::string::npos);
    const auto decoded = decodeSession(encoded.value());
    ASSERT_TRUE(decoded) << decoded.detail();
    EXPECT_EQ(findClaim(decoded.value().claimIndex, "sub"),
              std::optional<std::string_view>("248289761001"));
    EXPECT_EQ(findClaimForVariable(decoded.value().claimIndex, "sub"),
              std::optional<std::string_view>("248289761001"));

    // a version 4 record whose table holds "sub"
    std::string record = encoded.value();
    const std::string table("\x01\x04name\x08Jane Doe", 15);
    const std::size_t at = record.find(table);
    ASSERT_NE(at, std::string::npos);
    record.replace(at - 1, 1 + table.size(),
                   std::string("\x1f\x02\x04name\x08Jane Doe\x03sub\x0c" "248289761001", 32));
    EXPECT_EQ(decodeSession(record).status(), Status::Decode);
}

}  // namespace
}  // namespace auth_oidc
