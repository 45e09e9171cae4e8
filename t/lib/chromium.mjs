// Headless Chromium through playwright-core, for the tests that need a real
// browser: its scripts, its cookies, its form posts. Screenshots go to
// build/test-artifacts/ (TEST_ARTIFACTS overrides), where a person can look
// at them after a run; the test prints their paths.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** The `skip` option of a test that needs Chromium. */
export const needsChromium = () => !fs.existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}`;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = process.env.TEST_ARTIFACTS || path.join(ROOT, 'build', 'test-artifacts');

/**
 * A browser (closed when the test ends) and a context that reaches only our
 * loopback servers. Returns {browser, context, page}.
 */
export async function openBrowser(h, { contextOptions = {} } = {}) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30000 });
  h.defer(() => browser.close());
  const context = await browser.newContext(contextOptions);
  context.setDefaultTimeout(15000);
  await context.route('**/*', (route) => (route.request().url().startsWith('http://127.0.0.1:')
    ? route.continue() : route.abort()));
  const page = await context.newPage();
  return { browser, context, page };
}

/** Saves a screenshot of page as <dir>/<name>.png; returns its path. */
export async function screenshot(page, dir, name) {
  const out = path.join(ARTIFACTS, dir);
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
