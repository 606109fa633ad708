// The Salesforce CLI's web login (`sf org login web`), as the CLI sends it, driven in Chromium:
// the public app `PlatformCLI` registered with `app create --client-id`, redirect
// http://localhost:1717/OauthRedirect, scopes `refresh_token api web`, prompt=login, and a PKCE
// challenge without code_challenge_method (taken as S256, docs/behaviour.md §5.2); the code is
// exchanged without a secret, then userinfo must name the user with that token (§8), and the
// CLI's doubled slashes (`//services/data`) reach the right resource (§4). And the JWT access
// tokens `sf org login access-token` takes: header typ "JWT" (--token-format jwt-sf, §5.12).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import jsforce from 'jsforce';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { startWorld } from './lib/server.js';
import { authorizeUrl, pkcePair, tokenRequest, assertTokenSuccess, assertTokenError, callApi, codeFlow, introspect, show } from './lib/oauth.js';
import { launchChromium } from './lib/browser.js';

// The redirect to localhost:1717 is read from the request and goes nowhere: the real CLI's
// own listener there (sf-cli-web.test.js, which may run meanwhile) must not get our codes.
const EXTRA_ARGS = ['--host-resolver-rules=MAP localhost ~NOTFOUND'];
const REDIRECT = 'http://localhost:1717/OauthRedirect';
const SCOPES = 'refresh_token api web';

describe('Salesforce CLI web login (PlatformCLI)', { concurrency: false, timeout: 90000 }, () => {
  let world;
  let browser;

  before(async () => {
    world = await startWorld({
      apps: {
        cli: {
          name: 'Salesforce CLI', callbacks: [REDIRECT], scopes: SCOPES,
          extra: ['--client-id', 'PlatformCLI', '--token-endpoint-auth-method', 'none'],
        },
        jwtsf: { scopes: 'refresh_token api web', extra: ['--token-format', 'jwt-sf'] },
      },
    });
    browser = await launchChromium(EXTRA_ARGS);
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await world?.stop();
  });

  /** Logs in through the pages and returns the URL the browser was sent to at REDIRECT. Nothing
   *  need listen on port 1717: the redirect is read from the request Chromium makes. */
  async function webLogin(params) {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const redirected = page.waitForRequest((req) => req.url().startsWith(REDIRECT), { timeout: 20000 });
      await page.goto(authorizeUrl(world.issuer, params));
      await page.getByLabel(/user ?name/i).fill(world.users.alice.username);
      await page.getByLabel(/password/i).fill(world.users.alice.password);
      await page.getByRole('button', { name: /log ?in/i }).click();
      // The consent page comes the first time only; later logins redirect at once.
      const allow = page.getByRole('button', { name: /allow/i });
      const first = await Promise.race([
        redirected.then(() => 'redirected'),
        allow.waitFor({ timeout: 10000 }).then(() => 'consent', () => 'redirected'),
      ]);
      if (first === 'consent') await allow.click();
      return new URL((await redirected).url());
    } finally {
      await context.close();
    }
  }

  it('registers PlatformCLI as chosen, as a public client without a secret', () => {
    assert.equal(world.apps.cli.client_id, 'PlatformCLI');
    assert.equal(world.apps.cli.client_secret, undefined);
    assert.equal(world.apps.cli.token_endpoint_auth_method, 'none');
  });

  it('authorize (challenge without method) → code → exchange without secret → userinfo names the user', async () => {
    // As sfdx-core's web login builds it: jsforce's OAuth2 with useVerifier (a verifier of 128
    // random bytes, base64url: 171 characters) and no client secret.
    const oauth2 = new jsforce.OAuth2({
      loginUrl: world.issuer, clientId: 'PlatformCLI', redirectUri: REDIRECT, useVerifier: true,
    });
    assert.equal(oauth2.codeVerifier.length, 171);
    const state = 'sf-cli-state';
    const url = new URL(oauth2.getAuthorizationUrl({ scope: SCOPES, state, prompt: 'login' }));
    assert.ok(url.searchParams.get('code_challenge'), url.href);
    assert.equal(url.searchParams.get('code_challenge_method'), null, 'jsforce sends no method');
    const cb = await webLogin(Object.fromEntries(url.searchParams));
    assert.equal(cb.searchParams.get('state'), state, cb.href);
    const code = cb.searchParams.get('code');
    assert.ok(code, cb.href);

    const tokens = await oauth2.requestToken(code);
    assert.ok(tokens.access_token);
    assert.equal(tokens.scope, SCOPES);
    assert.ok(tokens.refresh_token, 'refresh_token scope gives a refresh token');
    assert.equal(tokens.signature, undefined, 'no secret was presented, so no signature');

    const info = await callApi(`${world.issuer}/services/oauth2/userinfo`, tokens.access_token);
    assert.equal(info.status, 200, show(info));
    assert.equal(info.json.user_id, world.users.alice.user_id);
    assert.equal(info.json.organization_id, world.users.alice.org_id);

    // The CLI refreshes with client_id only.
    const refreshed = await tokenRequest(world.issuer, {
      grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'PlatformCLI',
    });
    assertTokenSuccess(refreshed);
  });

  it('a challenge without method is checked as S256: the verifier itself as challenge (plain) does not redeem', async () => {
    const { verifier } = pkcePair();
    const cb = await webLogin({
      response_type: 'code', client_id: 'PlatformCLI', redirect_uri: REDIRECT, prompt: 'login',
      scope: SCOPES, state: 's2', code_challenge: verifier.slice(0, 43),
    });
    const code = cb.searchParams.get('code');
    assert.ok(code, cb.href);
    const r = await tokenRequest(world.issuer, {
      grant_type: 'authorization_code', code, client_id: 'PlatformCLI', redirect_uri: REDIRECT,
      code_verifier: verifier.slice(0, 43),
    });
    assertTokenError(r, 'invalid_grant', { description: 'invalid code verifier' });
  });

  it('--token-format jwt-sf: a typ "JWT" access token that jose verifies against the JWKS and latchkey accepts', async () => {
    const app = world.apps.jwtsf;
    const { tokens } = await codeFlow(world, { app, scope: 'refresh_token api web' });
    const header = decodeProtectedHeader(tokens.access_token);
    // The Salesforce CLI's matchesJwtAccessToken: typ exactly "JWT" (RFC 9068's at+jwt is refused).
    assert.equal(header.typ, 'JWT');
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid);
    const jwks = createRemoteJWKSet(new URL(`${world.issuer}/id/keys`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: world.issuer, audience: world.issuer, typ: 'JWT',
    });
    assert.equal(payload.client_id, app.client_id);
    assert.equal(payload.scope, 'refresh_token api web');
    assert.equal(payload.sub, tokens.id);
    const info = await callApi(`${world.issuer}/services/oauth2/userinfo`, tokens.access_token);
    assert.equal(info.status, 200, show(info));
    assert.equal(info.json.user_id, world.users.alice.user_id);
    assert.equal(info.json.organization_id, world.users.alice.org_id);
    const data = await callApi(`${world.issuer}/services/data/v62.0/`, tokens.access_token);
    assert.equal(data.status, 200, show(data));
    assert.equal((await introspect(world, app, tokens.access_token)).json?.active, true);
    // A refreshed token is one too.
    const refreshed = assertTokenSuccess(await tokenRequest(world.issuer, {
      grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: app.client_id, client_secret: app.client_secret,
    }));
    assert.equal(decodeProtectedHeader(refreshed.access_token).typ, 'JWT');
  });

  it('//services/data (a doubled slash, as the CLI builds it) answers like /services/data', async () => {
    const single = await callApi(`${world.issuer}/services/data`, null);
    const doubled = await callApi(`${world.issuer}//services//data`, null);
    assert.equal(single.status, 200, show(single));
    assert.equal(doubled.status, 200, show(doubled));
    assert.deepEqual(doubled.json, single.json);
    assert.ok(Array.isArray(doubled.json) && doubled.json.length > 0, show(doubled));
  });
});
