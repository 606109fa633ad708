// jsforce (v3) unchanged against latchkey: web server flow, identity, transparent refresh.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import jsforce from 'jsforce';
import { startWorld } from './lib/server.js';
import { Browser, describeResult } from './lib/driver.js';
import { sleep } from './lib/oauth.js';

describe('jsforce', { concurrency: true, timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({
      apps: {
        web: { scopes: 'api refresh_token openid profile email' },
        short: { scopes: 'api refresh_token openid', accessTokenTtl: 2 },
      },
    });
  });
  after(async () => { await world?.stop(); });

  function oauth2For(app) {
    return new jsforce.OAuth2({
      loginUrl: world.issuer, clientId: app.client_id, clientSecret: app.client_secret, redirectUri: app.callback,
    });
  }

  async function connect(app) {
    const oauth2 = oauth2For(app);
    const state = 'st-' + Date.now();
    const url = oauth2.getAuthorizationUrl({ scope: app.scopes, state });
    assert.ok(url.startsWith(`${world.issuer}/services/oauth2/authorize?`), url);
    const browser = new Browser(world.issuer);
    const r = await browser.authorize(url, { username: world.users.alice.username, password: world.users.alice.password });
    assert.ok(r.location, `no callback redirect: ${describeResult(r)}`);
    assert.equal(r.params.get('state'), state);
    const code = r.params.get('code');
    assert.ok(code);
    const conn = new jsforce.Connection({ oauth2 });
    const userInfo = await conn.authorize(code);
    return { conn, userInfo };
  }

  it('getAuthorizationUrl + login/consent + conn.authorize(code) establishes the connection', async () => {
    const { conn, userInfo } = await connect(world.apps.web);
    assert.ok(conn.accessToken);
    assert.ok(conn.refreshToken, 'refresh token for an app with refresh_token scope');
    assert.equal(conn.instanceUrl, world.issuer);
    assert.equal(userInfo.id, world.users.alice.user_id);
    assert.equal(userInfo.organizationId, world.users.alice.org_id);
    assert.equal(userInfo.url, `${world.issuer}/id/${world.users.alice.org_id}/${world.users.alice.user_id}`);
    assert.equal(conn.userInfo.id, world.users.alice.user_id);
    assert.equal(conn.userInfo.organizationId, world.users.alice.org_id);
  });

  it('conn.identity() (id URL with format=json and oauth_token) returns the user', async () => {
    const { conn } = await connect(world.apps.web);
    const id = await conn.identity();
    assert.equal(id.username, 'alice@localhost');
    assert.equal(id.user_id, world.users.alice.user_id);
    assert.equal(id.organization_id, world.users.alice.org_id);
    assert.equal(id.email, 'alice@localhost');
    assert.equal(id.display_name, 'Alice Smith');
    assert.equal(id.active, true);
    assert.equal(id.id, `${world.issuer}/id/${world.users.alice.org_id}/${world.users.alice.user_id}`);
    assert.ok(id.urls && typeof id.urls === 'object', 'identity has urls');
  });

  it('conn.request on a protected endpoint refreshes an expired access token transparently', async () => {
    const { conn } = await connect(world.apps.short);
    const first = conn.accessToken;
    const refreshed = [];
    conn.on('refresh', (accessToken, res) => refreshed.push({ accessToken, res }));
    const before = await conn.request('/services/oauth2/userinfo');
    assert.equal(before.user_id, world.users.alice.user_id);
    assert.equal(refreshed.length, 0, 'no refresh while the token is valid');
    await sleep(3200);
    const after = await conn.request('/services/oauth2/userinfo');
    assert.equal(after.user_id, world.users.alice.user_id);
    assert.equal(refreshed.length, 1, 'jsforce refreshed once');
    assert.notEqual(conn.accessToken, first);
    assert.equal(refreshed[0].accessToken, conn.accessToken);
    assert.equal(refreshed[0].res.instance_url, world.issuer);
    const id = await conn.identity();
    assert.equal(id.username, 'alice@localhost');
  });

  it('conn.identity() after expiry refreshes and retries (fresh header token, stale oauth_token in the URL)', async () => {
    const { conn } = await connect(world.apps.short);
    let refreshes = 0;
    conn.on('refresh', () => { refreshes += 1; });
    await sleep(3200);
    const id = await conn.identity();
    assert.equal(id.username, 'alice@localhost');
    assert.equal(refreshes, 1);
  });

  it('oauth2.revokeToken(refreshToken) revokes it: a later refresh is invalid_grant', async () => {
    const { conn } = await connect(world.apps.web);
    const oauth2 = oauth2For(world.apps.web);
    await oauth2.revokeToken(conn.refreshToken);
    await assert.rejects(oauth2.refreshToken(conn.refreshToken), (e) => e.name === 'invalid_grant',
      'refresh with a revoked token is invalid_grant');
  });
});
