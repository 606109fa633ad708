// HTTPS requests with or without a client certificate (RFC 8705 tests), through node:https so
// that every connection is new (agent: false) and its TLS parameters can be reported.
import https from 'node:https';
import crypto from 'node:crypto';

/**
 * One request over TLS. cert, key: the client's certificate and key (PEM strings) or nothing;
 * ca: the server certificate or its CA. Resolves {status, headers (a Headers), text, json,
 * tlsInfo: {protocol, cipher}}.
 */
export function tlsRequest(url, { method = 'GET', headers = {}, body, cert, key, ca }) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method, headers, cert, key, ca, agent: false, timeout: 10000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) h.set(k, Array.isArray(v) ? v.join(', ') : String(v));
        resolve({
          status: res.statusCode, headers: h, text, json,
          tlsInfo: { protocol: res.socket.getProtocol?.(), cipher: res.socket.getCipher?.()?.name },
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`TLS request to ${url} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** application/x-www-form-urlencoded body of the defined entries of params. */
export function form(params) {
  return new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined)).toString();
}

export const formHeaders = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

/** RFC 8705 §3.1 x5t#S256 of a PEM certificate: base64url SHA-256 of its DER. */
export function x5t(certPem) {
  return crypto.createHash('sha256').update(new crypto.X509Certificate(certPem).raw).digest('base64url');
}

/** The TLS listener's base URL, from the "tls listening on https://…" line a server logs. */
export function tlsBaseOf(logs) {
  const m = /tls listening on (https:\/\/\S+)/.exec(logs);
  if (!m) throw new Error(`no "tls listening on" line in:\n${logs.slice(0, 2000)}`);
  return m[1].replace(/\/+$/, '');
}

/** Introspects `token` on the TLS listener as `clientId`, authenticated by the connection's
 *  client certificate (`tls`: the cert/key/ca options of tlsRequest). */
export function introspectOverTls(tlsBase, clientId, token, tls) {
  return tlsRequest(`${tlsBase}/services/oauth2/introspect`, {
    method: 'POST', headers: formHeaders, body: form({ client_id: clientId, token }), ...tls,
  });
}
