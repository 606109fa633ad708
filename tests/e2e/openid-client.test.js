// openid-client (v6): discovery, authorization code + PKCE, ID token, userinfo, refresh,
// introspection and revocation, as a standard OIDC relying party sees latchkey.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { startWorld } from './lib/server.js';
import { Browser, describeResult } from './lib/driver.js';

const SCOPES = 'api refresh_token openid profile email';

describe('openid-client relying party', { concurrency: true, timeout: 60000 }, () => {
  let world;
  let app;

  before(async () => {
    world = await startWorld({ apps: { web: { scopes: SCOPES } } });
    app = world.apps.web;
  });
  after(async () => { await world?.stop(); });

  async function configFor(auth) {
    const clientAuth = auth === 'basic' ? client.ClientSecretBasic(app.client_secret) : client.ClientSecretPost(app.client_secret);
    const config = await client.discovery(new URL(world.issuer), app.client_id, { client_secret: app.client_secret },
      clientAuth, { execute: [client.allowInsecureRequests] });
    // Verify ID token signatures against jwks_uri, not only the claims.
    client.enableNonRepudiationChecks(config);
    return config;
  }

  async function login(config) {
    const codeVerifier = client.randomPKCECodeVerifier();
    const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: app.callback, scope: SCOPES, code_challenge: codeChallenge,
      code_challenge_method: 'S256', state, nonce,
    });
    assert.equal(url.origin + url.pathname, `${world.issuer}/services/oauth2/authorize`);
    const browser = new Browser(world.issuer);
    const r = await browser.authorize(url.href, { username: world.users.alice.username, password: world.users.alice.password });
    assert.ok(r.location, `no callback redirect: ${describeResult(r)}`);
    const tokens = await client.authorizationCodeGrant(config, new URL(r.location), {
      pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
    });
    return { tokens, nonce, location: r.location };
  }

  it('discovers the server metadata from the issuer', async () => {
    const config = await configFor('basic');
    const md = config.serverMetadata();
    assert.equal(md.issuer, world.issuer);
    assert.equal(md.authorization_endpoint, `${world.issuer}/services/oauth2/authorize`);
    assert.equal(md.token_endpoint, `${world.issuer}/services/oauth2/token`);
    assert.equal(md.userinfo_endpoint, `${world.issuer}/services/oauth2/userinfo`);
    assert.equal(md.jwks_uri, `${world.issuer}/id/keys`);
  });

  it('code + PKCE S256 + state + nonce with client_secret_basic: ID token, userinfo, refresh, introspection, revocation', async () => {
    const config = await configFor('basic');
    const { tokens, nonce, location } = await login(config);
    const cb = new URL(location);
    if (cb.searchParams.has('iss')) assert.equal(cb.searchParams.get('iss'), world.issuer, 'iss in the authorization response');

    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token, 'refresh_token expected for an app with the refresh_token scope');
    const claims = tokens.claims();
    assert.equal(claims.iss, world.issuer);
    assert.equal(claims.aud, app.client_id);
    assert.equal(claims.nonce, nonce);
    assert.ok(claims.sub);

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.sub, claims.sub);
    assert.equal(info.preferred_username, 'alice@localhost');
    assert.equal(info.email, 'alice@localhost');
    assert.equal(info.name, 'Alice Smith');
    assert.equal(info.user_id, world.users.alice.user_id);
    assert.equal(info.organization_id, world.users.alice.org_id);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.access_token, tokens.access_token, 'refresh must mint a new access token');
    const info2 = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
    assert.equal(info2.sub, claims.sub);

    const atIntro = await client.tokenIntrospection(config, refreshed.access_token);
    assert.equal(atIntro.active, true);
    assert.equal(atIntro.token_type, 'access_token');
    assert.equal(atIntro.client_id, app.client_id);
    const rtIntro = await client.tokenIntrospection(config, tokens.refresh_token);
    assert.equal(rtIntro.active, true);
    assert.equal(rtIntro.token_type, 'refresh_token');

    await client.tokenRevocation(config, tokens.refresh_token, { token_type_hint: 'refresh_token' });
    const rtAfter = await client.tokenIntrospection(config, tokens.refresh_token);
    assert.equal(rtAfter.active, false, 'revoked refresh token must introspect inactive');
    const atAfter = await client.tokenIntrospection(config, refreshed.access_token);
    assert.equal(atAfter.active, false, 'access tokens of a revoked refresh token must introspect inactive');
    const at0After = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(at0After.active, false, 'the first access token of the revoked refresh token must be inactive');
    await assert.rejects(client.fetchUserInfo(config, refreshed.access_token, claims.sub), 'userinfo with a revoked token must fail');
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token),
      (e) => e.error === 'invalid_grant' || e.cause?.error === 'invalid_grant' || /invalid_grant/.test(String(e?.code ?? e?.message)),
      'refresh with a revoked refresh token must be invalid_grant');
  });

  it('code + PKCE with client_secret_post: ID token validated, userinfo subject matches', async () => {
    const config = await configFor('post');
    const { tokens, nonce } = await login(config);
    const claims = tokens.claims();
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.aud, app.client_id);
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.sub, claims.sub);
  });

  it('revoking an access token deactivates it (introspection active=false)', async () => {
    const config = await configFor('basic');
    const { tokens } = await login(config);
    await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
    const at = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(at.active, false);
  });

  it('introspection of an unknown token is active=false', async () => {
    const config = await configFor('basic');
    const r = await client.tokenIntrospection(config, 'not-a-real-token-' + Date.now());
    assert.equal(r.active, false);
  });
});
