// docs/behaviour.md §2: secrets, passwords and tokens are stored only as hashes ("a stolen database dump
// yields no usable credential"), and RFC 9700 §4.3 / docs/behaviour.md §5.5: codes and tokens never reach
// a log. After a full web server flow (code → access + refresh token → refresh) and a
// client_credentials grant, the raw bytes of the SQLite files (main file, -wal, -shm; while the
// server runs and after it stopped), or a pg_dump of the PostgreSQL database, and the server's
// stdout/stderr hold none of the credentials.
//
// The signing private keys are stored encrypted under a key-encryption key kept in a file of its
// own (docs/operations.md "Signing keys at rest"): no PRIVATE KEY in the database, a server given another
// KEK file (or none) refuses to start, a database from before encryption is upgraded in place
// keeping its kids, and `keys rewrap` moves the keys to a new KEK without changing them. Every
// file latchkey writes is mode 0600 (docs/operations.md "Files"). Under PostgreSQL the KEK file
// is the one lib/database.js names (a shared database has no file to put it beside).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, chmod, rename, writeFile, rm } from 'node:fs/promises';
import { createHash, createPublicKey } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import {
  startWorld, startServer, run, cli, makeTempDir, sql, databaseCopies, sqliteOnly, ON_POSTGRES,
} from './lib/server.js';
import { codeFlow, refresh, tokenRequest, assertTokenSuccess, randomString, httpGet } from './lib/oauth.js';

const exec = promisify(execFile);

const modeOf = async (file) => (await stat(file)).mode & 0o777;
const jwksOf = async (issuer) => (await httpGet(`${issuer}/id/keys`)).json;

/**
 * `latchkey serve` with `args` before the subcommand (global options) and stdin closed at once:
 * a server that starts anyway prints "listening on" and stops (--stop-on-stdin-eof).
 */
function serveOnce(db, globalArgs = []) {
  return run([...globalArgs, '--db', db, 'serve', '--listen', '127.0.0.1:0', '--stop-on-stdin-eof']);
}

/** Every byte form of a value that would make a dump usable or identify the credential. */
function forms(name, value) {
  const out = [[name, Buffer.from(value, 'utf8')]];
  const bang = value.indexOf('!');
  if (bang >= 0) {
    const tail = value.slice(bang + 1);
    out.push([`${name} (part after "!")`, Buffer.from(tail, 'utf8')]);
    const raw = Buffer.from(tail, 'base64url');
    if (raw.length >= 16) {
      out.push([`${name} (decoded random bytes)`, raw]);
      out.push([`${name} (decoded random bytes, hex)`, Buffer.from(raw.toString('hex'), 'utf8')]);
    }
  }
  return out;
}

function assertAbsent(files, secrets, when) {
  for (const f of files) {
    for (const [what, needle] of secrets) {
      assert.ok(!f.bytes.includes(needle), `${what} found in plaintext in ${f.name} (${when})`);
    }
  }
}

describe('secrets at rest and in logs (docs/behaviour.md §2, RFC 9700 §4.3)', { concurrency: false, timeout: 60000 }, () => {
  let world;
  let auditDir;
  const values = {};
  const queryStrings = {};

  before(async () => {
    auditDir = await makeTempDir('latchkey-audit-');
    world = await startWorld({
      serve: { extraArgs: ['--audit-log', path.join(auditDir, 'audit.jsonl')] },
      users: {
        alice: { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost', password: 'Pa55-at-rest-' + randomString(9) },
      },
      apps: {
        web: { scopes: 'api refresh_token openid', refreshPolicy: 'until-revoked' },
        cc: { scopes: 'api', extra: ['--client-credentials-user', 'alice@localhost'] },
      },
    });
    const stateMarker = 'state-marker-' + randomString(12);
    const { tokens, got } = await codeFlow(world, { app: world.apps.web, state: stateMarker, nonce: 'nonce-' + randomString() });
    const refreshed = assertTokenSuccess(await refresh(world, world.apps.web, tokens.refresh_token));
    const ccTokens = assertTokenSuccess(await tokenRequest(world.issuer, { grant_type: 'client_credentials' },
      { basic: [world.apps.cc.client_id, world.apps.cc.client_secret] }));
    Object.assign(values, {
      'access token (code flow)': tokens.access_token,
      'refresh token': tokens.refresh_token,
      'access token (refresh grant)': refreshed.access_token,
      'access token (client credentials)': ccTokens.access_token,
      'authorization code': got.code,
      'client secret (web app)': world.apps.web.client_secret,
      'client secret (client credentials app)': world.apps.cc.client_secret,
      "user's password": world.users.alice.password,
    });
    queryStrings['authorize query string'] = new URL(got.authorizeUrl).search.slice(1);
    queryStrings['callback query string'] = got.result.url.search.slice(1);
    queryStrings['state value'] = stateMarker;
  });
  after(async () => {
    await world?.stop();
    if (!process.env.E2E_KEEP_TMP) await rm(auditDir, { recursive: true, force: true });
  });

  const secretForms = () => Object.entries(values).flatMap(([k, v]) => forms(k, v));

  it('the access tokens have the "<org id>!<base64url>" shape the byte checks rely on', () => {
    for (const k of ['access token (code flow)', 'access token (client credentials)']) {
      assert.match(values[k], /^00D[A-Za-z0-9]{12,15}![A-Za-z0-9_-]{20,}$/, `${k}: ${values[k].slice(0, 20)}…`);
    }
  });

  it('the database files of the running server hold no token, code, client secret or password', async () => {
    const files = await databaseCopies(world.db);
    const main = ON_POSTGRES ? 'pg_dump' : 'lk.db';
    assert.ok(files.some((f) => f.name === main), `${main} expected; found ${files.map((f) => f.name)}`);
    // Control: non-secret identifiers are stored in the clear, so the scan reads real content.
    const ids = [world.apps.web.client_id, world.users.alice.username].map((v) => Buffer.from(v));
    for (const id of ids) assert.ok(files.some((f) => f.bytes.includes(id)), `control value ${id} not found in the database files`);
    assertAbsent(files, secretForms(), 'server running');
  });

  it('every file the running server and the CLI wrote is mode 0600: database, -wal, -shm (SQLite), KEK file, audit log', async () => {
    const names = (await readdir(world.dir)).filter((n) => n.startsWith('lk.'));
    const files = [...names.map((n) => path.join(world.dir, n)), path.join(auditDir, 'audit.jsonl')];
    for (const f of files) assert.equal((await modeOf(f)).toString(8), '600', `mode of ${f}`);
    const expected = ON_POSTGRES ? ['lk.kek'] : ['lk.db', 'lk.db-wal', 'lk.db-shm', 'lk.db.kek'];
    for (const n of expected) assert.ok(names.includes(n), `${n} missing: ${names}`);
    assert.ok(files.includes(world.kekPath), `the KEK file ${world.kekPath} is among ${files}`);
  });

  it('the signing private keys are stored encrypted: SQL finds no PRIVATE KEY, only lk-kek-v1 envelopes', async () => {
    const rows = await sql(world.db, 'SELECT kid, private_pem FROM signing_keys');
    assert.ok(rows.length >= 2, `signing keys: ${rows}`);
    const kek = (await readFile(world.kekPath, 'utf8'));
    assert.match(kek, /^[0-9a-f]{64}\n$/, 'KEK file format');
    const kekId = createHash('sha256').update(Buffer.from(kek.trim(), 'hex')).digest('hex').slice(0, 16);
    for (const row of rows) {
      assert.ok(!row.includes('PRIVATE KEY'), `a plaintext key: ${row.slice(0, 60)}`);
      assert.match(row, new RegExp(`^[A-Za-z0-9]+\\|lk-kek-v1:${kekId}:[A-Za-z0-9_-]+$`), row.slice(0, 80));
    }
    if (!ON_POSTGRES) {
      const dump = (await exec('sqlite3', [world.dbPath, '.dump'])).stdout;
      assert.ok(!dump.includes('PRIVATE KEY'), 'PRIVATE KEY in the database dump');
    }
    for (const f of await databaseCopies(world.db)) {
      assert.ok(!f.bytes.includes(Buffer.from('PRIVATE KEY')), `PRIVATE KEY in ${f.name}`);
      assert.ok(!f.bytes.includes(Buffer.from(kek.trim())), `the KEK in ${f.name}`);
    }
  });

  it('after a clean stop, the database files (and a -wal if left) hold none of them either', async () => {
    const r = await world.server.stop();
    assert.equal(r.code, 0, `stop: ${JSON.stringify(r)}`);
    const files = await databaseCopies(world.db);
    // Control, as while serving: the database is there and its identifiers are read in the clear,
    // so an empty or unreadable scan cannot pass.
    const id = Buffer.from(world.apps.web.client_id);
    assert.ok(files.some((f) => f.bytes.includes(id)), `control value ${id} not found in the database files`);
    assertAbsent(files, secretForms(), 'server stopped');
  });

  it('what is stored instead: SHA-256 of the client secrets and tokens, an Argon2id (m=19456, t=2, p=1) hash of the password', async () => {
    await world.server.stop();
    const files = await databaseCopies(world.db);
    const present = (needle) => files.some((f) => f.bytes.includes(needle));
    for (const k of ['client secret (web app)', 'client secret (client credentials app)', 'access token (code flow)',
      'refresh token', 'access token (client credentials)']) {
      const digest = createHash('sha256').update(values[k], 'utf8').digest();
      assert.ok(present(Buffer.from(digest.toString('hex'))) || present(Buffer.from(digest.toString('hex').toUpperCase())) || present(digest),
        `${k}: its SHA-256 (hex or raw) is not in the database files`);
    }
    assert.ok(present(Buffer.from('$argon2id$v=19$m=19456,t=2,p=1$')), 'no Argon2id m=19456,t=2,p=1 PHC string in the database files');
  });

  it('the server log (stdout and stderr) holds no credential and no authorize/callback query string', async () => {
    await world.server.stop();
    const log = Buffer.from(world.logs(), 'utf8');
    assert.ok(/listening on/.test(world.logs()), 'the log was captured');
    for (const [what, needle] of secretForms()) assert.ok(!log.includes(needle), `${what} appears in the server log`);
    for (const [what, value] of Object.entries(queryStrings)) {
      assert.ok(value.length > 0, `${what} is not empty`);
      assert.ok(!log.includes(Buffer.from(value)), `${what} appears in the server log: ${value.slice(0, 80)}`);
    }
    // The access log: one logfmt line per request, fields by name, the path without its query.
    const line = world.logs().split('\n').find((l) => l.includes('path=/services/oauth2/token '));
    assert.ok(line, 'the token requests are in the access log');
    const fields = Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    assert.equal(fields.method, 'POST');
    assert.match(fields.status, /^[1-5]\d\d$/);
    assert.match(fields.bytes, /^\d+$/);
    assert.match(fields.us, /^\d+$/);
    assert.equal(fields.addr, '127.0.0.1');
    assert.ok(!world.logs().includes('path=/services/oauth2/authorize?'), 'a query string in the access log');
  });
});

describe('signing keys at rest: the key-encryption key (docs/operations.md "Signing keys at rest")', { concurrency: false, timeout: 90000 }, () => {
  let world;
  const app = { scopes: 'api openid', callback: 'http://127.0.0.1:9/cb' };
  before(async () => {
    world = await startWorld({ apps: { web: app } });
  });
  // world.stop() stops the server startWorld started; the tests below replace it.
  after(async () => {
    try { await world?.server.stop(); } finally { await world?.stop(); }
  });

  const keyRows = () => sql(world.db, 'SELECT kid, alg, private_pem, retired_ms FROM signing_keys ORDER BY kid');

  it('a server started with another KEK file refuses to start, naming the file, and changes no key', async () => {
    await world.server.stop();
    const before = await keyRows();
    const other = path.join(world.dir, 'other.kek');
    await writeFile(other, `${createHash('sha256').update('another').digest('hex')}\n`, { mode: 0o600 });
    const r = await serveOnce(world.db, ['--key-encryption-key-file', other]);
    assert.notEqual(r.code, 0, `started with another KEK: ${r.stdout}`);
    assert.ok(!/listening on/.test(r.stdout), r.stdout);
    assert.match(r.stderr, /cannot be decrypted/, r.stderr);
    assert.ok(r.stderr.includes(other), `the KEK file is not named: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one clear line: ${r.stderr}`);
    assert.deepEqual(await keyRows(), before, 'the keys changed');
    // The same through LATCHKEY_KEK_FILE, and for an admin command that needs the keys.
    const viaEnv = await run(['--db', world.db, 'keys', 'rotate'], { env: { ...process.env, LATCHKEY_KEK_FILE: other } });
    assert.notEqual(viaEnv.code, 0, viaEnv.stdout);
    assert.ok(viaEnv.stderr.includes(other), viaEnv.stderr);
    assert.deepEqual(await keyRows(), before, 'keys rotate changed the keys under a wrong KEK');
  });

  it('a database moved without its KEK file: the server refuses to start and makes no new KEK or key', async () => {
    const before = await keyRows();
    const kek = world.kekPath;
    const away = path.join(world.dir, 'away.kek');
    await rename(kek, away);
    try {
      const r = await serveOnce(world.db);
      assert.notEqual(r.code, 0, r.stdout);
      assert.ok(r.stderr.includes(kek) && /does not exist/.test(r.stderr), r.stderr);
      await assert.rejects(stat(kek), 'a new KEK file was made');
      assert.deepEqual(await keyRows(), before);
    } finally {
      await rename(away, kek);
    }
  });

  it('a KEK file of the wrong format is refused with a clear error', async () => {
    const bad = path.join(world.dir, 'bad.kek');
    await writeFile(bad, 'not-a-key\n', { mode: 0o600 });
    const r = await serveOnce(world.db, ['--key-encryption-key-file', bad]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /64 hex characters/, r.stderr);
    assert.ok(r.stderr.includes(bad), r.stderr);
  });

  it('keys rewrap: every key moves to the new KEK with its kid; ID tokens signed before keep verifying', async () => {
    // Restart on a fixed port so the issuer, and so the ID tokens' iss, stay the same.
    const port = new URL(world.issuer).port;
    world.server = await startServer(world.db, { listen: `127.0.0.1:${port}` });
    const w = { ...world, issuer: world.server.issuer };
    const beforeTokens = (await codeFlow(w, { app: world.apps.web, scope: 'api openid', nonce: 'n1' })).tokens;
    const jwksBefore = await jwksOf(w.issuer);
    await world.server.stop();

    const newKek = path.join(world.dir, 'new.kek');
    const out = await cli(world.db, ['keys', 'rewrap', '--new-key-encryption-key-file', newKek]);
    const rows = await keyRows();
    assert.equal(out.rewrapped, rows.length, JSON.stringify(out));
    assert.equal((await modeOf(newKek)).toString(8), '600');
    assert.match(await readFile(newKek, 'utf8'), /^[0-9a-f]{64}\n$/);
    for (const row of rows) assert.ok(row.includes(`lk-kek-v1:${out.key_encryption_key_id}:`), row.slice(0, 80));
    assert.deepEqual(out.keys.map((k) => k.kid).sort(), rows.map((r) => r.split('|')[0]).sort());

    // The old KEK no longer opens them; the new one does, with the same JWKS.
    const old = await serveOnce(world.db);
    assert.notEqual(old.code, 0, old.stdout);
    world.server = await startServer(world.db, {
      listen: `127.0.0.1:${port}`, launcher: ['env', `LATCHKEY_KEK_FILE=${newKek}`],
    });
    assert.deepEqual(await jwksOf(w.issuer), jwksBefore, 'rewrap changed the published keys');
    const jwks = createLocalJWKSet(await jwksOf(w.issuer));
    await jwtVerify(beforeTokens.id_token, jwks, { issuer: w.issuer, audience: world.apps.web.client_id });
    const afterTokens = (await codeFlow(w, { app: world.apps.web, scope: 'api openid', nonce: 'n2' })).tokens;
    assert.equal(decodeProtectedHeader(afterTokens.id_token).kid, decodeProtectedHeader(beforeTokens.id_token).kid);
    await jwtVerify(afterTokens.id_token, jwks, { issuer: w.issuer, audience: world.apps.web.client_id });
  });
});

describe('signing keys at rest: a database from before encryption is upgraded on first start', { concurrency: false, timeout: 60000 }, () => {
  let world;
  const legacy = {};
  before(async () => {
    world = await startWorld({});
    await world.server.stop();
    // What the code before encryption stored: plaintext PKCS#8 PEM rows, and no KEK file.
    for (const [alg, args] of [['RS256', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']],
      ['ES256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']]]) {
      const pem = (await exec('openssl', ['genpkey', ...args])).stdout;
      assert.match(pem, /BEGIN PRIVATE KEY/);
      legacy[alg] = { kid: `legacy${alg}kid000`, pem, jwk: createPublicKey(pem).export({ format: 'jwk' }) };
    }
    const q = (v) => `'${v.replace(/'/g, "''")}'`;
    await sql(world.db, `DELETE FROM signing_keys; ${Object.entries(legacy).map(([alg, k], i) =>
      `INSERT INTO signing_keys VALUES (${q(k.kid)}, '${alg}', ${q(k.pem)}, ${1700000000000 + i}, 0);`).join(' ')}`);
    await rm(world.kekPath);
  });
  after(async () => {
    try { await world?.server.stop(); } finally { await world?.stop(); }
  });

  it('the plaintext keys are encrypted (one log line), their kids and public keys kept', async () => {
    assert.equal((await sql(world.db, "SELECT count(*) FROM signing_keys WHERE private_pem LIKE '%PRIVATE KEY%'"))[0], '2');
    world.server = await startServer(world.db);
    const lines = world.server.logs().split('\n').filter((l) => /encrypted \d+ signing key/.test(l));
    assert.equal(lines.length, 1, world.server.logs());
    assert.match(lines[0], /encrypted 2 signing key/);
    const rows = await sql(world.db, 'SELECT kid, private_pem FROM signing_keys');
    assert.equal(rows.length, 2, 'keys were added or lost');
    for (const row of rows) {
      assert.ok(!row.includes('PRIVATE KEY'), row.slice(0, 60));
      assert.match(row, /\|lk-kek-v1:[0-9a-f]{16}:/);
    }
    assert.equal((await modeOf(world.kekPath)).toString(8), '600');
    const jwks = await jwksOf(world.server.issuer);
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [legacy.ES256.kid, legacy.RS256.kid].sort());
    const rs = jwks.keys.find((k) => k.kid === legacy.RS256.kid);
    assert.equal(rs.n, legacy.RS256.jwk.n);
    const es = jwks.keys.find((k) => k.kid === legacy.ES256.kid);
    assert.equal(es.x, legacy.ES256.jwk.x);
    assert.equal(es.y, legacy.ES256.jwk.y);
  });

  it('a second start has nothing left to encrypt and publishes the same keys', async () => {
    const before = await jwksOf(world.server.issuer);
    await world.server.stop();
    world.server = await startServer(world.db);
    assert.ok(!/encrypted \d+ signing key/.test(world.server.logs()), world.server.logs());
    assert.deepEqual((await jwksOf(world.server.issuer)).keys, before.keys);
  });

  it('an existing database file open to others gets one warning line at start-up', { skip: sqliteOnly('its file mode') }, async () => {
    await world.server.stop();
    await chmod(world.dbPath, 0o644);
    world.server = await startServer(world.db);
    const warnings = world.server.stderr().split('\n').filter((l) => /warning/.test(l));
    assert.equal(warnings.length, 1, world.server.stderr());
    assert.ok(warnings[0].includes(world.dbPath) && warnings[0].includes('0644'), warnings[0]);
    await world.server.stop();
    await chmod(world.dbPath, 0o600);
    world.server = await startServer(world.db);
    assert.ok(!/warning/.test(world.server.stderr()), world.server.stderr());
  });
});
