// Helpers of `make bench` that wrk cannot do: cookie-keeping logins, minting authorization
// codes through latchkey's real authorize endpoint, one-off token requests, the JWT bearer
// assertion, and the full browserless web server flow as a closed-loop load generator.
//
//   node client.mjs mint-codes  BASE CLIENT_ID USER PASSWORD SCOPE N OUT   (latchkey, real endpoint)
//   node client.mjs peer-codes  BASE SCOPE N OUT                           (peer's /bench/mint)
//   node client.mjs token       BASE TOKEN_PATH CLIENT_ID SECRET key=value...  (prints JSON)
//   node client.mjs jwt         KEY_PEM ISS SUB AUD                        (prints the assertion)
//   node client.mjs webflow     BASE AUTHZ_PATH TOKEN_PATH CLIENT_ID SECRET USER PASSWORD SCOPE
//                               SECONDS CONCURRENCY WARMUP_SECONDS         (prints JSON results)
//   node client.mjs revocation-delay BASE_A BASE_B CLIENT_ID SECRET N OUT  (latchkey, two nodes)
import { createSign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';

export const REDIRECT_URI = 'http://127.0.0.1:9/cb';

const decode = (s) => s.replace(/&(amp|lt|gt|quot|#39|#x27|#x2F|#47);/g, (m, e) => ({
  amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", '#x2F': '/', '#47': '/',
})[e]);
const attr = (tag, name) => {
  const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i'));
  return m ? decode(m[2] ?? m[3]) : null;
};

/** The first form of a page that has a password input (login) or else any form (consent). */
function parseForm(html, pageUrl) {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((m) => {
    const fields = [];
    let hasPassword = false;
    for (const [tag] of m[2].matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(tag, 'name');
      const type = (attr(tag, 'type') || 'text').toLowerCase();
      if (type === 'password') hasPassword = true;
      if (name && !['submit', 'button'].includes(type)) fields.push([name, attr(tag, 'value') ?? '']);
    }
    const buttons = [...m[2].matchAll(/<button\b[^>]*>/gi)].map(([t]) => ({ name: attr(t, 'name'), value: attr(t, 'value') }));
    return { action: new URL(attr(`<f ${m[1]}>`, 'action') || pageUrl, pageUrl).href, fields, hasPassword, buttons };
  });
  return forms.find((f) => f.hasPassword) ?? forms.find((f) => f.buttons.some((b) => b.name === 'decision')) ?? forms[0];
}

class Session {
  constructor(base) { this.base = base; this.cookies = new Map(); }
  async request(url, { method = 'GET', body, headers = {} } = {}) {
    const h = { ...headers };
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) h['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method, headers: h, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [nv] = c.split(';');
      const eq = nv.indexOf('=');
      const name = nv.slice(0, eq).trim();
      const value = nv.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    return { status: res.status, location: res.headers.get('location'), text, url };
  }
  /**
   * Drives an authorize URL to the callback: logs in on a login form (fields username or login,
   * password), allows on a consent form. Returns the code; throws on anything else.
   */
  async authorize(url, user, password) {
    let page = await this.request(url);
    for (let step = 0; step < 10; step++) {
      if (page.status >= 300 && page.status < 400 && page.location) {
        const next = new URL(page.location, page.url);
        if (next.href.startsWith(REDIRECT_URI)) {
          const code = next.searchParams.get('code');
          if (!code) throw new Error(`callback without code: ${next.href}`);
          return code;
        }
        page = await this.request(next.href);
        continue;
      }
      if (page.status !== 200) throw new Error(`authorize: HTTP ${page.status} at ${page.url}: ${page.text.slice(0, 300)}`);
      const form = parseForm(page.text, page.url);
      if (!form) throw new Error(`authorize: no form at ${page.url}: ${page.text.slice(0, 300)}`);
      const body = new URLSearchParams();
      for (const [k, v] of form.fields) {
        if (k === 'username' || k === 'login') body.append(k, user);
        else if (k === 'password') body.append(k, password);
        else body.append(k, v);
      }
      if (form.buttons.some((b) => b.name === 'decision')) body.append('decision', 'allow');
      page = await this.request(form.action, { method: 'POST', body: body.toString() });
    }
    throw new Error('authorize: too many steps');
  }
}

const basic = (id, secret) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
const authorizeUrl = (base, path, clientId, scope) => {
  const u = new URL(base + path);
  u.search = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope }).toString();
  return u.href;
};

async function tokenRequest(base, path, clientId, secret, params) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { authorization: basic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  return { status: res.status, text };
}

async function mintCodes([base, clientId, user, password, scope, n, out]) {
  n = Number(n);
  const s = new Session(base);
  const url = authorizeUrl(base, '/services/oauth2/authorize', clientId, scope);
  await s.authorize(url, user, password); // login and consent once; the first code is unused
  // The session's cookie is all each further authorize needs. Plain keep-alive node:http
  // rather than fetch: minting is bounded by this client's CPU, not by the server.
  const cookie = [...s.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const get = () => new Promise((resolve, reject) => {
    const req = http.request(url, { agent, headers: { cookie } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end();
  });
  const codes = new Array(n);
  let next = 0;
  const t0 = Date.now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const r = await get();
      const m = r.status === 302 && r.location?.startsWith(REDIRECT_URI) && /[?&]code=([^&#]+)/.exec(r.location);
      if (!m) throw new Error(`mint: expected a 302 to the callback with a code, got HTTP ${r.status} ${r.location ?? ''}`);
      codes[i] = decodeURIComponent(m[1]);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  agent.destroy();
  writeFileSync(out, codes.join('\n') + '\n');
  process.stderr.write(`minted ${n} codes in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

async function peerCodes([base, scope, n, out]) {
  const res = await fetch(`${base}/bench/mint?n=${Number(n)}&scope=${encodeURIComponent(scope)}`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`peer mint: HTTP ${res.status}`);
  writeFileSync(out, await res.text());
}

async function token([base, path, clientId, secret, ...kv]) {
  const params = Object.fromEntries(kv.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  const r = await tokenRequest(base, path, clientId, secret, params);
  if (r.status !== 200) throw new Error(`token: HTTP ${r.status} ${r.text}`);
  process.stdout.write(r.text + '\n');
}

function jwt([keyFile, iss, sub, aud]) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  // No jti: latchkey then verifies the same assertion on every request (RS256 each time).
  const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss, sub, aud, iat: now, exp: now + 170 })}`;
  const sig = createSign('RSA-SHA256').update(input).sign(readFileSync(keyFile)).toString('base64url');
  process.stdout.write(`${input}.${sig}\n`);
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Closed loop: CONCURRENCY workers each run whole flows (new cookie jar each) for SECONDS. */
async function webflow([base, authzPath, tokenPath, clientId, secret, user, password, scope, seconds, concurrency, warmup]) {
  const url = authorizeUrl(base, authzPath, clientId, scope);
  const oneFlow = async () => {
    const s = new Session(base);
    const code = await s.authorize(url, user, password);
    const r = await tokenRequest(base, tokenPath, clientId, secret, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    if (r.status !== 200 || !r.text.includes('"access_token"')) throw new Error(`token: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  };
  const phase = async (secs, record) => {
    const end = Date.now() + secs * 1000;
    const lat = [];
    let errors = 0;
    let firstError = null;
    const worker = async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        try {
          await oneFlow();
          if (record) lat.push(Number(process.hrtime.bigint() - t) / 1e3);
        } catch (e) {
          errors++;
          firstError ??= String(e.message || e);
        }
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: Number(concurrency) }, worker));
    return { lat, errors, firstError, duration: (Date.now() - t0) / 1000 };
  };
  await oneFlow(); // first flow: consent shown and remembered
  if (Number(warmup) > 0) await phase(Number(warmup), false);
  const { lat, errors, firstError, duration } = await phase(Number(seconds), true);
  lat.sort((a, b) => a - b);
  const out = {
    requests: lat.length + errors, ok: lat.length, errors, rps: lat.length / duration,
    p50_us: percentile(lat, 50), p99_us: percentile(lat, 99), p999_us: percentile(lat, 99.9),
    duration_s: duration, first_error: firstError,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

/**
 * How long a revocation at node A takes to reach node B's answers, N times: a client_credentials
 * token issued at A, introspected once at B (so that B holds it in its cache), revoked at A, then
 * introspected at B every 5 ms until it is inactive. A delay counts from A's answer to the
 * revocation to B's first `"active":false`. Writes JSON (delays, median, max) to OUT.
 */
async function revocationDelay([baseA, baseB, clientId, secret, n, out]) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const auth = basic(clientId, secret);
  const post = (base, path, form) => new Promise((resolve, reject) => {
    const body = new URLSearchParams(form).toString();
    const req = http.request(base + path, {
      method: 'POST', agent,
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
  const active = async (base, token) => {
    const r = await post(base, '/services/oauth2/introspect', { token });
    if (r.status !== 200) throw new Error(`introspect at ${base}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    return JSON.parse(r.text).active === true;
  };
  const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
  const POLL_MS = 5;
  const GIVE_UP_MS = 30000;
  const delays = [];
  const polls = [];
  let errors = 0;
  let firstError = null;
  for (let i = 0; i < Number(n); i++) {
    try {
      const issued = await post(baseA, '/services/oauth2/token', { grant_type: 'client_credentials' });
      if (issued.status !== 200) throw new Error(`token at A: HTTP ${issued.status} ${issued.text.slice(0, 200)}`);
      const token = JSON.parse(issued.text).access_token;
      if (!(await active(baseB, token))) throw new Error('a token issued at A is not active at B');
      const revoked = await post(baseA, '/services/oauth2/revoke', { token });
      if (revoked.status !== 200) throw new Error(`revoke at A: HTTP ${revoked.status} ${revoked.text.slice(0, 200)}`);
      const t0 = performance.now();
      let count = 0;
      for (;;) {
        const started = performance.now();
        count++;
        if (!(await active(baseB, token))) {
          delays.push(performance.now() - t0);
          polls.push(count);
          break;
        }
        if (performance.now() - t0 > GIVE_UP_MS) throw new Error(`still active at B ${GIVE_UP_MS} ms after the revocation at A`);
        await sleep(Math.max(0, POLL_MS - (performance.now() - started)));
      }
    } catch (e) {
      errors++;
      firstError ??= String(e.message || e);
    }
  }
  agent.destroy();
  const sorted = [...delays].sort((a, b) => a - b);
  const median = sorted.length === 0 ? null : sorted.length % 2
    ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  writeFileSync(out, JSON.stringify({
    count: delays.length, errors, first_error: firstError, poll_ms: POLL_MS, delays_ms: delays, polls,
    median_ms: median, max_ms: sorted.length ? sorted[sorted.length - 1] : null,
    min_ms: sorted.length ? sorted[0] : null,
  }) + '\n');
}

const [cmd, ...args] = process.argv.slice(2);
const commands = { 'mint-codes': mintCodes, 'peer-codes': peerCodes, token, jwt, webflow, 'revocation-delay': revocationDelay };
if (!commands[cmd]) {
  console.error(`usage: client.mjs ${Object.keys(commands).join('|')} ...`);
  process.exit(2);
}
try {
  await commands[cmd](args);
} catch (e) {
  console.error(`client.mjs ${cmd}: ${e.message || e}`);
  process.exit(1);
}
