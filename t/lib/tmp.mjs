import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A fresh directory under os.tmpdir(). Mode 0755 so that nginx workers
 * (which run as "nobody" when the master is root) can read files in it.
 */
export function makeTempDir(label = 'test') {
  const safe = label.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `auth-oidc-${safe}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Remove a temp directory unless TEST_NGINX_LEAVE=1 (then say where it is). */
export function removeTempDir(dir) {
  if (process.env.TEST_NGINX_LEAVE === '1') {
    process.stderr.write(`# TEST_NGINX_LEAVE: kept ${dir}\n`);
    return;
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
