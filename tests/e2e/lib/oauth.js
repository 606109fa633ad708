// Raw OAuth helpers: authorize URLs, token requests, protected resource calls and assertions.
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Browser, describeResult } from './driver.js';

export const INVALID_SESSION_BODY = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];
const TIMEOUT_MS = 15000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

export function randomString(n = 16) {
  return b64url(randomBytes(n));
}

export function pkcePair() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

/** Salesforce's token response signature: base64(HMAC-SHA256(client_secret, id + issued_at)). */
export function expectedSignature(clientSecret, id, issuedAt) {
  return createHmac('sha256', clientSecret).update(id + issuedAt).digest('base64');
}

export function authorizeUrl(issuer, params) {
  const u = new URL(`${issuer}/services/oauth2/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.append(k, v);
  return u.href;
}

export function basicAuth(id, secret) {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
}

async function wrap(res) {
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * A POST sent from `localAddress` (another loopback address, e.g. 127.0.0.2), as wrap() returns
 * it.
 */
function postFrom(localAddress, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req =
        http.request(url, {method: 'POST', headers, localAddress, timeout: TIMEOUT_MS}, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers))
              h.set(k, Array.isArray(v) ? v.join(', ') : v);
            resolve({status: res.statusCode, headers: h, text, json});
          });
          res.on('error', reject);
        });
    req.on('timeout', () => req.destroy(new Error(`POST ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * POST to the token endpoint. params: object or [[k,v]...] or a raw string body.
 * basic: [clientId, secret] for client_secret_basic. localAddress: the source address to send
 * from (default: the system's choice, 127.0.0.1 for a loopback server).
 */
export async function tokenRequest(
    issuer, params, {basic, headers = {}, path = '/services/oauth2/token', localAddress} = {}) {
  let body;
  if (typeof params === 'string') body = params;
  else body = new URLSearchParams(Array.isArray(params) ? params : Object.entries(params).filter(([, v]) => v !== undefined)).toString();
  const h = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers };
  if (basic) h.authorization = basicAuth(basic[0], basic[1]);
  if (localAddress) return postFrom(localAddress, issuer + path, h, body);
  const res = await fetch(issuer + path, { method: 'POST', headers: h, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  return wrap(res);
}

/** GET/POST a protected resource with a token. scheme: 'Bearer' | 'OAuth' | null (no header). */
export async function callApi(url, token, { scheme = 'Bearer', method = 'GET', headers = {} } = {}) {
  const h = { accept: 'application/json', ...headers };
  if (token !== undefined && token !== null && scheme) h.authorization = `${scheme} ${token}`;
  const res = await fetch(url, { method, headers: h, signal: AbortSignal.timeout(TIMEOUT_MS) });
  return wrap(res);
}

export async function httpGet(url, headers = {}) {
  const res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  return wrap(res);
}

export function show(r) {
  return `HTTP ${r.status} ${r.headers?.get?.('content-type') ?? ''} body=${String(r.text).slice(0, 600)}`;
}

export function assertTokenError(r, error, { status = 400, description } = {}) {
  assert.equal(r.status, status, `expected HTTP ${status} ${error}; got ${show(r)}`);
  assert.ok(r.json && typeof r.json === 'object', `error body must be JSON; got ${show(r)}`);
  assert.equal(r.json.error, error, `expected error=${error}; got ${show(r)}`);
  assert.equal(typeof r.json.error_description, 'string', `error_description expected; got ${show(r)}`);
  if (description !== undefined) {
    assert.equal(r.json.error_description, description, `expected error_description=${JSON.stringify(description)}; got ${show(r)}`);
  }
}

export function assertTokenSuccess(r) {
  assert.equal(r.status, 200, `token request failed: ${show(r)}`);
  assert.ok(r.json && typeof r.json.access_token === 'string' && r.json.access_token.length > 0,
    `no access_token: ${show(r)}`);
  return r.json;
}

/** The 401 INVALID_SESSION_ID answer of docs/behaviour.md §5.4. */
export function assertInvalidSession(r, what = '') {
  assert.equal(r.status, 401, `${what} expected 401 INVALID_SESSION_ID; got ${show(r)}`);
  assert.deepEqual(r.json, INVALID_SESSION_BODY, `${what} expected the INVALID_SESSION_ID body; got ${show(r)}`);
  const wa = r.headers.get('www-authenticate') || '';
  assert.match(wa, /^Bearer\b/i, `${what} WWW-Authenticate must be a Bearer challenge; got ${JSON.stringify(wa)}`);
  assert.match(wa, /error="invalid_token"/, `${what} WWW-Authenticate must carry error="invalid_token"; got ${JSON.stringify(wa)}`);
}

/**
 * Runs the authorize step through the form driver and returns the code.
 * opts: app, user, scope, pkce (true|false), state, nonce, extra (more params), browser, decision.
 */
export async function getCode(world, opts = {}) {
  const app = opts.app;
  const user = opts.user ?? world.users.alice;
  const browser = opts.browser ?? new Browser(world.issuer);
  const state = opts.state ?? randomString();
  const pair = opts.pkce === false ? null : (opts.pkcePair ?? pkcePair());
  const params = {
    response_type: opts.responseType ?? 'code',
    client_id: app.client_id,
    redirect_uri: opts.redirectUri ?? app.callback,
    state,
    ...(opts.scope ? { scope: opts.scope } : {}),
    ...(opts.nonce ? { nonce: opts.nonce } : {}),
    ...(pair ? { code_challenge: pair.challenge, code_challenge_method: 'S256' } : {}),
    ...(opts.extra ?? {}),
  };
  const url = authorizeUrl(world.issuer, params);
  const result = await browser.authorize(url, {
    username: user.username, password: user.password, decision: opts.decision ?? 'allow',
  });
  if (opts.expectCode !== false) {
    assert.ok(result.location, `authorize did not redirect to the callback: ${describeResult(result)}\n${browser.traceText()}`);
    assert.ok(result.params.get('code'), `no code in callback ${result.location}`);
    assert.equal(result.params.get('state'), state, `state not echoed: ${result.location}`);
  }
  return {
    code: result.params.get('code'), state, verifier: pair?.verifier, challenge: pair?.challenge,
    browser, result, authorizeUrl: url, redirectUri: params.redirect_uri,
  };
}

/** Exchanges a code. auth: 'post' (default) | 'basic' | 'none'. */
export function exchangeCode(world, app, got, { auth = 'post', verifier, redirectUri, extra = {} } = {}) {
  const params = {
    grant_type: 'authorization_code',
    code: got.code,
    redirect_uri: redirectUri === null ? undefined : (redirectUri ?? got.redirectUri),
    ...(verifier !== undefined ? (verifier === null ? {} : { code_verifier: verifier }) : (got.verifier ? { code_verifier: got.verifier } : {})),
    ...extra,
  };
  if (auth === 'post') {
    params.client_id = app.client_id;
    params.client_secret = app.client_secret;
    return tokenRequest(world.issuer, params);
  }
  if (auth === 'basic') return tokenRequest(world.issuer, params, { basic: [app.client_id, app.client_secret] });
  params.client_id = app.client_id;
  return tokenRequest(world.issuer, params);
}

/** Full web server flow; returns the token JSON (asserting success) plus the raw response. */
export async function codeFlow(world, opts = {}) {
  const got = await getCode(world, opts);
  const r = await exchangeCode(world, opts.app, got, opts.exchange ?? {});
  const tokens = assertTokenSuccess(r);
  return { tokens, response: r, got };
}

export function refresh(world, app, refreshToken, { auth = 'post', extra = {} } = {}) {
  const params = { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra };
  if (auth === 'post') {
    params.client_id = app.client_id;
    params.client_secret = app.client_secret;
    return tokenRequest(world.issuer, params);
  }
  if (auth === 'basic') return tokenRequest(world.issuer, params, { basic: [app.client_id, app.client_secret] });
  params.client_id = app.client_id;
  return tokenRequest(world.issuer, params);
}

export function userinfo(world, token, opts) {
  return callApi(`${world.issuer}/services/oauth2/userinfo`, token, opts);
}

export function revoke(world, token, { method = 'POST', extra = {} } = {}) {
  if (method === 'GET') {
    const u = new URL(`${world.issuer}/services/oauth2/revoke`);
    u.searchParams.set('token', token);
    return httpGet(u.href);
  }
  return tokenRequest(world.issuer, { token, ...extra }, { path: '/services/oauth2/revoke' });
}

export function introspect(world, app, token, hint) {
  return tokenRequest(world.issuer, { token, ...(hint ? { token_type_hint: hint } : {}) },
    { path: '/services/oauth2/introspect', basic: [app.client_id, app.client_secret] });
}

/** Waits until `ms` have passed since `t0` (Date.now() value). */
export async function waitUntil(t0, ms) {
  const left = t0 + ms - Date.now();
  if (left > 0) await sleep(left);
}
