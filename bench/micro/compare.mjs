// Prints the module's ID token verification rates (from auth_oidc_micro's
// JSON output) next to the raw verify rates of `openssl speed`.
//   node bench/micro/compare.mjs build/micro/micro.json [seconds]

import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const [file, seconds = '3'] = process.argv.slice(2);
if (!file) {
    console.error('usage: node bench/micro/compare.mjs <benchmark.json> [seconds]');
    process.exit(2);
}
const module = {};
for (const b of JSON.parse(readFileSync(file, 'utf8')).benchmarks) {
    module[b.name] = b.items_per_second;
}

const args = ['speed', '-seconds', seconds, 'rsa2048', 'ecdsap256', 'ed25519'];
console.log(`\nopenssl ${args.join(' ')} ...`);
const out = execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
// "<what>  <sign s> <verify s>  <sign/s> <verify/s>"
const verifyRate = (re) => {
    const m = out.match(new RegExp(re.source + String.raw`\s+\S+\s+\S+\s+(\S+)\s+(\S+)`, 'm'));
    return m ? Number(m[2]) : NaN;
};

const rows = [
    ['RS256', 'RS256', /^rsa\s+2048 bits/, 'rsa 2048'],
    ['ES256', 'ES256', /256 bits ecdsa \(nistp256\)/, 'ecdsa p-256'],
    ['EdDSA', 'EdDSA', /EdDSA \(Ed25519\)/, 'ed25519'],
];
const fmt = (n, w) => (Number.isFinite(n) ? n.toFixed(0) : '-').padStart(w);
const ratio = (a, b) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : '-');
// validate: the whole ID-token check (JSON header and claims included);
// signature: split, decode, hash and verify only.
// bearer: a bearer token's first verification (the bearer flow: validate
// plus the cache record).
console.log(`\n${'alg'.padEnd(6)}${'validate/s'.padStart(12)}${'signature/s'.padStart(13)}` +
            `${'bearer/s'.padStart(10)}${'openssl verify/s'.padStart(18)}` +
            `${'validate/openssl'.padStart(18)}${'signature/openssl'.padStart(19)}` +
            `${'bearer/openssl'.padStart(16)}  openssl row`);
for (const [alg, suffix, re, label] of rows) {
    const validate = module[`BM_IdTokenVerify${suffix}`];
    const signature = module[`BM_JwsSignature${suffix}`];
    const bearer = module[`BM_BearerFirstVerify${suffix}`];
    const ossl = verifyRate(re);
    console.log(`${alg.padEnd(6)}${fmt(validate, 12)}${fmt(signature, 13)}${fmt(bearer, 10)}` +
                `${fmt(ossl, 18)}${ratio(validate, ossl).padStart(18)}` +
                `${ratio(signature, ossl).padStart(19)}${ratio(bearer, ossl).padStart(16)}  ${label}`);
}
