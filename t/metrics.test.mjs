// oidc_metrics: Prometheus's text format, read here by a Prometheus
// text-format parser (parse-prometheus-text-format, from npm). Its counters
// live in shared memory: summed over the workers (whichever answers the
// scrape says the same) and kept across "nginx -s reload". They move as
// logins start, complete and fail, as tokens refresh at the real provider,
// and as the Redis store and its cache work.
import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { UserAgent } from './lib/browser.mjs';
import { basicServer } from './lib/conf.mjs';
import { itest } from './lib/harness.mjs';
import { login, NAV, protectedLocation, providerBlock, step, withSession, XHR } from './lib/login.mjs';
import { redisStore, secretFile, startRedis } from './lib/redis.mjs';
import { pastExpiry, REFRESHING, shortTokens } from './lib/refresh.mjs';

/**
 * The scrape, parsed: {family name: family}, and the raw text as .text;
 * asserts the content type and, for every histogram, cumulative buckets
 * ending in +Inf = _count (the parser merges a histogram's labelled series
 * into one, so those are read from the text).
 */
async function scrape(ngx) {
  const res = await ngx.get('/metrics');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  const families = parsePrometheusTextFormat(res.body);
  const m = Object.fromEntries(families.map((f) => [f.name, f]));
  m.text = res.body;
  for (const f of families.filter((x) => x.type === 'HISTOGRAM')) {
    const series = new Map();
    for (const [, labels, le, v] of res.body.matchAll(new RegExp(`^${f.name}_bucket\\{(.*),le="([^"]+)"\\} (\\d+)$`, 'gm'))) {
      const list = series.get(labels) ?? [];
      list.push([le, Number(v)]);
      series.set(labels, list);
    }
    for (const [labels, buckets] of series) {
      assert.equal(buckets.at(-1)[0], '+Inf', `${f.name}{${labels}}`);
      for (let i = 1; i < buckets.length; i += 1) assert.ok(buckets[i][1] >= buckets[i - 1][1], `${f.name}{${labels}} cumulative`);
      assert.equal(rawValue(res.body, `${f.name}_count`, labels), buckets.at(-1)[1], `${f.name}{${labels}} _count`);
    }
  }
  return m;
}

function rawValue(text, name, labels) {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  assert.ok(line, `${name}{${labels}}`);
  return Number(line.split(' ').at(-1));
}

/** The value of the sample of `name` whose labels include `labels`. */
function value(m, name, labels) {
  const family = m[name];
  assert.ok(family, `family ${name}`);
  if (family.type === 'HISTOGRAM') {
    return rawValue(m.text, `${name}_count`, Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(','));
  }
  const sample = family.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  assert.ok(sample, `${name} ${JSON.stringify(labels)}`);
  return Number(sample.value);
}

itest('oidc_metrics: a Prometheus scrape whose counters move with logins, failures, refreshes and Redis, across workers and a reload', async (h, t) => {
  const idp = await shortTokens(h);
  const redis = await startRedis(h);
  const upstream = await h.echo();
  const port = await h.port();
  const conf = `
${redisStore('r', redis.addr, { secret_file: secretFile(h.dir, 's.secret') })}
${providerBlock('idp', idp.issuer, { ...REFRESHING, session_store: 'r' })}
${providerBlock('bad', idp.issuer, { client_secret: 'not-the-secret' })}
${basicServer(port, `${protectedLocation('/app', 'idp', upstream.url)}
        location /bad/ { auth_oidc bad; proxy_pass ${upstream.url}; }
        location = /metrics { oidc_metrics; }`)}`;
  const ngx = await h.nginx(conf, { workers: 2 }).start();
  await ngx.waitProvider('idp', 'ready');
  await ngx.waitProvider('bad', 'ready');

  await step(t, h, 'before any login: every family, at zero, the providers up', async () => {
    const m = await scrape(ngx);
    assert.equal(m.auth_oidc_logins_started_total.type, 'COUNTER');
    assert.equal(m.auth_oidc_provider_request_duration_seconds.type, 'HISTOGRAM');
    assert.equal(value(m, 'auth_oidc_logins_started_total', { provider: 'idp' }), 0);
    assert.equal(value(m, 'auth_oidc_provider_up', { provider: 'idp' }), 1);
    assert.ok(value(m, 'auth_oidc_provider_metadata_fetches_total', { provider: 'idp', result: 'ok' }) >= 1);
    assert.equal(value(m, 'auth_oidc_provider_metadata_fetches_total', { provider: 'idp', result: 'failed' }), 0);
    assert.equal(m.auth_oidc_logins_failed_total.metrics.filter((s) => s.labels.provider === 'idp').length, 7,
      'a fixed list of reasons');
  });

  let cookie;
  await step(t, h, 'two logins: started 2, completed 2, two token requests timed', async () => {
    for (let i = 0; i < 2; i += 1) ({ cookie } = await login(new UserAgent(), ngx.url, '/app/', { op: 'real' }));
    // whichever worker answers: the same numbers
    for (let i = 0; i < 4; i += 1) {
      const m = await scrape(ngx);
      assert.equal(value(m, 'auth_oidc_logins_started_total', { provider: 'idp' }), 2);
      assert.equal(value(m, 'auth_oidc_logins_completed_total', { provider: 'idp' }), 2);
      assert.equal(value(m, 'auth_oidc_provider_request_duration_seconds', { provider: 'idp' }), 2);
    }
  });

  await step(t, h, 'a login refused at the token endpoint (wrong secret): failed{reason="refused"}', async () => {
    const ua = new UserAgent();
    await assert.rejects(login(ua, ngx.url, '/bad/', { op: 'real' }), /callback answered 401/);
    const m = await scrape(ngx);
    assert.equal(value(m, 'auth_oidc_logins_started_total', { provider: 'bad' }), 1);
    assert.equal(value(m, 'auth_oidc_logins_completed_total', { provider: 'bad' }), 0);
    assert.equal(value(m, 'auth_oidc_logins_failed_total', { provider: 'bad', reason: 'refused' }), 1);
  });

  await step(t, h, 'Redis: commands timed, the link up, cached sessions counted', async () => {
    for (let i = 0; i < 6; i += 1) {
      assert.equal((await ngx.get(`/app/c${i}`, { headers: withSession(cookie, XHR) })).status, 200);
    }
    const m = await scrape(ngx);
    assert.ok(value(m, 'auth_oidc_redis_commands_total', { store: 'r' }) > 0);
    assert.equal(value(m, 'auth_oidc_redis_command_duration_seconds', { store: 'r' }),
      value(m, 'auth_oidc_redis_commands_total', { store: 'r' }), 'one observation per command');
    assert.equal(value(m, 'auth_oidc_redis_up', { store: 'r' }), 1);
    assert.ok(value(m, 'auth_oidc_session_cache_hits_total', { store: 'r' }) >= 4);
  });

  await step(t, h, 'past the tokens\' expiry: one refresh', async () => {
    await pastExpiry(Date.now() - 1000);
    assert.equal((await ngx.get('/app/after', { headers: withSession(cookie, NAV) })).status, 200);
    const m = await scrape(ngx);
    assert.equal(value(m, 'auth_oidc_refreshes_total', { provider: 'idp', result: 'ok' }), 1);
  });

  await step(t, h, 'nginx -s reload: nothing is reset', async () => {
    const before = await scrape(ngx);
    await ngx.reload(conf);
    await ngx.waitProvider('idp', 'ready');
    const after = await scrape(ngx);
    for (const [name, labels] of [
      ['auth_oidc_logins_started_total', { provider: 'idp' }],
      ['auth_oidc_logins_completed_total', { provider: 'idp' }],
      ['auth_oidc_logins_failed_total', { provider: 'bad', reason: 'refused' }],
      ['auth_oidc_refreshes_total', { provider: 'idp', result: 'ok' }],
      ['auth_oidc_redis_commands_total', { store: 'r' }],
    ]) {
      assert.ok(value(after, name, labels) >= value(before, name, labels) && value(after, name, labels) > 0,
        `${name} ${JSON.stringify(labels)}: ${value(before, name, labels)} -> ${value(after, name, labels)}`);
    }
  });
});
