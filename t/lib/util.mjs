// Small async helpers shared by the test harness.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const verbose = () => Boolean(process.env.TEST_VERBOSE);

/**
 * Poll `fn` until it returns a truthy value (which is returned) or the
 * timeout expires. `describe()` (optional) is called on timeout to build a
 * helpful error message (e.g. the last observed status). An error thrown by
 * `fn` is retried, unless it has `fatal: true`.
 */
export async function waitFor(fn, { timeout = 10000, interval = 100, what = 'condition', describe } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      lastError = undefined;
    } catch (err) {
      if (err?.fatal) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(interval);
  }
  let msg = `timed out after ${timeout} ms waiting for ${what}`;
  if (describe) {
    try { msg += `\n${await describe()}`; } catch (err) { msg += `\n(describe failed: ${err.message})`; }
  }
  if (lastError) msg += `\nlast error: ${lastError.stack || lastError}`;
  throw new Error(msg);
}

/** Last `n` lines of a string. */
export function tail(text, n = 60) {
  const lines = String(text).split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n).join('\n');
}

/** Resolve when `child` exits (immediately if it already has). */
export function waitExit(child, timeout) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    let timer;
    const onExit = (code, signal) => { clearTimeout(timer); resolve({ code, signal }); };
    child.once('exit', onExit);
    if (timeout) {
      timer = setTimeout(() => { child.off('exit', onExit); resolve(null); }, timeout);
    }
  });
}

/** Keep the last `max` bytes written to a stream in memory. */
export function captureStream(stream, { max = 256 * 1024, echo } = {}) {
  const box = { text: '' };
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    box.text += chunk;
    if (box.text.length > max) box.text = box.text.slice(-max);
    if (echo) echo.write(chunk);
  });
  return box;
}
