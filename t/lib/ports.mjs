import net from 'node:net';

// Ports for servers a test configures before they start (nginx, Redis, the
// provider) come from below the kernel's ephemeral range (32768-60999 on
// Linux): an outgoing connection of another test process can then never
// take one between the probe and the server's bind. Each process draws from
// its own slice of 20000-31999 (by pid) and never hands out a port twice.
const FIRST = 20000;
const SLICES = 8;
const SLICE = 1500;
const slice = FIRST + (process.pid % SLICES) * SLICE;
const handedOut = new Set();

function tryPort(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago, never the same twice. */
export async function freePort() {
  for (let tries = 0; tries < 10 * SLICE; tries += 1) {
    const port = slice + Math.floor(Math.random() * SLICE);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await tryPort(port)) return port;
  }
  throw new Error('no free port left in this process\'s slice');
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port, timeout = 500) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(timeout, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
