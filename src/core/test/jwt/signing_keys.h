#pragma once

// Private keys for signing test tokens ONLY. They protect nothing: they were
// made for these tests with
//   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048
//   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 (P-521)
//   openssl genpkey -algorithm ed25519
// and are fixed (rather than generated per run) so that tests stay fast
// under valgrind and failures reproduce.

namespace auth_oidc::test {

// RSA 2048 (RS*, PS*)
inline constexpr const char *kRsaPrivateKeyPem = R"pem(-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCu8BDTOVxIAfEr
Y04TMfA1XCspf/1RudcAC2+e2a64zhkyu1m/4uyY85YB3mvA/TVM2ORJDWVmh2jJ
6SLVUXiLBV3/hCw7z+0lMmI+f+XgSrcy09YL1sBGD7T/O5dC6FJB9ZhQRnckEi+y
YK2zzXrZQ7ajXGfTawt4/3PBZbzMC+BoqJn4oqX1najaXFtY9CmoMp8DvXBfSCpT
X4U4v8TW15rhDzedMSgP3b5C0d7jFIyp5DZYUliz8eDSLDHio6PHm7qYvzenFNip
je6eEMYGlYCEgdlU9w0p0kqV8xyZ7PCGz6PmCjofwXKEWA+6DvF2u9rWgAgAxdGm
a/BnMmnRAgMBAAECgf9xPh6zmLYAJexbUkdBPDHyIvJdkSdvOWTC4YTZaql6O6hl
AfASzfJa0cjZCgvxO+ZJdfnBmEi2ZyduW6mzIOY8vmUfZaqSCPnmXbK0g87I2/fE
jIU0eg7L/171bj+cHbqJQA/FBtP1MGBakYdHmh8vpSyDhhN5+f5Tzp3B+zlSiy5S
1UHBOwzVM2vnpfmXDwGknQAxbMvOnuMS8XW1zOiDGJApjgvClGVSssjTKVETn1OV
yDoQOqc2bTpjhcVPaoglxeyGpbbiNEUyF3E7xgIRVEWtdUVg2n1UUWH61YNBgnBT
VmGFzrGhK3l1nXjMJ5Zh4wGk8l+anlvyy9Dxq6ECgYEA8W8key9OBQQePVTveDKr
4n5WiKXE40WLABNQ1+0zV2vcqzVLgP+bf5/mVyG7ZNpu+5e6bKbZduMNzcqd41wV
d2ZMhTIORaBsiDB2wCjtnNcaFot/U/Q76exQPHdQiW8CDi+PqwYg0oCi3mzMzCmL
hhWy/P2WdNQ7r/4I8m7I08UCgYEAuX3pei+QF6hsi0GXTAQcGkijX1M7Q7Qkbui6
U2SmI9DEQ80iPyBwgUpk1bwjKIY/Xibx3r7qMoTpI5pC/Uo8rfLOeY9T/uRdTcS9
oOR9K8L2QSyz0Q3FXobYAT9PSkncLdRDG87Dgfd2vccMx4Hb/Q9Lxo9Ss3Dtwk5p
9+vtAp0CgYEAlTMN5GJTYJ4u4c//PNRzjEBu0Xs/tQNg5ucI6qdXNwsdD2CcDFfp
jHEQM4BRAf5K34fgWQyzDtk5ypcQA1UAnwzE9Pr9/uEosPDiMdYZIPd807nZMdSY
wfKbkwJY7tV++61Ap3veBLgh7jpmRTTXWEFInzdHJ2OQjy358Xes+9ECgYAtouja
gvE0oN9zs4OB1FEFtnFbdqLSGXQNRXzyH4UwsqBW/hU66sRDSwZb/5m20rCsfXBs
mRQNsd2aQM3Se31KXr6l8bl8sLqz83+kIhMZvTHQ/yqOeJDinNJwHB9p65ocPGj2
Ynx/cV7pehuOykhRjn3aMFDsjRAyChDQSl9ZkQKBgQCDP11D4WAyzz4l3OoBPvOc
havLbnXJoQ/BjY3LA9JycsHq8hW26vThiAuJ0zm3+np8tHrppGhIWRREiJWb79YC
91RK12i4sTq7eAu7fNPqLaRdlXuusuI47AtkmiUCy8UG0+dwkacCChLnyvc7EDdU
rzQAQXv+jhwCUhdB2nP8wg==
-----END PRIVATE KEY-----
)pem";

// EC P-256 (ES256)
inline constexpr const char *kP256PrivateKeyPem = R"pem(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgfEwT6aSQ/acOkBkQ
37oZJiflXoJBIxydBO+nw7PyBP+hRANCAAQ8IrvVoFA+9uAbkT9091rW1fymawZ/
vhNwzduBUwUPmZ9tKNHu/DxRgm4qdMaRt5yK38zFgsbgUyW0t8eF7qsV
-----END PRIVATE KEY-----
)pem";

// EC P-521 (ES512: 66-byte coordinates)
inline constexpr const char *kP521PrivateKeyPem = R"pem(-----BEGIN PRIVATE KEY-----
MIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIA6cBnp8xef5lBhzVg
e84vw/lqBj0O8jq7h+BPAqkYre62HkY5vd0nDMrCYVPYVmxKh4MONOyXPQaf/T1j
yj0mZgahgYkDgYYABAD8S8SlKp4+hZ8m3OcyeoZC4wk/0+A4aHI7fBTK6YMELxuH
5JSA2ZoD042IyBPZyFXDZnKTOeKkaVjEhykZ4hLqlwA+99Zt/KUSUGNB/DOXumFw
ATUnTffgH3DpLh3KGA59otm2sqHaAVLxDRxsxHdn6I3SoswT1gf14AGxi1Fzw4sD
5A==
-----END PRIVATE KEY-----
)pem";

// Ed25519 (EdDSA)
inline constexpr const char *kEd25519PrivateKeyPem = R"pem(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIBSkoulEJVLfvK/NQfy5AL2Nfsr9GOkW+rH9o3rkuRHl
-----END PRIVATE KEY-----
)pem";

}  // namespace auth_oidc::test
