// Helpers that build nginx config snippets for the tests.

/** `oidc_provider NAME { key value; ... }` from an object (null/undefined skipped). */
export function oidcProvider(name, directives) {
  const lines = Object.entries(directives)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `        ${k} ${v};`);
  return `    oidc_provider ${name} {\n${lines.join('\n')}\n    }\n`;
}

/** A server (named localhost) with /status (oidc_status) and /plain, plus `extra` locations. */
export function basicServer(port, extra = '') {
  return `    server {
        listen 127.0.0.1:${port};
        server_name localhost;
        location /status { oidc_status; }
        location /plain { return 200 "plain\\n"; }
${extra}
    }
`;
}
