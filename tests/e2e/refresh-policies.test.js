// docs/behaviour.md §5.4 refresh token flow and policies: immediately, expire-after:N, rotate, until-revoked.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './lib/server.js';
import {
  codeFlow, refresh, assertTokenError, assertTokenSuccess, assertInvalidSession, userinfo, introspect, sleep, show,
} from './lib/oauth.js';

describe('refresh token policies (docs/behaviour.md §5.4)', { concurrency: true, timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({
      apps: {
        immediately: { scopes: 'api refresh_token', refreshPolicy: 'immediately' },
        expiring: { scopes: 'api refresh_token', refreshPolicy: 'expire-after:2' },
        rotate: { scopes: 'api refresh_token openid', refreshPolicy: 'rotate' },
        forever: { scopes: 'api refresh_token openid', refreshPolicy: 'until-revoked' },
        other: { scopes: 'api refresh_token', refreshPolicy: 'until-revoked' },
      },
    });
  });
  after(async () => { await world?.stop(); });

  it('immediately: no refresh_token is issued', async () => {
    const { tokens } = await codeFlow(world, { app: world.apps.immediately });
    assert.ok(!('refresh_token' in tokens), `refresh_token must be absent: ${JSON.stringify(tokens)}`);
  });

  it('expire-after:2: refresh works at once and fails after 3 s with invalid_grant "expired access/refresh token"', async () => {
    const app = world.apps.expiring;
    const { tokens } = await codeFlow(world, { app });
    assert.ok(tokens.refresh_token);
    const t = assertTokenSuccess(await refresh(world, app, tokens.refresh_token));
    const rt = t.refresh_token ?? tokens.refresh_token;
    await sleep(3200);
    assertTokenError(await refresh(world, app, rt), 'invalid_grant', { description: 'expired access/refresh token' });
  });

  it('rotate: every refresh returns a new refresh token; reusing an old one is invalid_grant and revokes the family', async () => {
    const app = world.apps.rotate;
    const { tokens } = await codeFlow(world, { app });
    const rt1 = tokens.refresh_token;
    const r2 = assertTokenSuccess(await refresh(world, app, rt1));
    assert.ok(r2.refresh_token, 'rotate returns a refresh token on refresh');
    assert.notEqual(r2.refresh_token, rt1);
    const r3 = assertTokenSuccess(await refresh(world, app, r2.refresh_token));
    assert.ok(r3.refresh_token);
    assert.notEqual(r3.refresh_token, r2.refresh_token);
    const before = await userinfo(world, r3.access_token);
    assert.equal(before.status, 200, show(before));
    // Reuse of an already rotated refresh token.
    assertTokenError(await refresh(world, app, rt1), 'invalid_grant');
    // The whole family is gone: newest refresh token and its access token.
    assertTokenError(await refresh(world, app, r3.refresh_token), 'invalid_grant');
    assertInvalidSession(await userinfo(world, r3.access_token), 'newest access token of a revoked family:');
  });

  it('rotate: a refresh token rotated away introspects as {"active":false}, its successor as active (RFC 7662 §2.2)', async () => {
    const app = world.apps.rotate;
    const { tokens } = await codeFlow(world, { app });
    const before = await introspect(world, app, tokens.refresh_token);
    assert.equal(before.json?.active, true, show(before));
    assert.equal(before.json.token_type, 'refresh_token', show(before));
    const next = assertTokenSuccess(await refresh(world, app, tokens.refresh_token));
    const old = await introspect(world, app, tokens.refresh_token);
    assert.equal(old.status, 200, show(old));
    assert.deepEqual(old.json, { active: false }, `the rotated refresh token: ${show(old)}`);
    const successor = await introspect(world, app, next.refresh_token);
    assert.equal(successor.json?.active, true, show(successor));
    // Introspecting it revoked nothing: the successor still refreshes.
    assertTokenSuccess(await refresh(world, app, next.refresh_token));
  });

  it('until-revoked: the same refresh token works repeatedly', async () => {
    const app = world.apps.forever;
    const { tokens } = await codeFlow(world, { app });
    const seen = new Set([tokens.access_token]);
    for (let i = 0; i < 3; i++) {
      const t = assertTokenSuccess(await refresh(world, app, tokens.refresh_token));
      if ('refresh_token' in t) assert.equal(t.refresh_token, tokens.refresh_token, 'until-revoked keeps the refresh token');
      assert.ok(!seen.has(t.access_token), 'each refresh mints a new access token');
      seen.add(t.access_token);
      const ui = await userinfo(world, t.access_token);
      assert.equal(ui.status, 200, show(ui));
    }
  });

  it('a refresh token of one app is invalid_grant for another app', async () => {
    const { tokens } = await codeFlow(world, { app: world.apps.forever });
    assertTokenError(await refresh(world, world.apps.other, tokens.refresh_token), 'invalid_grant');
  });

  it('an unknown refresh token is invalid_grant', async () => {
    assertTokenError(await refresh(world, world.apps.forever, 'bogus-refresh-token-' + Date.now()), 'invalid_grant');
  });
});

// serve --refresh-reuse-grace (docs/behaviour.md §5.4): a client that lost the response to a
// refresh retries with the same token within the window and gets a new pair; once the window
// (counted from the first use) is over, the reuse revokes the family as without it.
describe('rotate with a reuse grace window (docs/behaviour.md §5.4)', { timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({
      apps: { rotate: { scopes: 'api refresh_token', refreshPolicy: 'rotate' } },
      serve: { extraArgs: ['--refresh-reuse-grace', '2'] },
    });
  });
  after(async () => { await world?.stop(); });

  it('a retry within 2 s gets a new pair, the lost pair stays valid, a reuse after 2 s revokes the family', async () => {
    const app = world.apps.rotate;
    const { tokens } = await codeFlow(world, { app });
    const lost = assertTokenSuccess(await refresh(world, app, tokens.refresh_token));
    const retry = assertTokenSuccess(await refresh(world, app, tokens.refresh_token));
    assert.ok(retry.refresh_token);
    assert.notEqual(retry.refresh_token, lost.refresh_token);
    assert.equal((await userinfo(world, lost.access_token)).status, 200, 'the lost pair was revoked by the retry');
    assert.equal((await userinfo(world, retry.access_token)).status, 200);

    await sleep(2300);
    assertTokenError(await refresh(world, app, tokens.refresh_token), 'invalid_grant',
      { description: 'expired access/refresh token' });
    assertInvalidSession(await userinfo(world, retry.access_token), 'access token of the retried pair:');
    assertTokenError(await refresh(world, app, retry.refresh_token), 'invalid_grant');
  });
});
