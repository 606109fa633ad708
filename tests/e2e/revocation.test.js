// docs/behaviour.md §4 revoke endpoint: POST token=, GET ?token=, revoking a refresh token revokes its
// access tokens; revoked tokens get the INVALID_SESSION_ID 401 everywhere (§7).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './lib/server.js';
import {
  codeFlow, refresh, revoke, assertTokenError, assertTokenSuccess, assertInvalidSession, userinfo, callApi, show,
} from './lib/oauth.js';

describe('revocation', { concurrency: true, timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({ apps: { web: { scopes: 'api refresh_token openid', refreshPolicy: 'until-revoked' } } });
  });
  after(async () => { await world?.stop(); });

  async function family() {
    const app = world.apps.web;
    const { tokens } = await codeFlow(world, { app });
    const r = assertTokenSuccess(await refresh(world, app, tokens.refresh_token));
    for (const at of [tokens.access_token, r.access_token]) {
      const ui = await userinfo(world, at);
      assert.equal(ui.status, 200, show(ui));
    }
    return { rt: tokens.refresh_token, ats: [tokens.access_token, r.access_token], id: tokens.id };
  }

  async function assertFamilyRevoked(f) {
    for (const at of f.ats) assertInvalidSession(await userinfo(world, at), 'access token of a revoked refresh token:');
    assertTokenError(await refresh(world, world.apps.web, f.rt), 'invalid_grant');
  }

  it('POST /services/oauth2/revoke token=<refresh token> revokes it and all its access tokens', async () => {
    const f = await family();
    const r = await revoke(world, f.rt);
    assert.equal(r.status, 200, show(r));
    await assertFamilyRevoked(f);
  });

  it('GET /services/oauth2/revoke?token=<refresh token> revokes it and all its access tokens', async () => {
    const f = await family();
    const r = await revoke(world, f.rt, { method: 'GET' });
    assert.equal(r.status, 200, show(r));
    await assertFamilyRevoked(f);
  });

  it('revoking an access token makes it fail with 401 INVALID_SESSION_ID on every protected endpoint', async () => {
    const f = await family();
    const r = await revoke(world, f.ats[1]);
    assert.equal(r.status, 200, show(r));
    assertInvalidSession(await userinfo(world, f.ats[1]), 'userinfo:');
    assertInvalidSession(await callApi(f.id, f.ats[1]), 'identity URL:');
    assertInvalidSession(await callApi(`${world.issuer}/services/data/v59.0/`, f.ats[1]), '/services/data/v59.0/:');
  });

  it('revoke without a token parameter → 400 invalid_request', async () => {
    const r = await fetch(`${world.issuer}/services/oauth2/revoke`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '',
    });
    const text = await r.text();
    assert.equal(r.status, 400, text);
    assert.match(text, /invalid_request/);
  });
});
