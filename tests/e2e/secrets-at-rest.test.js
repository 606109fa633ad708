// CONTRACT §2: secrets, passwords and tokens are stored only as hashes ("a stolen database dump
// yields no usable credential"), and RFC 9700 §4.3 / CONTRACT §5.5: codes and tokens never reach
// a log. After a full web server flow (code → access + refresh token → refresh) and a
// client_credentials grant, the raw bytes of the SQLite files (main file, -wal, -shm; while the
// server runs and after it stopped) and the server's stdout/stderr hold none of the credentials.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { startWorld } from './lib/server.js';
import { codeFlow, refresh, tokenRequest, assertTokenSuccess, randomString } from './lib/oauth.js';

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

async function sqliteFiles(dir) {
  const names = (await readdir(dir)).filter((n) => n.startsWith('lk.db'));
  const files = [];
  for (const n of names) files.push({ name: n, bytes: await readFile(path.join(dir, n)) });
  return files;
}

function assertAbsent(files, secrets, when) {
  for (const f of files) {
    for (const [what, needle] of secrets) {
      assert.ok(!f.bytes.includes(needle), `${what} found in plaintext in ${f.name} (${when})`);
    }
  }
}

describe('secrets at rest and in logs (CONTRACT §2, RFC 9700 §4.3)', { concurrency: false, timeout: 60000 }, () => {
  let world;
  const values = {};
  const queryStrings = {};

  before(async () => {
    world = await startWorld({
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
  after(async () => { await world?.stop(); });

  const secretForms = () => Object.entries(values).flatMap(([k, v]) => forms(k, v));

  it('the access tokens have the "<org id>!<base64url>" shape the byte checks rely on', () => {
    for (const k of ['access token (code flow)', 'access token (client credentials)']) {
      assert.match(values[k], /^00D[A-Za-z0-9]{12,15}![A-Za-z0-9_-]{20,}$/, `${k}: ${values[k].slice(0, 20)}…`);
    }
  });

  it('the database files of the running server hold no token, code, client secret or password', async () => {
    const files = await sqliteFiles(world.dir);
    assert.ok(files.some((f) => f.name === 'lk.db'), `database file expected; found ${files.map((f) => f.name)}`);
    // Control: non-secret identifiers are stored in the clear, so the scan reads real content.
    const ids = [world.apps.web.client_id, world.users.alice.username].map((v) => Buffer.from(v));
    for (const id of ids) assert.ok(files.some((f) => f.bytes.includes(id)), `control value ${id} not found in the database files`);
    assertAbsent(files, secretForms(), 'server running');
  });

  it('after a clean stop, the database files (and a -wal if left) hold none of them either', async () => {
    const r = await world.server.stop();
    assert.equal(r.code, 0, `stop: ${JSON.stringify(r)}`);
    const files = await sqliteFiles(world.dir);
    assertAbsent(files, secretForms(), 'server stopped');
  });

  it('what is stored instead: SHA-256 of the client secrets and tokens, an Argon2id (m=19456, t=2, p=1) hash of the password', async () => {
    await world.server.stop();
    const files = await sqliteFiles(world.dir);
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
