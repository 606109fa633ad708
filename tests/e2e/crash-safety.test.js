// docs/behaviour.md §2 durability: "a token that was returned to a client survives kill -9 of the server".
// kill -9 mid-load, five times on the same database: concurrent clients obtain
// client_credentials tokens, exchange authorization codes and rotate refresh tokens (an app with
// --refresh-policy rotate); the server is killed with SIGKILL after 1–1.5 s; after a restart
// every access token a client received is still active, every refresh token received is still
// active, every code obtained but not yet sent for exchange is redeemable exactly once, a sample
// of the codes exchanged before the kill is still used up (a replay is invalid_grant and revokes
// what the code bought, docs/behaviour.md §5.1), the newest refresh token of every rotating family works
// exactly once and an older one is refused (§5.4), no record is half-written (a token without
// its used code, a used code without its tokens, a rotation without its successor) and, on
// SQLite, `PRAGMA integrity_check` says ok. Under PostgreSQL (LATCHKEY_E2E_DB=postgres) it is
// latchkey that is killed, not the database server: what it answered must have been committed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import {
  makeTempDir, newDatabase, dropDatabase, createUser, createApp, startServer, freePort, sql, ON_POSTGRES,
} from './lib/server.js';
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
const ROTATE_EVERY = 4; // every 4th load client rotates refresh tokens (two families each) instead
const REPLAY_SAMPLE = 8; // codes exchanged before the kill that are replayed after the restart

// Each counts rows that only a write torn in half could leave behind (the writes that make them
// are single transactions: a code is used up with the tokens it buys, a refresh token is rotated
// with its successor saved, an access token is saved with its refresh token). The SQL is read by
// SQLite and PostgreSQL alike: flags are used as conditions (SQLite's 0/1, PostgreSQL's BOOLEAN)
// and counted with CASE.
const HALF_WRITTEN = [
  ['tokens whose authorization code is missing or not used up',
    `SELECT count(*) FROM tokens t WHERE t.code_key != '' AND NOT EXISTS
       (SELECT 1 FROM auth_codes c WHERE c.id = CAST(t.code_key AS BIGINT) AND c.used)`],
  ['used-up authorization codes that bought no token',
    `SELECT count(*) FROM auth_codes c WHERE c.used AND NOT EXISTS
       (SELECT 1 FROM tokens t WHERE t.code_key = CAST(c.id AS TEXT) AND t.code_key != '')`],
  ['code exchanges without exactly one access token and at most one refresh token',
    `SELECT count(*) FROM (SELECT code_key FROM tokens WHERE code_key != '' GROUP BY code_key
       HAVING sum(CASE WHEN kind = 'access' THEN 1 ELSE 0 END) != 1
           OR sum(CASE WHEN kind = 'refresh' THEN 1 ELSE 0 END) > 1) AS exchanges`],
  ['refresh families without a refresh token',
    `SELECT count(*) FROM (SELECT family_id FROM tokens WHERE family_id != '' GROUP BY family_id
       HAVING sum(CASE WHEN kind = 'refresh' THEN 1 ELSE 0 END) = 0) AS families`],
  ['rotated refresh tokens without a successor in their family',
    `SELECT count(*) FROM tokens r WHERE r.kind = 'refresh' AND r.rotated AND NOT EXISTS
       (SELECT 1 FROM tokens n WHERE n.family_id = r.family_id AND n.family_id != ''
          AND n.kind = 'refresh' AND n.id > r.id)`],
];

/** The first line of a query's output ('' when none). */
async function sqlValue(db, statement) {
  return (await sql(db, statement))[0] ?? '';
}

/**
 * SQLite's own check of its file ('ok' when sound); null under PostgreSQL, whose files are the
 * database server's, which this test does not kill.
 */
async function integrityCheck(db) {
  return ON_POSTGRES ? null : sqlValue(db, 'PRAGMA integrity_check');
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

describe('crash safety: kill -9 mid-load (docs/behaviour.md §2)', { concurrency: false, timeout: 60000 }, () => {
  let dir;
  let db;
  let port;
  let server;
  let cc;
  let web;
  let rot;
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
    ({ url: db } = await newDatabase(dir));
    const alice = await createUser(db, { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' });
    cc = await createApp(db, {
      name: 'Crash CC', scopes: 'api', extra: ['--client-credentials-user', 'alice@localhost'],
    });
    web = await createApp(db, { name: 'Crash Web', scopes: 'api refresh_token', refreshPolicy: 'until-revoked' });
    rot = await createApp(db, { name: 'Crash Rotate', scopes: 'api refresh_token', refreshPolicy: 'rotate' });
    port = await freePort();
    server = await start();
    // One pass through the form driver: login + consent to both apps. The session cookie and
    // the remembered consents then let a plain GET of the authorize URL answer with a 302
    // carrying a code.
    const world = { issuer: server.issuer, users: { alice }, apps: { web, rot } };
    const got = await getCode(world, { app: web });
    assert.equal((await exchangeCode(world, web, got)).status, 200);
    const gotRot = await getCode(world, { app: rot, browser: got.browser });
    assert.equal((await exchangeCode(world, rot, gotRot)).status, 200);
    cookie = got.browser.jar.header(`${server.issuer}/services/oauth2/authorize`);
    assert.ok(cookie, 'the login left a session cookie');
  });

  after(async () => {
    await server?.stop();
    if (db) await dropDatabase(db);
    if (!process.env.E2E_KEEP_TMP && dir) await rm(dir, { recursive: true, force: true }).catch(() => {});
  });

  /** Mints a code with the session cookie (consent remembered): GET authorize → 302 ?code=. */
  async function mintCode(issuer, app = web) {
    const pair = pkcePair();
    const state = randomString(8);
    const r = await tryFetch(authorizeUrl(issuer, {
      response_type: 'code', client_id: app.client_id, redirect_uri: app.callback, state,
      code_challenge: pair.challenge, code_challenge_method: 'S256',
    }), { headers: { cookie } });
    if (!r) return { dropped: true };
    const loc = r.headers.get('location');
    const code = r.status === 302 && loc ? new URL(loc).searchParams.get('code') : null;
    if (!code) return { unexpected: `authorize: HTTP ${r.status} ${loc ?? ''} ${r.text.slice(0, 200)}` };
    return { code, verifier: pair.verifier };
  }

  function exchange(issuer, entry, app = web) {
    return tryFetch(`${issuer}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: basic(app) },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: entry.code, redirect_uri: app.callback, code_verifier: entry.verifier,
      }).toString(),
    });
  }

  function refreshWith(issuer, refreshToken) {
    return tryFetch(`${issuer}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: basic(rot) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    });
  }

  /** Starts a rotating family with a code exchange; null when the kill cut it short. */
  async function startFamily(issuer, ctx) {
    const minted = await mintCode(issuer, rot);
    if (minted.dropped) return null;
    if (minted.unexpected) { ctx.unexpected.push(minted.unexpected); return null; }
    const first = await exchange(issuer, minted, rot);
    if (!first) return null;
    if (!(first.status === 200 && first.json?.refresh_token)) {
      ctx.unexpected.push(`rotating code exchange: ${show(first)}`);
      return null;
    }
    const family = { newest: first.json.refresh_token, older: [], uncertain: false };
    ctx.families.push(family);
    ctx.rotAccess.push({ app: rot, token: first.json.access_token, hint: 'access_token' });
    return family;
  }

  /**
   * A rotating client: starts two families, then rotates their refresh tokens in turn until the
   * kill. A family's `newest` is the last refresh token the server answered with; once a request
   * goes unanswered the client cannot know its newest any more (the rotation may or may not
   * have committed), so that family is `uncertain` and not checked. Only one request is ever in
   * flight, so the other family is always certain.
   */
  async function rotateClient(ctx) {
    const issuer = server.issuer;
    const pair = [];
    for (let i = 0; i < 2 && !ctx.killed; i++) {
      const family = await startFamily(issuer, ctx);
      if (!family) return;
      pair.push(family);
    }
    for (let n = 0; !ctx.killed && pair.length === 2; n++) {
      const family = pair[n % 2];
      const r = await refreshWith(issuer, family.newest);
      if (!r) { family.uncertain = true; return; }
      if (!(r.status === 200 && r.json?.refresh_token)) {
        ctx.unexpected.push(`refresh token rotation: ${show(r)}`);
        family.uncertain = true;
        return;
      }
      family.older.push(family.newest);
      family.newest = r.json.refresh_token;
      ctx.rotAccess.push({ app: rot, token: r.json.access_token, hint: 'access_token' });
    }
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
    if (i % ROTATE_EVERY === ROTATE_EVERY - 1) return rotateClient(ctx);
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
        const access = { app: web, token: r.json.access_token, hint: 'access_token' };
        const refresh = r.json.refresh_token ? { app: web, token: r.json.refresh_token, hint: 'refresh_token' } : null;
        ctx.tokens.push(access);
        if (refresh) ctx.refreshTokens.push(refresh);
        ctx.exchanged.push({ ...minted, bought: refresh ? [access, refresh] : [access] });
      } else {
        ctx.unexpected.push(`code exchange: ${show(r)}`);
      }
    }
  }

  async function introspectActive(issuer, entry, want = true) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await tryFetch(`${issuer}/services/oauth2/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: basic(entry.app) },
        body: new URLSearchParams({ token: entry.token, token_type_hint: entry.hint }).toString(),
      });
      if (r) return r.status === 200 && r.json?.active === want ? { ok: true } : { ok: false, why: show(r) };
    }
    return { ok: false, why: 'introspection request failed three times' };
  }

  /** The entries that are not active (or, with want = false, not inactive). */
  async function verifyTokens(issuer, entries, want = true) {
    const lost = [];
    await pool(entries, VERIFY_CONCURRENCY, async (e) => {
      const v = await introspectActive(issuer, e, want);
      if (!v.ok) lost.push(`${e.hint} ${e.token.slice(0, 24)}…: ${v.why}`);
    });
    return lost;
  }

  /** Every n-th item, at most `count` of them, spread over the list. */
  function sample(items, count) {
    const step = Math.max(1, Math.floor(items.length / count));
    return items.filter((_, i) => i % step === 0).slice(0, count);
  }

  /**
   * Codes exchanged before the kill stay used up: a replay is invalid_grant, and the tokens the
   * code bought are revoked by it (docs/behaviour.md §5.1). Returns the failures and the revoked tokens.
   */
  async function replayExchangedCodes(issuer, entries) {
    const failures = [];
    const revoked = [];
    await pool(entries, VERIFY_CONCURRENCY, async (entry) => {
      const r = await exchange(issuer, entry);
      if (!(r?.status === 400 && r.json?.error === 'invalid_grant')) {
        failures.push(`replay of a code exchanged before the kill: ${r ? show(r) : 'no response'}`);
        return;
      }
      revoked.push(...entry.bought);
    });
    const stillActive = await verifyTokens(issuer, revoked, false);
    failures.push(...stillActive.map((s) => `token of a replayed code not revoked: ${s}`));
    return { failures, revoked };
  }

  /**
   * docs/behaviour.md §5.4 rotate: the newest refresh token of each family works once; used again, or an
   * older one used, it is refused, and the reuse revokes the whole family (the token the newest
   * just bought included).
   */
  async function checkRotation(issuer, families) {
    const failures = [];
    await pool(families, VERIFY_CONCURRENCY, async (f) => {
      const once = await refreshWith(issuer, f.newest);
      if (!(once?.status === 200 && once.json?.refresh_token)) {
        failures.push(`the newest refresh token of a family after the restart: ${once ? show(once) : 'no response'}`);
        return;
      }
      const twice = await refreshWith(issuer, f.newest);
      if (!(twice?.status === 400 && twice.json?.error === 'invalid_grant')) {
        failures.push(`the newest refresh token used a second time: ${twice ? show(twice) : 'no response'}`);
      }
      if (f.older.length > 0) {
        const old = await refreshWith(issuer, f.older[f.older.length - 1]);
        if (!(old?.status === 400 && old.json?.error === 'invalid_grant')) {
          failures.push(`an older refresh token of the family: ${old ? show(old) : 'no response'}`);
        }
      }
      const bought = { app: rot, token: once.json.refresh_token, hint: 'refresh_token' };
      const v = await introspectActive(issuer, bought, false);
      if (!v.ok) failures.push(`the family was not revoked by the reuse: ${v.why}`);
    });
    return failures;
  }

  /** Names of the HALF_WRITTEN checks that found rows, with their counts. */
  async function halfWritten() {
    const found = [];
    for (const [what, statement] of HALF_WRITTEN) {
      const n = Number(await sqlValue(db, statement));
      if (n !== 0) found.push(`${n} ${what}`);
    }
    return found;
  }

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: kill -9 mid-load loses no token, no code, no integrity`, async () => {
      assert.ok(server, 'a server from the previous round is running');
      const issuer = server.issuer;
      const ctx = {
        killed: false, tokens: [], refreshTokens: [], codes: [], exchanged: [], families: [], rotAccess: [],
        unexpected: [], minted: 0,
      };
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
      const families = ctx.families.filter((f) => !f.uncertain);
      const lostAccess = await verifyTokens(server.issuer, [...ctx.tokens, ...ctx.rotAccess]);
      const lostRefresh = await verifyTokens(server.issuer,
        [...ctx.refreshTokens, ...families.map((f) => ({ app: rot, token: f.newest, hint: 'refresh_token' }))]);
      // After the durability checks above: these revoke what they check.
      const replayed = sample(ctx.exchanged, REPLAY_SAMPLE);
      const replay = await replayExchangedCodes(server.issuer, replayed);
      const rotationFailures = await checkRotation(server.issuer, families);
      const rotations = families.reduce((n, f) => n + f.older.length, 0);
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
      const integrity = await integrityCheck(db);
      const torn = await halfWritten();
      const verifyMs = Date.now() - t0;

      const received = ctx.tokens.length + ctx.rotAccess.length;
      const valid = received - lostAccess.length;
      const refreshReceived = ctx.refreshTokens.length + families.length;
      console.log(`kill -9 round ${round}: load ${loadMs} ms; access tokens received ${received}, valid after restart ${valid}; `
        + `refresh tokens ${refreshReceived - lostRefresh.length}/${refreshReceived}; `
        + `unexchanged codes ${codesVerified}/${ctx.codes.length} redeemable once; `
        + `exchanged codes replayed ${replayed.length - replay.failures.length}/${replayed.length} refused with their tokens revoked; `
        + `rotating families ${families.length} (${ctx.families.length - families.length} cut by the kill, ${rotations} rotations) `
        + `newest works once, older refused: ${rotationFailures.length === 0 ? 'yes' : 'NO'}; integrity_check ${integrity ?? 'n/a (PostgreSQL)'}; `
        + `half-written records ${torn.length === 0 ? 'none' : torn.join(', ')}; `
        + `unexpected answers ${ctx.unexpected.length}; verify ${verifyMs} ms`);
      // What stays active for the final check: not what the replays and reuses revoked on purpose.
      const revokedOnPurpose = new Set(replay.revoked.map((t) => t.token));
      allTokens.push(...[...ctx.tokens, ...ctx.refreshTokens]
        .filter((t) => !revokedOnPurpose.has(t.token)).map((t) => ({ ...t, round })));

      assert.ok(received > 0, 'the load produced no token before the kill');
      assert.deepEqual(lostAccess, [], `${lostAccess.length} of ${received} access tokens lost after kill -9`);
      assert.deepEqual(lostRefresh, [], `${lostRefresh.length} of ${refreshReceived} refresh tokens lost after kill -9`);
      assert.deepEqual(codeFailures, [], `${codeFailures.length} of ${ctx.codes.length} unexchanged codes not redeemable exactly once`);
      assert.ok(replayed.length > 0, 'no code was exchanged before the kill');
      assert.deepEqual(replay.failures, [], `codes exchanged before the kill were not single-use after it`);
      assert.ok(families.length > 0, 'no rotating refresh token family to check');
      assert.deepEqual(rotationFailures, [], 'refresh token rotation across the kill');
      if (!ON_POSTGRES) assert.equal(integrity, 'ok', 'PRAGMA integrity_check');
      assert.deepEqual(torn, [], 'half-written records after kill -9');
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
    if (!ON_POSTGRES) assert.equal(await integrityCheck(db), 'ok');
    assert.deepEqual(await halfWritten(), [], 'half-written records after the clean stop');
  });
});
