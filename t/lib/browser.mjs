// A tiny scripted user agent (no JavaScript): cookie jar shared across ports
// of a host (as browsers do), manual redirect following, simple form posting.
import { request } from './http.mjs';

export class CookieJar {
  constructor() { this.cookies = []; }

  store(url, setCookie) {
    const u = new URL(url);
    for (const line of [].concat(setCookie || [])) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const c = { name: pair.slice(0, eq), value: pair.slice(eq + 1), host: u.hostname, domain: null, path: '/', secure: false, expires: null };
      for (const a of attrs) {
        const [k, ...rest] = a.split('=');
        const v = rest.join('=');
        switch (k.toLowerCase()) {
          case 'path': c.path = v || '/'; break;
          case 'domain': { // RFC 6265, 5.2.3 and 5.3.6: this host or one it is under
            const d = v.replace(/^\./, '').toLowerCase();
            if (d && (u.hostname === d || u.hostname.endsWith(`.${d}`))) c.domain = d;
            else c.rejected = true;
            break;
          }
          case 'secure': c.secure = true; break;
          case 'max-age': c.expires = Date.now() + Number(v) * 1000; break;
          case 'expires': if (c.expires === null) c.expires = Date.parse(v); break;
          default: break;
        }
      }
      if (c.rejected) continue;
      if (c.domain) c.host = c.domain;
      this.cookies = this.cookies.filter((o) => !(o.name === c.name && o.host === c.host && o.path === c.path && o.domain === c.domain));
      if (c.expires === null || c.expires > Date.now()) this.cookies.push(c);
    }
  }

  header(url) {
    const u = new URL(url);
    const now = Date.now();
    return this.cookies
      .filter((c) => (c.host === u.hostname || (c.domain && u.hostname.endsWith(`.${c.domain}`)))
        && (c.expires === null || c.expires > now))
      .filter((c) => !c.secure || u.protocol === 'https:')
      .filter((c) => u.pathname === c.path || u.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  get(host, name) { return this.cookies.find((c) => c.host === host && c.name === name)?.value; }
}

function withoutBodyHeaders(headers = {}) {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-(type|length)$/i.test(k)));
}

export class UserAgent {
  constructor({ ca } = {}) { this.jar = new CookieJar(); this.ca = ca; }

  /** One request with cookies; does not follow redirects. */
  async fetch(url, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    const cookie = this.jar.header(url);
    if (cookie) headers.cookie = cookie;
    const res = await request(url, { ...opts, headers, ca: opts.ca ?? this.ca });
    this.jar.store(url, res.headers['set-cookie']);
    res.url = url;
    return res;
  }

  /**
   * Follow redirects (303 and 301/302 turn into GET). Returns final response
   * with .chain. opts.stopAt(url): a redirect to a URL for which it returns
   * true is not followed; the redirect response is returned with .next = url.
   */
  async go(url, opts = {}, maxRedirects = 15) {
    const { stopAt, ...reqOpts } = opts;
    opts = reqOpts;
    const chain = [];
    let res = await this.fetch(url, opts);
    chain.push(res);
    while ([301, 302, 303, 307, 308].includes(res.status) && res.headers.location) {
      if (chain.length > maxRedirects) throw new Error(`too many redirects: ${chain.map((r) => r.url).join(' -> ')}`);
      const next = new URL(res.headers.location, res.url).href;
      if (stopAt?.(next)) { res.next = next; break; }
      const keep = res.status === 307 || res.status === 308;
      res = await this.fetch(next, keep ? opts : { ...opts, method: 'GET', body: undefined, headers: withoutBodyHeaders(opts.headers) });
      chain.push(res);
    }
    res.chain = chain;
    return res;
  }

  /** Submit the first <form> of an HTML response with `fields` (+ its hidden inputs). */
  submitForm(page, fields, opts = {}) {
    const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(page.body);
    if (!form) throw new Error(`no <form> in page ${page.url}:\n${page.body.slice(0, 500)}`);
    const attr = (s, n) => new RegExp(`\\b${n}\\s*=\\s*"([^"]*)"`, 'i').exec(s)?.[1];
    const action = new URL((attr(form[1], 'action') || page.url).replace(/&amp;/g, '&'), page.url).href;
    const method = (attr(form[1], 'method') || 'GET').toUpperCase();
    const data = new URLSearchParams();
    for (const m of form[2].matchAll(/<input\b([^>]*)>/gi)) {
      const name = attr(m[1], 'name');
      if (name && /type\s*=\s*"hidden"/i.test(m[1])) data.set(name, attr(m[1], 'value') ?? '');
    }
    for (const [k, v] of Object.entries(fields)) data.set(k, v);
    if (method === 'GET') {
      const u = new URL(action);
      for (const [k, v] of data) u.searchParams.set(k, v);
      return this.go(u.href, opts);
    }
    return this.go(action, {
      ...opts,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(opts.headers || {}) },
      body: data.toString(),
    });
  }
}
