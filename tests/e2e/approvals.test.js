// The approval model from the command line (docs/behaviour.md §5.6 approval rule; issue: server-to-server
// flows, item 1): pre-authorizing by permission set, listing approvals, removing a
// pre-authorization and revoking a user's own approval — each checked by what the JWT bearer
// flow then allows; and a refresh token of an admin-approved app, which stops working once its
// user is no longer covered (pre-authorization withdrawn, profile or permission sets changed).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { startWorld, makeTempDir, cli, eventually } from './lib/server.js';
import { makeCert } from './lib/keys.js';
import {
  tokenRequest, assertTokenError, assertTokenSuccess, getCode, exchangeCode, refresh, userinfo, show,
} from './lib/oauth.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const NOT_APPROVED = "user hasn't approved this consumer";

describe('approval model CLI', { timeout: 60000 }, () => {
  let world;
  let keyDir;
  let cert;

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-approvals-');
    cert = await makeCert(keyDir, 'app');
    cert.key = await importPKCS8(cert.keyPem, 'RS256');
    world = await startWorld({
      users: {
        alice: { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' },
        bot: { username: 'bot@localhost', name: 'Batch Bot', email: 'bot@localhost' },
        erin: { username: 'erin@localhost', name: 'Erin Nightly', email: 'erin@localhost', extra: ['--profile', 'Nightly Jobs'] },
        frank: { username: 'frank@localhost', name: 'Frank Nightly', email: 'frank@localhost', extra: ['--profile', 'Nightly Jobs'] },
        gina: { username: 'gina@localhost', name: 'Gina Reports', email: 'gina@localhost', extra: ['--permission-set', 'Reports'] },
        hank: { username: 'hank@localhost', name: 'Hank Leaving', email: 'hank@localhost', extra: ['--profile', 'Nightly Jobs'] },
      },
      apps: {
        admin: { scopes: 'api', extra: ['--cert', cert.certPath, '--permitted-users', 'admin-approved'] },
        self: { scopes: 'api openid', extra: ['--cert', cert.certPath, '--permitted-users', 'all'] },
        // Web-flow apps with refresh tokens; covered users: profile "Nightly Jobs", set "Reports".
        nightly: { scopes: 'api refresh_token', extra: ['--permitted-users', 'admin-approved'] },
        reports: { scopes: 'api refresh_token', extra: ['--permitted-users', 'admin-approved'] },
      },
    });
    await cli(world.db, ['app', 'preauthorize', '--client-id', world.apps.nightly.client_id, '--profile', 'Nightly Jobs']);
    for (const pre of [['--profile', 'Nightly Jobs'], ['--permission-set', 'Reports']]) {
      await cli(world.db, ['app', 'preauthorize', '--client-id', world.apps.reports.client_id, ...pre]);
    }
  });
  after(async () => {
    await world?.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  async function bearer(app, user) {
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ iss: app.client_id, sub: user.username, aud: world.issuer, exp: now + 120, jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256' }).sign(cert.key);
    return tokenRequest(world.issuer, { grant_type: GRANT, assertion: jwt });
  }

  it('permission-set pre-authorization: granted by user update + app preauthorize, withdrawn by app unpreauthorize', async () => {
    const app = world.apps.admin;
    const bot = world.users.bot;
    assertTokenError(await bearer(app, bot), 'invalid_grant', { description: NOT_APPROVED });

    const pre = await cli(world.db, ['app', 'preauthorize', '--client-id', app.client_id, '--permission-set', 'API Only']);
    assert.deepEqual(pre.preauthorized, [{ kind: 'permission_set', name: 'API Only' }]);
    // Pre-authorized set, but the user does not hold it yet.
    assertTokenError(await bearer(app, bot), 'invalid_grant', { description: NOT_APPROVED });
    const upd = await cli(world.db, ['user', 'update', '--username', bot.username, '--permission-set', 'API Only']);
    assert.deepEqual(upd.permission_sets, ['API Only']);
    assertTokenSuccess(await bearer(app, bot));

    const listed = await cli(world.db, ['app', 'approvals', '--client-id', app.client_id]);
    assert.equal(listed.permitted_users, 'admin-approved');
    assert.deepEqual(listed.preauthorized, [{ kind: 'permission_set', name: 'API Only' }]);

    const un = await cli(world.db, ['app', 'unpreauthorize', '--client-id', app.client_id, '--permission-set', 'API Only']);
    assert.deepEqual(un.preauthorized, []);
    assertTokenError(await bearer(app, bot), 'invalid_grant', { description: NOT_APPROVED });
  });

  it("a user's own approval: listed by app approvals; app revoke-approval forgets it and revokes the user's tokens", async () => {
    const app = world.apps.self;
    const alice = world.users.alice;
    assertTokenError(await bearer(app, alice), 'invalid_grant', { description: NOT_APPROVED });
    // Alice approves the app once through the web flow.
    await getCode(world, { app, user: alice });
    const listed = await cli(world.db, ['app', 'approvals', '--client-id', app.client_id]);
    assert.deepEqual(listed.approved_by.map((a) => a.username), ['alice@localhost']);
    const t = assertTokenSuccess(await bearer(app, alice));
    assert.equal((await userinfo(world, t.access_token)).status, 200);

    const out = await cli(world.db, ['app', 'revoke-approval', '--client-id', app.client_id, '--username', alice.username]);
    assert.ok(out.revoked_tokens >= 1, JSON.stringify(out));
    // The server sees the CLI's revocation once its cached copy of the token is older than
    // --cache-ms (1 s by default); until then a token it already checked is served from memory.
    const after = await eventually(() => userinfo(world, t.access_token), (r) => r.status === 401);
    assert.equal(after.status, 401, show(after));
    assertTokenError(await bearer(app, alice), 'invalid_grant', { description: NOT_APPROVED });
    const again = await cli(world.db, ['app', 'approvals', '--client-id', app.client_id]);
    assert.deepEqual(again.approved_by, []);
  });

  /** A refresh token from the web flow; checks it refreshes once. */
  async function refreshTokenOf(app, user) {
    const got = await getCode(world, { app, user });
    const t = assertTokenSuccess(await exchangeCode(world, app, got));
    assert.ok(t.refresh_token, show({ status: 200, text: JSON.stringify(t) }));
    assertTokenSuccess(await refresh(world, app, t.refresh_token));
    return t.refresh_token;
  }

  /** Refreshes until refused (the server reads changes once its cache is older than 1 s). */
  function refusedRefresh(app, rt) {
    return eventually(() => refresh(world, app, rt), (r) => r.status !== 200);
  }

  it('refresh token of an admin-approved app: refused once app unpreauthorize withdraws its user\'s profile', async () => {
    const app = world.apps.nightly;
    const rt = await refreshTokenOf(app, world.users.erin);
    await cli(world.db, ['app', 'unpreauthorize', '--client-id', app.client_id, '--profile', 'Nightly Jobs']);
    assertTokenError(await refusedRefresh(app, rt), 'invalid_grant', { description: NOT_APPROVED });
  });

  it('refresh token of an admin-approved app: refused once user update moves the user out of the covered profile or permission set', async () => {
    const app = world.apps.reports;
    const byProfile = await refreshTokenOf(app, world.users.frank);
    const bySet = await refreshTokenOf(app, world.users.gina);
    await cli(world.db, ['user', 'update', '--username', 'frank@localhost', '--profile', 'Standard User']);
    await cli(world.db, ['user', 'update', '--username', 'gina@localhost', '--clear-permission-sets']);
    assertTokenError(await refusedRefresh(app, byProfile), 'invalid_grant', { description: NOT_APPROVED });
    assertTokenError(await refusedRefresh(app, bySet), 'invalid_grant', { description: NOT_APPROVED });
  });

  it('refresh token of an admin-approved app: refused once the user is deactivated', async () => {
    // Deactivation also revokes the user's tokens; the refresh grant checks the user itself too
    // (unit test RefreshTokenGrantTest.InactiveUserIsRefused).
    const app = world.apps.reports;
    const rt = await refreshTokenOf(app, world.users.hank);
    await cli(world.db, ['user', 'update', '--username', 'hank@localhost', '--active', 'false']);
    assertTokenError(await refusedRefresh(app, rt), 'invalid_grant');
  });
});
