// docs/behaviour.md §5.2 PKCE (RFC 7636): S256 only, verifier rules, --pkce required.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './lib/server.js';
import { describeResult } from './lib/driver.js';
import { getCode, exchangeCode, assertTokenError, assertTokenSuccess, pkcePair, b64url } from './lib/oauth.js';

describe('PKCE (docs/behaviour.md §5.2)', { concurrency: true, timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({
      apps: {
        web: { scopes: 'api refresh_token' },
        strict: { scopes: 'api refresh_token', pkce: 'required' },
      },
    });
  });
  after(async () => { await world?.stop(); });

  function assertErrorRedirect(got, error) {
    assert.ok(got.result.location, `expected an error redirect to the callback: ${describeResult(got.result)}`);
    assert.equal(got.result.params.get('error'), error, got.result.location);
    assert.equal(got.result.params.get('code'), null, `no code may be issued: ${got.result.location}`);
    assert.equal(got.result.params.get('state'), got.state);
  }

  it('S256 with the right verifier works (control)', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    assertTokenSuccess(await exchangeCode(world, app, got));
  });

  it('code_challenge_method=plain is refused at authorize (invalid_request)', async () => {
    const verifier = b64url(Buffer.alloc(32, 7));
    const got = await getCode(world, {
      app: world.apps.web, pkce: false, expectCode: false,
      extra: { code_challenge: verifier, code_challenge_method: 'plain' },
    });
    assertErrorRedirect(got, 'invalid_request');
  });

  it('an unknown code_challenge_method is refused (invalid_request)', async () => {
    const { challenge } = pkcePair();
    const got = await getCode(world, {
      app: world.apps.web, pkce: false, expectCode: false,
      extra: { code_challenge: challenge, code_challenge_method: 'S512' },
    });
    assertErrorRedirect(got, 'invalid_request');
  });

  it('a wrong verifier → invalid_grant "invalid code verifier"', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    const other = pkcePair().verifier;
    assertTokenError(await exchangeCode(world, app, got, { verifier: other }), 'invalid_grant', { description: 'invalid code verifier' });
  });

  it('a missing verifier where a challenge was sent → invalid_grant', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app });
    assertTokenError(await exchangeCode(world, app, got, { verifier: null }), 'invalid_grant');
  });

  it('a verifier sent where no challenge was sent → invalid_grant', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app, pkce: false });
    assertTokenError(await exchangeCode(world, app, got, { verifier: pkcePair().verifier }), 'invalid_grant');
  });

  it('no PKCE at all works for a confidential app with optional PKCE (control)', async () => {
    const app = world.apps.web;
    const got = await getCode(world, { app, pkce: false });
    assertTokenSuccess(await exchangeCode(world, app, got));
  });

  it('--pkce required: an authorize request without a challenge is refused (invalid_request)', async () => {
    const got = await getCode(world, { app: world.apps.strict, pkce: false, expectCode: false });
    assertErrorRedirect(got, 'invalid_request');
  });

  it('--pkce required: with S256 it works', async () => {
    const app = world.apps.strict;
    const got = await getCode(world, { app });
    assertTokenSuccess(await exchangeCode(world, app, got));
  });
});
