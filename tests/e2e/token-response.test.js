// docs/behaviour.md §5 token response shape (Salesforce wire format) and §2 storage of secrets.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startWorld } from './lib/server.js';
import { codeFlow, refresh, assertTokenSuccess, expectedSignature, randomString } from './lib/oauth.js';

function assertNoStore(r) {
  const cc = r.headers.get('cache-control') || '';
  assert.match(cc, /no-store/i, `token responses need Cache-Control: no-store; got ${JSON.stringify(cc)}`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/i);
}

function checkShape(world, app, t, { refreshToken, idToken, scopes }) {
  const user = world.users.alice;
  assert.equal(typeof t.access_token, 'string');
  assert.ok(t.access_token.length >= 16);
  assert.equal(t.token_type, 'Bearer');
  assert.equal(t.instance_url, world.issuer);
  assert.equal(t.id, `${world.issuer}/id/${user.org_id}/${user.user_id}`);
  assert.equal(typeof t.issued_at, 'string', 'issued_at is a string');
  assert.match(t.issued_at, /^\d{13}$/, 'issued_at is milliseconds since the epoch');
  assert.ok(Math.abs(Number(t.issued_at) - Date.now()) < 120000, `issued_at ${t.issued_at} is now`);
  assert.equal(typeof t.signature, 'string');
  assert.match(t.signature, /^[A-Za-z0-9+/]+={0,2}$/, 'signature is standard base64');
  assert.equal(t.signature, expectedSignature(app.client_secret, t.id, t.issued_at),
    'signature = base64(HMAC-SHA256(client_secret, id + issued_at))');
  assert.equal(typeof t.expires_in, 'number', 'expires_in is a JSON number');
  assert.ok(t.expires_in > 0);
  assert.equal(typeof t.scope, 'string');
  if (scopes) assert.deepEqual(t.scope.split(' ').sort(), scopes.split(' ').sort(), `granted scope ${t.scope}`);
  if (refreshToken === true) assert.ok(typeof t.refresh_token === 'string' && t.refresh_token.length >= 16, 'refresh_token expected');
  if (refreshToken === false) assert.ok(!('refresh_token' in t), `no refresh_token expected: ${JSON.stringify(t)}`);
  if (idToken === true) assert.equal(typeof t.id_token, 'string', 'id_token expected with openid');
  if (idToken === false) assert.ok(!('id_token' in t), 'no id_token without openid');
}

describe('token response (docs/behaviour.md §5)', { concurrency: true, timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({
      apps: {
        full: { scopes: 'api refresh_token openid profile email' },
        norefresh: { scopes: 'api openid' },
        offline: { scopes: 'api offline_access' },
        defaults: {},
        ttl: { scopes: 'api refresh_token', accessTokenTtl: 2 },
      },
    });
  });
  after(async () => { await world?.stop(); });

  it('authorization_code response: Bearer, scope, instance_url, id, issued_at, HMAC signature, expires_in, refresh_token, id_token, no-store', async () => {
    const app = world.apps.full;
    const { tokens, response } = await codeFlow(world, { app, scope: app.scopes, nonce: 'n-1' });
    assertNoStore(response);
    checkShape(world, app, tokens, { refreshToken: true, idToken: true, scopes: app.scopes });
    assert.ok(tokens.expires_in > 7000 && tokens.expires_in <= 7200, `default access token ttl is 7200; got ${tokens.expires_in}`);
  });

  it('refresh_token response has the same shape and a valid signature', async () => {
    const app = world.apps.full;
    const { tokens } = await codeFlow(world, { app, scope: app.scopes });
    const r = await refresh(world, app, tokens.refresh_token);
    const t = assertTokenSuccess(r);
    assertNoStore(r);
    checkShape(world, app, t, { idToken: undefined });
    assert.notEqual(t.access_token, tokens.access_token);
  });

  it('client_secret_basic exchange also returns the full shape', async () => {
    const app = world.apps.full;
    const { tokens, response } = await codeFlow(world, { app, scope: app.scopes, exchange: { auth: 'basic' } });
    assertNoStore(response);
    checkShape(world, app, tokens, { refreshToken: true, idToken: true });
  });

  it('no refresh_token when the app scopes include neither refresh_token nor offline_access', async () => {
    const app = world.apps.norefresh;
    const { tokens } = await codeFlow(world, { app, scope: app.scopes });
    checkShape(world, app, tokens, { refreshToken: false, idToken: true, scopes: 'api openid' });
  });

  it('offline_access also yields a refresh_token', async () => {
    const app = world.apps.offline;
    const { tokens } = await codeFlow(world, { app, scope: app.scopes });
    checkShape(world, app, tokens, { refreshToken: true, idToken: false });
  });

  it('app create without --scopes grants "api refresh_token" (no scope parameter sent)', async () => {
    const app = world.apps.defaults;
    const { tokens } = await codeFlow(world, { app });
    checkShape(world, app, tokens, { refreshToken: true, idToken: false, scopes: 'api refresh_token' });
  });

  it('--access-token-ttl is reflected in expires_in', async () => {
    const app = world.apps.ttl;
    const { tokens } = await codeFlow(world, { app });
    assert.ok(tokens.expires_in >= 1 && tokens.expires_in <= 2, `expires_in ${tokens.expires_in} for ttl 2`);
  });

  it('tokens, codes, secrets and passwords never appear in the server logs or in plaintext in the database', async () => {
    const app = world.apps.full;
    const { tokens, got } = await codeFlow(world, { app, scope: app.scopes, state: 'state-' + randomString() });
    const r = await refresh(world, app, tokens.refresh_token);
    const t2 = assertTokenSuccess(r);
    const secrets = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      refreshed_access_token: t2.access_token,
      code: got.code,
      client_secret: app.client_secret,
      password: world.users.alice.password,
    };
    const logs = world.logs();
    for (const [what, value] of Object.entries(secrets)) {
      assert.ok(!logs.includes(value), `${what} appears in the server log`);
    }
    // Both files are read, or the test fails: the tokens just written are in the WAL (the server
    // holds the database open, so it exists) until a checkpoint copies them into the database
    // file, and a file that is not there must not pass unsearched.
    const files = [world.dbPath, `${world.dbPath}-wal`];
    const bufs = [];
    for (const f of files) {
      const buf = await readFile(f);
      bufs.push(buf);
      for (const [what, value] of Object.entries(secrets)) {
        assert.ok(!buf.includes(Buffer.from(value)), `${what} is stored in plaintext in ${f}`);
      }
    }
    // What is stored in the clear is found, so the search reads the rows it should.
    assert.ok(Buffer.concat(bufs).includes(Buffer.from(app.client_id)), `${files} do not hold the app's rows`);
  });

  it('the SQLite database is in WAL mode', async () => {
    const head = await readFile(world.dbPath);
    assert.equal(head.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
    assert.equal(head[18], 2, 'file format write version 2 = WAL');
    assert.equal(head[19], 2, 'file format read version 2 = WAL');
  });

  it('user and app ids have Salesforce prefixes (005 user, 00D org)', () => {
    assert.match(world.users.alice.user_id, /^005[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/);
    assert.match(world.users.alice.org_id, /^00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/);
    assert.equal(world.users.alice.username, 'alice@localhost');
    assert.ok(world.apps.full.client_id && world.apps.full.client_secret);
    assert.notEqual(world.apps.full.client_id, world.apps.norefresh.client_id);
  });
});
