// Test PKI built with the openssl CLI: a CA, a server certificate signed by it
// (SAN DNS:localhost, IP:127.0.0.1), an unrelated second CA, and CRLs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function openssl(args, cwd) {
  try {
    return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

function writeFile(file, text) {
  fs.writeFileSync(file, text, { mode: 0o644 });
  return file;
}

/** Self-signed CA in `dir/<name>`: {dir, name, key, cert, pem}. */
export function makeCA(dir, name = 'ca', { cn = `auth-oidc test ${name}` } = {}) {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  const key = path.join(d, 'ca.key');
  const cert = path.join(d, 'ca.pem');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650',
    '-keyout', key, '-out', cert, '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-addext', 'subjectKeyIdentifier=hash']);
  fs.chmodSync(key, 0o644);
  return { dir: d, name, key, cert, pem: fs.readFileSync(cert, 'utf8') };
}

/**
 * Server certificate signed by `ca`: {key, cert, keyPem, certPem}.
 * Default SANs: DNS:localhost, IP:127.0.0.1. eku: extendedKeyUsage
 * ('serverAuth,clientAuth' for a server that is a client too, 'clientAuth'
 * for a client certificate).
 */
export function makeServerCert(ca, name = 'server', {
  dns = ['localhost'], ip = ['127.0.0.1'], days = 825, eku = 'serverAuth',
} = {}) {
  const key = path.join(ca.dir, `${name}.key`);
  const csr = path.join(ca.dir, `${name}.csr`);
  const cert = path.join(ca.dir, `${name}.pem`);
  const ext = writeFile(path.join(ca.dir, `${name}.ext`), [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${eku}`,
    'authorityKeyIdentifier=keyid',
    `subjectAltName=${[...dns.map((d) => `DNS:${d}`), ...ip.map((i) => `IP:${i}`)].join(',')}`,
    '',
  ].join('\n'));
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr,
    '-subj', `/CN=${dns[0] || ip[0]}`]);
  openssl(['x509', '-req', '-sha256', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key,
    '-CAcreateserial', '-days', String(days), '-extfile', ext, '-out', cert]);
  fs.chmodSync(key, 0o644);
  return { key, cert, keyPem: fs.readFileSync(key, 'utf8'), certPem: fs.readFileSync(cert, 'utf8') };
}

function caConfig(ca) {
  const index = path.join(ca.dir, 'index.txt');
  const crlnumber = path.join(ca.dir, 'crlnumber');
  if (!fs.existsSync(index)) writeFile(index, '');
  if (!fs.existsSync(crlnumber)) writeFile(crlnumber, '01\n');
  return writeFile(path.join(ca.dir, 'ca.cnf'), [
    '[ca]', 'default_ca = CA_default', '[CA_default]',
    `database = ${index}`, `crlnumber = ${crlnumber}`,
    'default_md = sha256', 'default_crl_days = 30', '',
  ].join('\n'));
}

/** CRL issued by `ca`, revoking the given certificate files: path of crl.pem. */
export function makeCRL(ca, { revoke = [], name = 'crl' } = {}) {
  const cnf = caConfig(ca);
  for (const cert of revoke) {
    openssl(['ca', '-config', cnf, '-keyfile', ca.key, '-cert', ca.cert, '-revoke', cert]);
  }
  const out = path.join(ca.dir, `${name}.pem`);
  openssl(['ca', '-config', cnf, '-keyfile', ca.key, '-cert', ca.cert, '-gencrl', '-out', out]);
  fs.chmodSync(out, 0o644);
  return out;
}

/**
 * Everything the TLS tests need, under `dir/pki`:
 * {ca, server, otherCa}. `server` is signed by `ca`; `otherCa` is unrelated.
 */
export function makeTestPKI(dir) {
  const base = path.join(dir, 'pki');
  fs.mkdirSync(base, { recursive: true, mode: 0o755 });
  const ca = makeCA(base, 'ca');
  const server = makeServerCert(ca);
  const otherCa = makeCA(base, 'other-ca');
  return { ca, server, otherCa };
}
