#pragma once

// Public halves of throwaway keys, fixed so the tests are deterministic.
// Made once with:
//   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 (and 1024, 3072)
//   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 (P-384, P-521)
//   openssl genpkey -algorithm ed25519 (and ed448)
// and converted to JWK members (unpadded base64url of the big-endian
// integers, full-length EC coordinates, raw OKP public keys). The private
// keys were discarded.

namespace auth_oidc::test {

inline constexpr const char *kRsa2048N =
    "qrd-yzeBVWbWRjjIm8A48_KrHSB7ye2BDhhfdBdBjRiX8Hb5kO0rTI_uTl6iazx-jsdUKJKpTYxg"
    "1V3rkkSERN1enx0Cbi29egu5NIJjri4WcqVpisYrN_athUaDDICDsWuojO4vZnLMZGW8ZQ9Qqi"
    "W_LSI6y-og2fNSEDAzvV9gS8fuCC82OEb9V94ykjgxCWdOZIpGLfMsUvBMwxjss76ns-3hhOFB"
    "Hr0iC7NHCLoBP1z1G5qf-SJkKlZgwGhUQWKGAq9HL2jF6cRYyRijrNwdL8kzfKRjc-DNNMY5C8"
    "GsVuyJ2M6OtdUt1iOZwZjCvT6WW1G-y4YziMiBlklNJw";

inline constexpr const char *kRsa1024N =
    "xamUl5NvPbBcIqvgmhz2ahFnIbe9jC1kbAgMoC1pYfqVApIOBd_vfKVoNWvrNfpbX3H6XkffhF"
    "Mc5X_rsKORVRHsgTp4VM-sCsmfP5zDKC9-YsqLTAbcgtXhIGRszFzi0zwqezDOISbqp-3CJ48R"
    "QGp8sphXe_AyZYbQj6-EXK8";

inline constexpr const char *kRsa3072N =
    "vgeZoXPVOW_YYrZ-q17Mb2_en84ZxGFEExx_jyj4DIdEw3DnUsq9qH-uxJEYfmC2Wc92eNGnQ-"
    "HSVtH8_zW0U8ECtxTnCoPEiC5hbCZraxMRwisYJl94-cmmq9PgT10iBXw9cpdSv2imV8XKL6fD"
    "QecieYPzVdXotqrIgDuWRlxYoNvLaQ4dS-2Onqi85UVy1dwCVeCvGYlkAyycP1iAZnlS2aZVJn"
    "0lk6gXhFq2Z7UgZbKJf_aGFmnTTNi_Wq_FvVv1obi0kc0WMjdmU9hbOy_HZqB6rqrCpKkaUuSW"
    "y-xVgfkbEHYzK53dqVQGWihtJhHQm0BYv4YjlH0HBsq3dpTE1AyY-gNaCVcK_wZjIcPiTNr9y2"
    "-6UvDyeP6Gvpv81nC9a5HBGcjX5gLJbVGeuLNcHCusSC-gzW6h0-P1BbN6QoWRlpNUH0ZbYIMN"
    "YGt0lv3_mLKVajkJy9qv_CsWhK2j196SUPXz4S5BqLJ9ZrjTemTXHWlUr3LzcLrBFq07";

inline constexpr const char *kRsaE = "AQAB";

inline constexpr const char *kP256X = "Dihp_3W6tz0O13ADpHmxalfd7vs27I_txJQgGCOEmMM";
inline constexpr const char *kP256Y = "bmyf2XzHUnnBnEQ04CSRqT-gyA-sPX0-WTv7y0S7Yt0";

inline constexpr const char *kP384X =
    "rGkululFZg-13MdizXpH0FknItrJi8_uLzHKCIstOFso376MKjkIUubugeVfYE-S";
inline constexpr const char *kP384Y =
    "A89JtFh8lAbEoa9cFIvIqITuj5etypSIlawvZcTjJ4uabV37TPnXlWNalGBLvKzk";

inline constexpr const char *kP521X =
    "AV8bnW1uctI1h3IH43ZM7kgjkH3g10IIAVU3WFdjivAOFnVMxNrMfJgSovrfSF5_HFIQPPwlWY"
    "PbC8X5MI55uJ3u";
inline constexpr const char *kP521Y =
    "ADSTBwSd9wubeXhMK7qir_k_WGBezpejrPVgPXCF95gB3e8T5ezOm_8hNVKfhl4kZhjC1XM3VY"
    "IfJRJ6O6n44uWc";

inline constexpr const char *kEd25519X =
    "3oMBmhm-Yn8KCyob6mIR33dZJfLK6TNodwrSj_LdQkI";

inline constexpr const char *kEd448X =
    "kboQf8_vtVuCDm5GVmUQ3pF5yNoyTdMclaK7uvRoXgC1s7yiEAHj0WjhmxzPu1ZfvO8EZERxyH6A";

}  // namespace auth_oidc::test
