// oidc_session_store with redis=: the configurations `nginx -t` accepts
// (TCP, unix socket, every parameter, secrets with a trailing newline) and
// each error it reports with its message.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { basicServer, oidcProvider } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';

const provider = (name, extra = {}) => oidcProvider(name, {
  issuer: 'http://127.0.0.1:9', client_id: 'test-client', client_secret: 'secret', ...extra,
});

/** A secret file of exactly these bytes in `dir`; returns its path. */
function secret(dir, name, content) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content, { mode: 0o644 });
  return file;
}

const WARN_NO_SECRET = /\[warn\].*oidc_session_store "(\w+)" has no secret_file=: its sessions are sealed with a random secret/;

itest('redis= configurations nginx -t accepts', async (h) => {
  const s32 = secret(h.dir, 's32', `${'k'.repeat(32)}\n`);
  const s40 = secret(h.dir, 's40', 'p'.repeat(40));
  const port = await h.port();
  const ngx = h.nginx(`
    oidc_session_store full redis=127.0.0.1:6390 user=alice password=pw db=3 prefix=app1: connect_timeout=2s timeout=250ms secret_file=${s32} previous_secret_file=${s40};
    oidc_session_store sock redis=unix:${h.dir}/no-such.sock secret_file=${s40};
    oidc_session_store named redis=localhost:6391 password=pw secret_file=${s32};
    oidc_session_store defport redis=127.0.0.1 secret_file=${s32};
    oidc_session_store shm size=1m;
${provider('a', { session_store: 'full' })}
${provider('b', { session_store: 'sock' })}
${provider('c', { session_store: 'named' })}
${provider('d', { session_store: 'defport' })}
${provider('e', { session_store: 'shm' })}
${basicServer(port)}`);
  const t = await ngx.test();
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /test is successful/);
  assert.doesNotMatch(t.stderr, WARN_NO_SECRET, 'no warning when every Redis store has a secret_file');
  assert.doesNotMatch(t.stderr, /pw|kkkkkkkk|pppppppp/, 'no password or secret in the output');
});

itest('redis= without secret_file=: nginx -t warns, names the store, succeeds', async (h) => {
  const port = await h.port();
  const ngx = h.nginx(`
    oidc_session_store nosecret redis=127.0.0.1:6390;
${provider('a', { session_store: 'nosecret' })}
${basicServer(port)}`);
  const t = await ngx.test();
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, WARN_NO_SECRET);
  assert.equal(WARN_NO_SECRET.exec(t.stderr)[1], 'nosecret');
  assert.match(t.stderr, /sessions are sealed with a random secret, so they end with a restart/);
});

// [name, (h, port) => http{} body, expected stderr patterns]
const failures = [
  ['redis= host that does not resolve',
    (h, p) => `    oidc_session_store x redis=no-such-host.invalid:6379;\n${provider('a', { session_store: 'x' })}${basicServer(p)}`,
    [/invalid redis= "no-such-host\.invalid:6379" of oidc_session_store "x"/, /host not found/]],
  ['redis= with a bad port',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:99999;\n${provider('a', { session_store: 'x' })}${basicServer(p)}`,
    [/invalid redis= "127\.0\.0\.1:99999" of oidc_session_store "x"/]],
  ['user= without password=',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:6379 user=alice secret_file=${secret(h.dir, 's', 'a'.repeat(32))};\n${basicServer(p)}`,
    [/oidc_session_store "x": "user=" needs "password="/]],
  ['previous_secret_file= without secret_file=',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:6379 previous_secret_file=${secret(h.dir, 's', 'a'.repeat(32))};\n${basicServer(p)}`,
    [/oidc_session_store "x": "previous_secret_file=" needs "secret_file="/]],
  ['a secret file shorter than 32 bytes',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:6379 secret_file=${secret(h.dir, 'short', 'a'.repeat(31))};\n${basicServer(p)}`,
    [/the secret file ".*short" of oidc_session_store "x" holds less than 32 bytes/]],
  ['a secret file of 32 bytes with its newline (31 without)',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:6379 secret_file=${secret(h.dir, 'nl', `${'a'.repeat(31)}\n`)};\n${basicServer(p)}`,
    [/holds less than 32 bytes/]],
  ['a previous secret file shorter than 32 bytes',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:6379 secret_file=${secret(h.dir, 'ok', 'a'.repeat(32))} previous_secret_file=${secret(h.dir, 'old', 'b'.repeat(16))};\n${basicServer(p)}`,
    [/the secret file ".*old" of oidc_session_store "x" holds less than 32 bytes/]],
  ['a secret file that does not exist',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:6379 secret_file=${h.dir}/missing.secret;\n${basicServer(p)}`,
    [/cannot open the secret file ".*missing\.secret" of oidc_session_store "x"/]],
  ['size= with redis=',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:6379 size=1m;\n${basicServer(p)}`,
    [/oidc_session_store "x": "size=" is for shared memory, not Redis/]],
  ['Redis parameters without redis=',
    (h, p) => `    oidc_session_store x size=1m password=pw;\n${basicServer(p)}`,
    [/oidc_session_store "x": Redis parameters without "redis="/]],
  ['an unknown parameter',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:6379 foo=bar;\n${basicServer(p)}`,
    [/invalid parameter "foo=bar" of oidc_session_store/]],
  ['a bad timeout=',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:6379 timeout=soon;\n${basicServer(p)}`,
    [/invalid parameter "timeout=soon" of oidc_session_store/]],
  ['a bad db=',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:6379 db=two;\n${basicServer(p)}`,
    [/invalid parameter "db=two" of oidc_session_store/]],
  ['session_store naming an unknown store',
    (h, p) => `    oidc_session_store y redis=127.0.0.1:6379 secret_file=${secret(h.dir, 's', 'a'.repeat(32))};\n${provider('a', { session_store: 'x' })}${basicServer(p)}`,
    [/unknown oidc_session_store "x"/, /oidc_provider "a"/]],
  ['a duplicate store',
    (h, p) => `    oidc_session_store x redis=127.0.0.1:6379;\n    oidc_session_store x redis=127.0.0.1:6380;\n${basicServer(p)}`,
    [/duplicate oidc_session_store "x"/]],
];

for (const [name, body, patterns] of failures) {
  itest(`nginx -t fails: oidc_session_store ${name}`, async (h) => {
    const ngx = h.nginx(body(h, await h.port()));
    const t = await ngx.test();
    assert.notEqual(t.code, 0, `nginx -t should fail, stderr:\n${t.stderr}`);
    assert.match(t.stderr, /\[emerg\]/);
    for (const re of patterns) assert.match(t.stderr, re);
    assert.match(t.stderr, /test failed/);
    assert.doesNotMatch(t.stderr, /aaaaaaaaaaaaaaaa|bbbbbbbbbbbbbbbb/, 'no secret in the output');
  });
}
