// docs/behaviour.md §5.1/§5.3/§5.4/§6: client authentication at the token endpoint, public clients,
// duplicated parameters and unknown grant types.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './lib/server.js';
import { describeResult } from './lib/driver.js';
import {
  getCode, exchangeCode, codeFlow, tokenRequest, assertTokenError, assertTokenSuccess, refresh,
  userinfo, show,
} from './lib/oauth.js';

describe('client authentication (docs/behaviour.md §5.1, §5.3, §5.4)', { concurrency: true, timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({
      apps: {
        web: { scopes: 'api refresh_token' },
        pub: { scopes: 'api refresh_token openid', requireSecretWebServer: false, requireSecretRefresh: false },
        pubRefreshSecret: { scopes: 'api refresh_token', requireSecretWebServer: false },
      },
    });
  });
  after(async () => { await world?.stop(); });

  const codeParams = (app, got, extra = {}) => ({
    grant_type: 'authorization_code', code: got.code, redirect_uri: got.redirectUri, code_verifier: got.verifier, ...extra,
  });

  it('a missing client secret → invalid_client "invalid client credentials" (default app, even with PKCE)', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    const r = await tokenRequest(world.issuer, codeParams(app, got, { client_id: app.client_id }));
    assertTokenError(r, 'invalid_client', { description: 'invalid client credentials' });
  });

  it('a wrong client secret in the body → 400 invalid_client "invalid client credentials"', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    const r = await tokenRequest(world.issuer, codeParams(app, got, { client_id: app.client_id, client_secret: app.client_secret + 'x' }));
    assertTokenError(r, 'invalid_client', { description: 'invalid client credentials' });
  });

  it('a wrong client secret with Basic → 401 invalid_client with a Basic WWW-Authenticate challenge', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    const r = await tokenRequest(world.issuer, codeParams(app, got), { basic: [app.client_id, 'wrong-' + app.client_secret] });
    assertTokenError(r, 'invalid_client', { status: 401, description: 'invalid client credentials' });
    assert.match(r.headers.get('www-authenticate') || '', /^Basic\b/i, `WWW-Authenticate: ${r.headers.get('www-authenticate')}`);
  });

  it('an unknown client_id at the token endpoint → invalid_client', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    const r = await tokenRequest(world.issuer, codeParams(app, got, { client_id: '3MVG9nobody', client_secret: app.client_secret }));
    assertTokenError(r, 'invalid_client');
  });

  it('the secret in both Basic and the body → invalid_request (one method per request)', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    const r = await tokenRequest(world.issuer,
      codeParams(app, got, { client_id: app.client_id, client_secret: app.client_secret }),
      { basic: [app.client_id, app.client_secret] });
    assertTokenError(r, 'invalid_request');
  });

  it('client_secret_post and client_secret_basic both work for a confidential app', async () => {
    const app = world.apps.web;
    await codeFlow(world, { app, exchange: { auth: 'post' } });
    await codeFlow(world, { app, exchange: { auth: 'basic' } });
  });

  it('--require-secret-web-server false: the code exchange without a secret works with PKCE', async () => {
    const app = world.apps.pub;
    const got = await getCode(world, { app });
    const t = assertTokenSuccess(await exchangeCode(world, app, got, { auth: 'none' }));
    const ui = await userinfo(world, t.access_token);
    assert.equal(ui.status, 200, show(ui));
  });

  it('--require-secret-web-server false: an authorize request without a code_challenge is refused (invalid_request)', async () => {
    const app = world.apps.pub;
    const got = await getCode(world, { app, pkce: false, expectCode: false });
    assert.ok(got.result.location, `expected an error redirect: ${describeResult(got.result)}`);
    assert.equal(got.result.params.get('error'), 'invalid_request', got.result.location);
    assert.equal(got.result.params.get('state'), got.state);
    assert.equal(got.result.params.get('code'), null);
  });

  it('--require-secret-web-server false: a public client still needs the right verifier', async () => {
    const app = world.apps.pub;
    const got = await getCode(world, { app });
    const r = await exchangeCode(world, app, got, { auth: 'none', verifier: got.verifier.slice(1) + 'A' });
    assertTokenError(r, 'invalid_grant', { description: 'invalid code verifier' });
  });

  it('--require-secret-web-server false: a wrong secret, when one is sent, is still invalid_client', async () => {
    const app = world.apps.pub;
    const got = await getCode(world, { app });
    const r = await tokenRequest(world.issuer, codeParams(app, got, { client_id: app.client_id, client_secret: 'not-the-secret' }));
    assertTokenError(r, 'invalid_client');
  });

  it('refresh without the secret → invalid_client while --require-secret-refresh is on (default)', async () => {
    const app = world.apps.web;
    const { tokens } = await codeFlow(world, { app });
    assertTokenError(await refresh(world, app, tokens.refresh_token, { auth: 'none' }), 'invalid_client');
    assertTokenSuccess(await refresh(world, app, tokens.refresh_token));
  });

  it('refresh without the secret → invalid_client for a public web-server app whose refresh still needs a secret', async () => {
    const app = world.apps.pubRefreshSecret;
    const got = await getCode(world, { app });
    const t = assertTokenSuccess(await exchangeCode(world, app, got, { auth: 'none' }));
    assert.ok(t.refresh_token);
    assertTokenError(await refresh(world, app, t.refresh_token, { auth: 'none' }), 'invalid_client');
  });

  it('refresh without the secret works when --require-secret-refresh is false', async () => {
    const app = world.apps.pub;
    const got = await getCode(world, { app });
    const t = assertTokenSuccess(await exchangeCode(world, app, got, { auth: 'none' }));
    assert.ok(t.refresh_token);
    const r = assertTokenSuccess(await refresh(world, app, t.refresh_token, { auth: 'none' }));
    const ui = await userinfo(world, r.access_token);
    assert.equal(ui.status, 200, show(ui));
  });

  it('a parameter given twice at the token endpoint → invalid_request', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    const base = [
      ['grant_type', 'authorization_code'], ['code', got.code], ['redirect_uri', got.redirectUri],
      ['code_verifier', got.verifier], ['client_id', app.client_id], ['client_secret', app.client_secret],
    ];
    for (const dup of ['grant_type', 'code', 'client_id']) {
      const params = [...base, base.find(([k]) => k === dup)];
      assertTokenError(await tokenRequest(world.issuer, params), 'invalid_request');
    }
  });

  it('an unknown grant_type → unsupported_grant_type', async () => {
    const app = world.apps.web;
    const r = await tokenRequest(world.issuer, { grant_type: 'urn:example:bogus', client_id: app.client_id, client_secret: app.client_secret });
    assertTokenError(r, 'unsupported_grant_type');
  });

  it('a missing grant_type → invalid_request', async () => {
    const app = world.apps.web;
    const r = await tokenRequest(world.issuer, { client_id: app.client_id, client_secret: app.client_secret });
    assertTokenError(r, 'invalid_request');
  });

  it('a malformed Basic header → 4xx JSON error, not a crash', async () => {
    const r = await tokenRequest(world.issuer, { grant_type: 'authorization_code', code: 'x', redirect_uri: 'http://127.0.0.1:9/cb' },
      { headers: { authorization: 'Basic !!!not-base64' } });
    assert.ok(r.status === 400 || r.status === 401, show(r));
    assert.ok(['invalid_client', 'invalid_request'].includes(r.json?.error), show(r));
  });
});
