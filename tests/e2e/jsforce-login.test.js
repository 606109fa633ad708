// jsforce's `conn.login(username, password)` with a client id and secret: Salesforce's OAuth
// username-password flow (grant_type=password), per app with --allow-password-flow
// (docs/behaviour.md §5.11), then conn.identity() with the token in the query string.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import jsforce from 'jsforce';
import { startWorld } from './lib/server.js';
import { tokenRequest, assertTokenError, show } from './lib/oauth.js';

describe('jsforce login() (username-password flow)', { concurrency: true, timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({
      users: {
        alice: { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' },
        bob: { username: 'bob@localhost', name: 'Bob Jones', email: 'bob@localhost' },
      },
      apps: {
        allowed: { scopes: 'api id refresh_token', extra: ['--allow-password-flow'] },
        plain: { scopes: 'api id refresh_token' },
      },
    });
  });
  after(async () => { await world?.stop(); });

  function connection(app) {
    return new jsforce.Connection({
      oauth2: { clientId: app.client_id, clientSecret: app.client_secret, loginUrl: world.issuer },
    });
  }

  it('login(username, password) establishes the connection; identity() returns the user', async () => {
    const conn = connection(world.apps.allowed);
    const userInfo = await conn.login(world.users.alice.username, world.users.alice.password);
    assert.equal(userInfo.id, world.users.alice.user_id);
    assert.equal(userInfo.organizationId, world.users.alice.org_id);
    assert.equal(conn.instanceUrl, world.issuer);
    assert.ok(conn.accessToken);
    assert.equal(conn.refreshToken, undefined, 'the password flow gives no refresh token');
    const id = await conn.identity();
    assert.equal(id.username, 'alice@localhost');
    assert.equal(id.user_id, world.users.alice.user_id);
    assert.equal(id.organization_id, world.users.alice.org_id);
    assert.equal(id.display_name, 'Alice Smith');
  });

  it('a wrong password → jsforce rejects with invalid_grant "authentication failure"', async () => {
    const conn = connection(world.apps.allowed);
    await assert.rejects(conn.login(world.users.bob.username, 'not the password'), (e) => {
      assert.match(String(e.message), /authentication failure/, String(e));
      assert.equal(e.name, 'invalid_grant', String(e));
      return true;
    });
    assert.equal(conn.accessToken, undefined);
  });

  it('an app without --allow-password-flow refuses even the right password (invalid_grant "authentication failure")', async () => {
    const conn = connection(world.apps.plain);
    await assert.rejects(conn.login(world.users.alice.username, world.users.alice.password), (e) => {
      assert.match(String(e.message), /authentication failure/, String(e));
      return true;
    });
    const r = await tokenRequest(world.issuer, {
      grant_type: 'password', username: world.users.alice.username, password: world.users.alice.password,
      client_id: world.apps.plain.client_id, client_secret: world.apps.plain.client_secret,
    });
    assertTokenError(r, 'invalid_grant', { description: 'authentication failure' });
  });

  it('a wrong client secret → invalid_client, the password unchecked', async () => {
    const r = await tokenRequest(world.issuer, {
      grant_type: 'password', username: world.users.alice.username, password: world.users.alice.password,
      client_id: world.apps.allowed.client_id, client_secret: 'wrong',
    });
    assert.equal(r.json?.error, 'invalid_client', show(r));
    assert.equal(r.json?.access_token, undefined, show(r));
  });
});
