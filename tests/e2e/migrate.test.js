// `latchkey migrate --from sqlite:PATH --to postgresql://…` (docs/operations.md "Moving from
// SQLite to PostgreSQL"): what real clients hold from a server on the SQLite file keeps working
// against a server on the PostgreSQL copy, on the same issuer: the access token at userinfo and
// introspection, the refresh token (rotated once before the move: the newest refreshes, the
// older one is refused as a reuse), the ID token against the published keys (copied sealed and
// opened with the SQLite file's KEK file), and the browser's session with its remembered
// approval. A target that holds anything is refused and left as it was. Needs a PostgreSQL
// server (LATCHKEY_TEST_POSTGRES_URL, which `make e2e-postgres` sets); skipped without one.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  makeTempDir, newDatabase, dropDatabase, createUser, createApp, startServer, freePort, run, sql, cli,
  POSTGRES_AVAILABLE,
} from './lib/server.js';
import {
  codeFlow, getCode, refresh, userinfo, introspect, assertTokenSuccess, assertTokenError, httpGet,
  tokenRequest, show,
} from './lib/oauth.js';

const skip = !POSTGRES_AVAILABLE && 'needs a PostgreSQL server: LATCHKEY_TEST_POSTGRES_URL (make e2e-postgres)';
const TABLES = ['orgs', 'users', 'apps', 'preauthorizations', 'consents', 'signing_keys', 'auth_codes',
  'tokens', 'sessions', 'replay_keys', 'admin_tokens'];

describe('latchkey migrate: SQLite to PostgreSQL', { concurrency: false, timeout: 90000 }, () => {
  let dir;
  let source; // { url, path, kekPath }
  let target;
  let port;
  let server;
  const world = { users: {}, apps: {} };
  const held = {}; // what the clients hold from the SQLite server

  before(async () => {
    if (skip) return;
    dir = await makeTempDir('latchkey-e2e-migrate-');
    source = await newDatabase(dir, { backend: 'sqlite' });
    // The PostgreSQL servers need the KEK the keys were sealed under: the SQLite file's.
    target = await newDatabase(dir, { backend: 'postgres', kekPath: source.kekPath });
    world.users.alice = await createUser(source.url, { username: 'alice@localhost', name: 'Alice Smith' });
    world.apps.web = await createApp(source.url, {
      name: 'Migrated', scopes: 'api refresh_token openid', refreshPolicy: 'rotate',
    });
    world.apps.cc = await createApp(source.url, {
      name: 'Migrated CC', scopes: 'api', extra: ['--client-credentials-user', 'alice@localhost'],
    });
    held.adminToken = (await cli(source.url, ['admin-token', 'create', '--name', 'ops'])).token;
    port = await freePort();
    server = await startServer(source.url, { listen: `127.0.0.1:${port}` });
    world.issuer = server.issuer;

    const flow = await codeFlow(world, { app: world.apps.web, scope: 'api refresh_token openid', nonce: 'n-1' });
    held.browser = flow.got.browser;
    held.idToken = flow.tokens.id_token;
    held.oldRefresh = flow.tokens.refresh_token;
    const rotated = assertTokenSuccess(await refresh(world, world.apps.web, flow.tokens.refresh_token));
    held.access = rotated.access_token;
    held.refresh = rotated.refresh_token;
    held.cc = assertTokenSuccess(await tokenRequest(world.issuer, { grant_type: 'client_credentials' },
      { basic: [world.apps.cc.client_id, world.apps.cc.client_secret] })).access_token;
    held.userinfo = (await userinfo(world, held.access)).json;
    held.jwks = (await httpGet(`${world.issuer}/id/keys`)).json;
    assert.equal((await server.stop()).code, 0);
    server = null;
  });

  after(async () => {
    await server?.stop();
    if (target) await dropDatabase(target.url);
    if (dir && !process.env.E2E_KEEP_TMP) await rm(dir, { recursive: true, force: true });
  });

  it('copies every table, a progress line each, verifies, and names the KEK file the target needs', { skip }, async () => {
    const r = await run(['migrate', '--from', source.url, '--to', target.url]);
    assert.equal(r.code, 0, `migrate: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    assert.equal(out.migrated, true);
    assert.deepEqual(Object.keys(out.tables), TABLES);
    for (const table of TABLES) {
      assert.match(r.stderr, new RegExp(`^migrate: ${table}: ${out.tables[table]} of ${out.tables[table]} rows copied$`, 'm'));
    }
    assert.equal(out.tables.users, 1);
    assert.equal(out.tables.apps, 2);
    assert.equal(out.tables.signing_keys, 2);
    assert.equal(out.tables.sessions, 1);
    assert.equal(out.tables.consents, 1);
    assert.equal(out.tables.admin_tokens, 1);
    // Code flow: access + refresh; the rotation: access + refresh; client credentials: access.
    assert.equal(out.tables.tokens, 5);
    assert.equal(out.tokens_checked, 5);
    assert.equal(out.key_encryption_key_file, source.kekPath);
    assert.ok(r.stderr.includes(`--key-encryption-key-file ${source.kekPath}`), r.stderr);
    // The rows are in PostgreSQL, the keys still sealed.
    assert.deepEqual(await sql(target.url, 'SELECT count(*) FROM tokens'), ['5']);
    const keys = await sql(target.url, 'SELECT private_pem FROM signing_keys');
    assert.equal(keys.length, 2);
    for (const k of keys) assert.match(k, /^lk-kek-v1:[0-9a-f]{16}:/);
  });

  it('a server on the PostgreSQL copy accepts the access tokens at userinfo and introspection', { skip }, async () => {
    server = await startServer(target.url, { listen: `127.0.0.1:${port}` });
    assert.equal(server.issuer, world.issuer);
    const ui = await userinfo(world, held.access);
    assert.equal(ui.status, 200, show(ui));
    assert.deepEqual(ui.json, held.userinfo);
    for (const [app, token] of [[world.apps.web, held.access], [world.apps.cc, held.cc]]) {
      const r = await introspect(world, app, token, 'access_token');
      assert.equal(r.status, 200, show(r));
      assert.equal(r.json.active, true, `${app.name}: ${show(r)}`);
    }
  });

  it('the admin token created before the move is accepted by the admin API on the copy', { skip }, async () => {
    const admin = await startServer(target.url, { extraArgs: ['--admin-listen', '127.0.0.1:0'] });
    try {
      const at = `${admin.adminUrl}/admin/v1/apps`;
      const ok = await fetch(at, { headers: { authorization: `Bearer ${held.adminToken}` } });
      const body = await ok.text();
      assert.equal(ok.status, 200, body);
      const names = JSON.parse(body).apps.map((a) => a.name).sort();
      assert.deepEqual(names, ['Migrated', 'Migrated CC']);
      const wrong = await fetch(at, { headers: { authorization: `Bearer ${held.adminToken}x` } });
      assert.equal(wrong.status, 401);
    } finally {
      assert.equal((await admin.stop()).code, 0);
    }
  });

  it('the published keys are the same and verify the ID token issued before the move', { skip }, async () => {
    const jwks = (await httpGet(`${world.issuer}/id/keys`)).json;
    assert.deepEqual(jwks, held.jwks);
    await jwtVerify(held.idToken, createLocalJWKSet(jwks), { issuer: world.issuer, audience: world.apps.web.client_id });
  });

  it('the browser session and its approval carry over: authorize answers with a code at once', { skip }, async () => {
    const got = await getCode(world, { app: world.apps.web, browser: held.browser });
    assert.deepEqual(got.result.pages, [], `login or consent shown again: ${got.browser.traceText()}`);
  });

  it('the newest refresh token refreshes; the one rotated before the move is refused as a reuse', { skip }, async () => {
    const t = assertTokenSuccess(await refresh(world, world.apps.web, held.refresh));
    assert.equal((await userinfo(world, t.access_token)).status, 200);
    assertTokenError(await refresh(world, world.apps.web, held.oldRefresh), 'invalid_grant');
  });

  it('a target that is not empty is refused with exit status 1 and left as it was', { skip }, async () => {
    const before = await sql(target.url, 'SELECT count(*) FROM tokens');
    const r = await run(['migrate', '--from', source.url, '--to', target.url]);
    assert.equal(r.code, 1, `${r.stdout} ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^latchkey: migrate: the target database is not empty \(.*tokens \d+.*\); nothing was copied/m);
    assert.doesNotMatch(r.stderr, /rows copied/);
    assert.deepEqual(await sql(target.url, 'SELECT count(*) FROM tokens'), before);
  });

  it('a KEK file that does not open the source\'s keys is refused before anything is copied', { skip }, async () => {
    const fresh = await newDatabase(dir, { backend: 'postgres', kekPath: source.kekPath });
    try {
      const wrong = path.join(dir, 'wrong.kek');
      await writeFile(wrong, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
      const r = await run(['--key-encryption-key-file', wrong, 'migrate', '--from', source.url, '--to', fresh.url]);
      assert.equal(r.code, 1, `${r.stdout} ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /the key-encryption key .*wrong\.kek does not open the signing key \S+ .*; nothing was copied/);
      assert.doesNotMatch(r.stderr, /rows copied/);
    } finally {
      await dropDatabase(fresh.url);
    }
  });

  it('a missing source is refused and not created; the same database twice is a usage error', { skip }, async () => {
    const missing = path.join(dir, 'nowhere.db');
    const r = await run(['migrate', '--from', `sqlite:${missing}`, '--to', target.url]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /does not exist/);
    await assert.rejects(stat(missing), 'migrate created the missing source');
    const same = await run(['migrate', '--from', source.url, '--to', source.url]);
    assert.equal(same.code, 2, same.stderr);
    assert.match(same.stderr, /same database/);
  });
});
