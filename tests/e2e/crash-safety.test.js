// CONTRACT §2 durability: "a token that was returned to a client survives kill -9 of the server".
// kill -9 mid-load, five times on the same SQLite database: concurrent clients obtain
// client_credentials tokens and exchange authorization codes; the server is killed with SIGKILL
// after 1–1.5 s; after a restart every access token a client received is still active, every
// refresh token received is still active, every code obtained but not yet sent for exchange is
// redeemable exactly once, and `PRAGMA integrity_check` says ok.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, createUser, createApp, startServer, freePort } from './lib/server.js';
import {
  getCode, exchangeCode, authorizeUrl, pkcePair, randomString, sleep, show,
} from './lib/oauth.js';

const ROUNDS = 5;
const CLIENTS = 16;
const LOAD_MIN_MS = 1000;
const LOAD_MAX_MS = 1500;
const REQUEST_TIMEOUT_MS = 5000;
const VERIFY_CONCURRENCY = 8;
const HOLD_EVERY = 4; // every 4th code a client mints is kept aside, never exchanged during load

function sqlite3(dbPath, sql) {
  return new Promise((resolve, reject) => {
    execFile('sqlite3', [dbPath, sql], { timeout: 15000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`sqlite3 ${sql} failed: ${stderr || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

/** fetch with a time bound; resolves null when the connection fails (the server is being killed). */
async function tryFetch(url, init) {
  try {
    const res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
  } catch {
    return null;
  }
}

function basic(app) {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(app.client_secret)}`).toString('base64');
}

/** Runs fn over items with at most `n` in flight. */
async function pool(items, n, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

describe('crash safety: kill -9 mid-load (CONTRACT §2)', { concurrency: false, timeout: 60000 }, () => {
  let dir;
  let dbPath;
  let db;
  let port;
  let server;
  let cc;
  let web;
  let cookie;
  const allTokens = []; // {app, token, hint, round}

  async function start() {
    // Same port every time, so the issuer (and the client's view of the server) does not change.
    for (let attempt = 0; ; attempt++) {
      try {
        return await startServer(db, { listen: `127.0.0.1:${port}` });
      } catch (e) {
        if (attempt >= 10) throw e;
        await sleep(200);
      }
    }
  }

  before(async () => {
    dir = await makeTempDir('latchkey-crash-');
    dbPath = path.join(dir, 'lk.db');
    db = `sqlite:${dbPath}`;
    const alice = await createUser(db, { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' });
    cc = await createApp(db, {
      name: 'Crash CC', scopes: 'api', extra: ['--client-credentials-user', 'alice@localhost'],
    });
    web = await createApp(db, { name: 'Crash Web', scopes: 'api refresh_token', refreshPolicy: 'until-revoked' });
    port = await freePort();
    server = await start();
    // One pass through the form driver: login + consent. The session cookie and the remembered
    // consent then let a plain GET of the authorize URL answer with a 302 carrying a code.
    const world = { issuer: server.issuer, users: { alice }, apps: { web } };
    const got = await getCode(world, { app: web });
    assert.equal((await exchangeCode(world, web, got)).status, 200);
    cookie = got.browser.jar.header(`${server.issuer}/services/oauth2/authorize`);
    assert.ok(cookie, 'the login left a session cookie');
  });

  after(async () => {
    await server?.stop();
    if (!process.env.E2E_KEEP_TMP && dir) await rm(dir, { recursive: true, force: true }).catch(() => {});
  });

  /** Mints a code with the session cookie (consent remembered): GET authorize → 302 ?code=. */
  async function mintCode(issuer) {
    const pair = pkcePair();
    const state = randomString(8);
    const r = await tryFetch(authorizeUrl(issuer, {
      response_type: 'code', client_id: web.client_id, redirect_uri: web.callback, state,
      code_challenge: pair.challenge, code_challenge_method: 'S256',
    }), { headers: { cookie } });
    if (!r) return { dropped: true };
    const loc = r.headers.get('location');
    const code = r.status === 302 && loc ? new URL(loc).searchParams.get('code') : null;
    if (!code) return { unexpected: `authorize: HTTP ${r.status} ${loc ?? ''} ${r.text.slice(0, 200)}` };
    return { code, verifier: pair.verifier };
  }

  function exchange(issuer, entry) {
    return tryFetch(`${issuer}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: basic(web) },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: entry.code, redirect_uri: web.callback, code_verifier: entry.verifier,
      }).toString(),
    });
  }

  function clientCredentials(issuer) {
    return tryFetch(`${issuer}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: basic(cc) },
      body: 'grant_type=client_credentials',
    });
  }

  /** One load client: alternates client_credentials grants and code mint + exchange. */
  async function loadClient(i, ctx) {
    const issuer = server.issuer;
    let n = i;
    while (!ctx.killed) {
      n++;
      if (n % 2 === 0) {
        const r = await clientCredentials(issuer);
        if (!r) continue;
        if (r.status === 200 && r.json?.access_token) {
          ctx.tokens.push({ app: cc, token: r.json.access_token, hint: 'access_token' });
        } else {
          ctx.unexpected.push(`client_credentials: ${show(r)}`);
        }
        continue;
      }
      const minted = await mintCode(issuer);
      if (minted.dropped) continue;
      if (minted.unexpected) { ctx.unexpected.push(minted.unexpected); continue; }
      ctx.minted++;
      if (ctx.minted % HOLD_EVERY === 0) { ctx.codes.push(minted); continue; }
      if (ctx.killed) { ctx.codes.push(minted); break; } // obtained, never sent for exchange
      const r = await exchange(issuer, minted);
      if (!r) continue; // the exchange may or may not have committed: neither counted nor checked
      if (r.status === 200 && r.json?.access_token) {
        ctx.tokens.push({ app: web, token: r.json.access_token, hint: 'access_token' });
        if (r.json.refresh_token) ctx.refreshTokens.push({ app: web, token: r.json.refresh_token, hint: 'refresh_token' });
      } else {
        ctx.unexpected.push(`code exchange: ${show(r)}`);
      }
    }
  }

  async function introspectActive(issuer, entry) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await tryFetch(`${issuer}/services/oauth2/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: basic(entry.app) },
        body: new URLSearchParams({ token: entry.token, token_type_hint: entry.hint }).toString(),
      });
      if (r) return r.status === 200 && r.json?.active === true ? { ok: true } : { ok: false, why: show(r) };
    }
    return { ok: false, why: 'introspection request failed three times' };
  }

  async function verifyTokens(issuer, entries) {
    const lost = [];
    await pool(entries, VERIFY_CONCURRENCY, async (e) => {
      const v = await introspectActive(issuer, e);
      if (!v.ok) lost.push(`${e.hint} ${e.token.slice(0, 24)}…: ${v.why}`);
    });
    return lost;
  }

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: kill -9 mid-load loses no token, no code, no integrity`, async () => {
      assert.ok(server, 'a server from the previous round is running');
      const issuer = server.issuer;
      const ctx = { killed: false, tokens: [], refreshTokens: [], codes: [], unexpected: [], minted: 0 };
      const clients = Array.from({ length: CLIENTS }, (_, i) => loadClient(i, ctx));
      const loadMs = LOAD_MIN_MS + Math.floor(Math.random() * (LOAD_MAX_MS - LOAD_MIN_MS));
      await sleep(loadMs);
      ctx.killed = true;
      server.child.kill('SIGKILL');
      const exit = await server.exited;
      assert.equal(exit.signal, 'SIGKILL', `server was not killed by SIGKILL: ${JSON.stringify(exit)}`);
      await Promise.all(clients);

      server = await start();
      const t0 = Date.now();
      const lostAccess = await verifyTokens(server.issuer, ctx.tokens);
      const lostRefresh = await verifyTokens(server.issuer, ctx.refreshTokens);
      const codeFailures = [];
      let codesVerified = 0;
      await pool(ctx.codes, VERIFY_CONCURRENCY, async (entry) => {
        const first = await exchange(server.issuer, entry);
        if (!(first?.status === 200 && first.json?.access_token)) {
          codeFailures.push(`first exchange of an unexchanged code: ${first ? show(first) : 'no response'}`);
          return;
        }
        const second = await exchange(server.issuer, entry);
        if (!(second?.status === 400 && second.json?.error === 'invalid_grant')) {
          codeFailures.push(`second exchange of the same code: ${second ? show(second) : 'no response'}`);
          return;
        }
        codesVerified++;
      });
      const integrity = await sqlite3(dbPath, 'PRAGMA integrity_check');
      const verifyMs = Date.now() - t0;

      const received = ctx.tokens.length;
      const valid = received - lostAccess.length;
      console.log(`kill -9 round ${round}: load ${loadMs} ms; access tokens received ${received}, valid after restart ${valid}; `
        + `refresh tokens ${ctx.refreshTokens.length - lostRefresh.length}/${ctx.refreshTokens.length}; `
        + `unexchanged codes ${codesVerified}/${ctx.codes.length} redeemable once; integrity_check ${integrity}; `
        + `unexpected answers ${ctx.unexpected.length}; verify ${verifyMs} ms`);
      allTokens.push(...ctx.tokens.map((t) => ({ ...t, round })), ...ctx.refreshTokens.map((t) => ({ ...t, round })));

      assert.ok(received > 0, 'the load produced no token before the kill');
      assert.deepEqual(lostAccess, [], `${lostAccess.length} of ${received} access tokens lost after kill -9`);
      assert.deepEqual(lostRefresh, [], `${lostRefresh.length} of ${ctx.refreshTokens.length} refresh tokens lost after kill -9`);
      assert.deepEqual(codeFailures, [], `${codeFailures.length} of ${ctx.codes.length} unexchanged codes not redeemable exactly once`);
      assert.equal(integrity, 'ok', 'PRAGMA integrity_check');
      assert.deepEqual(ctx.unexpected.slice(0, 5), [], `${ctx.unexpected.length} requests under load answered with something other than success`);
    });
  }

  it('after all rounds: every token of every round is still active; clean stop; the database is intact', async () => {
    // Every token of every round, against the server that survived all five kills.
    const sample = allTokens;
    const lost = await verifyTokens(server.issuer, sample);
    assert.deepEqual(lost, [], `${lost.length} of ${sample.length} tokens from earlier rounds no longer active`);
    const r = await server.stop(8000);
    assert.equal(r.code, 0, `clean stop after the crash rounds: ${JSON.stringify(r)}`);
    server = null;
    assert.equal(await sqlite3(dbPath, 'PRAGMA integrity_check'), 'ok');
  });
});
