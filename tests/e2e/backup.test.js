// Backup and restore (docs/operations.md "Backup and restore"): `latchkey export` writes an
// installation's configuration as one JSON document and `latchkey import` restores it into an
// empty database, on this run's backend: a server on the copy, on the same issuer and with the
// same KEK file, authenticates the apps with their old secrets, publishes the same signing keys
// (a JWT signed before the export verifies against the copy's JWKS) and logs the user in with
// the old password; the tokens the old server issued are not carried over, and no token appears
// in the document. `latchkey backup PATH` copies a SQLite file while its server serves under
// load, and a server on the copy finds a token issued before the backup valid.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import {
  makeTempDir, newDatabase, dropDatabase, createUser, createApp, startServer, freePort, run, cli,
} from './lib/server.js';
import { sqliteOnly } from './lib/database.js';
import { codeFlow, introspect, assertTokenSuccess, httpGet, tokenRequest, show, userinfo } from './lib/oauth.js';

function clientCredentials(issuer, app, secret = app.client_secret) {
  return tokenRequest(issuer, { grant_type: 'client_credentials' }, { basic: [app.client_id, secret] });
}

// A database in a directory of its own (a SQLite file is always DIR/lk.db) whose servers use
// the KEK file `kekPath` (SQLite: copied beside it, as an operator restoring would).
async function databaseIn(dir, name, kekPath) {
  const sub = path.join(dir, name);
  await mkdir(sub);
  const db = await newDatabase(sub, { kekPath });
  if (db.path && kekPath) await copyFile(kekPath, db.kekPath);
  return db;
}

describe('latchkey export and import', { concurrency: false, timeout: 90000 }, () => {
  let dir;
  let source;
  let target;
  let port;
  let server;
  let exported;
  const world = { users: {}, apps: {} };
  const held = {};

  before(async () => {
    dir = await makeTempDir('latchkey-e2e-backup-');
    source = await databaseIn(dir, 'source');
    world.users.alice = await createUser(source.url, { username: 'alice@localhost', name: 'Alice Smith' });
    world.apps.web = await createApp(source.url, { name: 'Web', scopes: 'api refresh_token openid' });
    world.apps.jwt = await createApp(source.url, {
      name: 'JWT CC', scopes: 'api', extra: ['--client-credentials-user', 'alice@localhost', '--token-format', 'jwt'],
    });
    world.apps.cc = await createApp(source.url, {
      name: 'Opaque CC', scopes: 'api', extra: ['--client-credentials-user', 'alice@localhost', '--permitted-users', 'admin-approved'],
    });
    await cli(source.url, ['app', 'preauthorize', '--client-id', world.apps.cc.client_id, '--profile', 'Standard User']);
    port = await freePort();
    server = await startServer(source.url, { listen: `127.0.0.1:${port}` });
    world.issuer = server.issuer;
    const flow = await codeFlow(world, { app: world.apps.web, scope: 'api refresh_token openid', nonce: 'n-1' });
    held.access = flow.tokens.access_token;
    held.refresh = flow.tokens.refresh_token;
    held.idToken = flow.tokens.id_token;
    held.jwt = assertTokenSuccess(await clientCredentials(world.issuer, world.apps.jwt)).access_token;
    held.cc = assertTokenSuccess(await clientCredentials(world.issuer, world.apps.cc)).access_token;
    held.jwks = (await httpGet(`${world.issuer}/id/keys`)).json;
  });

  after(async () => {
    await server?.stop();
    if (source) await dropDatabase(source.url);
    if (target) await dropDatabase(target.url);
    if (dir && !process.env.E2E_KEEP_TMP) await rm(dir, { recursive: true, force: true });
  });

  it('export writes one document, the same bytes each time, to a new file of mode 0600', async () => {
    const file = path.join(dir, 'export.json');
    const r = await run(['--db', source.url, 'export', '--out', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    exported = await readFile(file, 'utf8');
    const again = await run(['--db', source.url, 'export']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, exported);
    const doc = JSON.parse(exported);
    assert.equal(doc.format, 'latchkey-export');
    assert.equal(doc.version, 1);
    assert.equal(doc.orgs.length, 1);
    assert.deepEqual(doc.users.map((u) => u.username), ['alice@localhost']);
    assert.match(doc.users[0].password_hash, /^\$argon2id\$/);
    assert.equal(doc.apps.length, 3);
    assert.deepEqual(doc.preauthorizations, [{ client_id: world.apps.cc.client_id, kind: 'profile', name: 'Standard User' }]);
    assert.deepEqual(doc.consents.map((c) => c.client_id), [world.apps.web.client_id]);
    assert.ok(doc.signing_keys.length >= 1);
    for (const k of doc.signing_keys) {
      assert.match(k.sealed_private_key, new RegExp(`^lk-kek-v1:${k.kek_id}:`));
      assert.doesNotMatch(JSON.stringify(k), /BEGIN/);
    }
    // An existing file is not overwritten.
    const twice = await run(['--db', source.url, 'export', '--out', file]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /cannot create .*export\.json: File exists/);
  });

  it('the document holds no token, secret or password the server or its clients hold', () => {
    for (const [what, secret] of [
      ['access token', held.access], ['refresh token', held.refresh], ['JWT access token', held.jwt],
      ['client credentials token', held.cc], ['client secret', world.apps.cc.client_secret],
      ['password', world.users.alice.password],
    ]) {
      assert.ok(!exported.includes(secret), `the export holds the ${what}`);
    }
    // Nor the opaque token's random part alone (00D…!… without the org id).
    assert.ok(!exported.includes(held.access.split('!')[1]), 'the export holds the access token\'s secret part');
    // Nor any table of what a server makes as it serves.
    assert.deepEqual(Object.keys(JSON.parse(exported)),
      ['format', 'version', 'orgs', 'users', 'apps', 'preauthorizations', 'consents', 'signing_keys']);
  });

  it('import restores it into an empty database and names the KEK file its servers need', async () => {
    assert.equal((await server.stop()).code, 0);
    server = null;
    target = await databaseIn(dir, 'target', source.kekPath);
    const r = await run(['--db', target.url, 'import', path.join(dir, 'export.json')]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.imported, true);
    assert.equal(out.users, 1);
    assert.equal(out.apps, 3);
    assert.equal(out.consents, 1);
    assert.equal(out.preauthorizations, 1);
    assert.match(r.stderr, /--key-encryption-key-file /);
  });

  it('a server on the copy authenticates the apps with their old secrets and publishes the same keys', async () => {
    server = await startServer(target.url, { listen: `127.0.0.1:${port}` });
    assert.equal(server.issuer, world.issuer);
    for (const app of [world.apps.cc, world.apps.jwt]) {
      const t = assertTokenSuccess(await clientCredentials(world.issuer, app));
      assert.equal((await introspect(world, app, t.access_token, 'access_token')).json.active, true);
    }
    assert.equal((await clientCredentials(world.issuer, world.apps.cc, 'not-the-secret')).status, 401);
    const jwks = (await httpGet(`${world.issuer}/id/keys`)).json;
    assert.deepEqual(jwks, held.jwks);
    // The JWT access token signed before the export verifies against the copy's published keys,
    // and the copy signs new ones with the same kid.
    const { protectedHeader } = await jwtVerify(held.jwt, createLocalJWKSet(jwks), { issuer: world.issuer });
    const fresh = assertTokenSuccess(await clientCredentials(world.issuer, world.apps.jwt)).access_token;
    assert.equal(decodeProtectedHeader(fresh).kid, protectedHeader.kid);
    await jwtVerify(held.idToken, createLocalJWKSet(jwks), { issuer: world.issuer, audience: world.apps.web.client_id });
  });

  it('the user signs in with the old password; the tokens of the old server are not carried over', async () => {
    const flow = await codeFlow(world, { app: world.apps.web, scope: 'api refresh_token openid', nonce: 'n-2' });
    const ui = await userinfo(world, flow.tokens.access_token);
    assert.equal(ui.status, 200, show(ui));
    assert.equal(ui.json.user_id, world.users.alice.user_id);
    assert.equal((await introspect(world, world.apps.cc, held.cc, 'access_token')).json.active, false);
    assert.equal((await userinfo(world, held.access)).status, 401);
  });

  it('exporting the copy gives the same document', async () => {
    const r = await run(['--db', target.url, 'export']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, exported);
  });

  it('import into a database that is not empty is refused with exit status 1 and writes nothing', async () => {
    const r = await run(['--db', target.url, 'import', path.join(dir, 'export.json')]);
    assert.equal(r.code, 1, `${r.stdout} ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^latchkey: import: the target database is not empty \(.*users 1.*\); nothing was imported/m);
    assert.equal((await cli(target.url, ['user', 'list'])).users.length, 1);
  });

  it('a document of another version or malformed is refused, naming what is wrong, and nothing is written', async () => {
    const fresh = await databaseIn(dir, 'fresh', source.kekPath);
    try {
      const doc = JSON.parse(exported);
      const cases = [
        [{ ...doc, version: 2 }, /version: unsupported version 2/],
        [{ ...doc, users: [{ ...doc.users[0], password_hash: 7 }] }, /users\[0\]\.password_hash: must be a string/],
        [{ ...doc, consents: [{ ...doc.consents[0], client_id: 'nobody' }] }, /consents\[0\]: client_id names no app/],
      ];
      for (const [bad, message] of cases) {
        const file = path.join(dir, 'bad.json');
        await writeFile(file, JSON.stringify(bad));
        const r = await run(['--db', fresh.url, 'import', file]);
        assert.equal(r.code, 1, `${r.stdout} ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.match(r.stderr, /nothing was imported/);
        await rm(file);
      }
      // The database is still empty: the good document goes in.
      const r = await run(['--db', fresh.url, 'import', path.join(dir, 'export.json')]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await dropDatabase(fresh.url);
    }
  });
});

describe('latchkey backup', { concurrency: false, timeout: 90000 }, () => {
  const skip = sqliteOnly('latchkey backup copies a SQLite file');
  let dir;
  let db;
  let server;

  before(async () => {
    if (skip) return;
    dir = await makeTempDir('latchkey-e2e-sqlite-backup-');
    db = await newDatabase(dir);
    await createUser(db.url, { username: 'alice@localhost' });
  });

  after(async () => {
    await server?.stop();
    if (dir && !process.env.E2E_KEEP_TMP) await rm(dir, { recursive: true, force: true });
  });

  it('copies the file while the server issues tokens under load; a server on the copy finds an earlier token valid', { skip }, async () => {
    const app = await createApp(db.url, { name: 'CC', scopes: 'api', extra: ['--client-credentials-user', 'alice@localhost'] });
    server = await startServer(db.url);
    const issuer = server.issuer;
    const earlier = assertTokenSuccess(await clientCredentials(issuer, app)).access_token;

    // A loop of client credentials requests, four at a time, all through the backup.
    let stop = false;
    let issued = 0;
    const failures = [];
    const load = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const r = await clientCredentials(issuer, app);
        if (r.status === 200) ++issued;
        else failures.push(show(r));
      }
    });
    while (issued < 50 && failures.length === 0) await new Promise((res) => setTimeout(res, 10));
    const file = path.join(dir, 'backup.db');
    const atStart = issued;
    const r = await run(['--db', db.url, 'backup', file]);
    const during = issued - atStart;
    while (issued < atStart + during + 50 && failures.length === 0) await new Promise((res) => setTimeout(res, 10));
    stop = true;
    await Promise.all(load);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(failures, []);
    const out = JSON.parse(r.stdout);
    assert.equal(out.backup, file);
    assert.equal((await stat(file)).size, out.bytes);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await server.stop()).code, 0);
    server = null;

    // The copy with the original's KEK file beside it, as a restore would put it.
    await copyFile(db.kekPath, `${file}.kek`);
    server = await startServer(`sqlite:${file}`);
    const v = await tokenRequest(server.issuer, { token: earlier, token_type_hint: 'access_token' },
      { path: '/services/oauth2/introspect', basic: [app.client_id, app.client_secret] });
    assert.equal(v.status, 200, show(v));
    assert.equal(v.json.active, true, show(v));
    assert.ok(during > 0, 'no token was issued while the backup ran');
  });

  it('refuses a PATH that exists and leaves it as it was', { skip }, async () => {
    const file = path.join(dir, 'taken.db');
    await writeFile(file, 'an earlier backup');
    const r = await run(['--db', db.url, 'backup', file]);
    assert.equal(r.code, 1, `${r.stdout} ${r.stderr}`);
    assert.match(r.stderr, /cannot create .*taken\.db: File exists/);
    assert.equal(await readFile(file, 'utf8'), 'an earlier backup');
  });
});

describe('latchkey backup of a PostgreSQL database', () => {
  it('is refused with a pointer to pg_dump, connecting to nothing', async () => {
    const r = await run(['--db', 'postgresql://nobody@127.0.0.1:1/none', 'backup', '/nonexistent/backup.db']);
    assert.equal(r.code, 2, `${r.stdout} ${r.stderr}`);
    assert.match(r.stderr, /pg_dump/);
    assert.match(r.stderr, /docs\/deployment\.md/);
  });
});
