// OIDC completeness: JWT access tokens (RFC 9068) for --token-format jwt apps, verified by jose
// against the JWKS, and signing-key rotation from the CLI (`keys rotate`): tokens signed
// before a rotation keep verifying, new ones carry the new kid.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { startWorld, startServer, cli } from './lib/server.js';
import { codeFlow, userinfo, introspect, show } from './lib/oauth.js';

describe('JWT access tokens and key rotation', { timeout: 60000 }, () => {
  let world;
  before(async () => {
    world = await startWorld({
      apps: {
        jwt: { callback: 'http://127.0.0.1:9/cb', scopes: 'api refresh_token openid', extra: ['--token-format', 'jwt'] },
      },
    });
  });
  after(async () => { await world?.stop(); });

  it('a --token-format jwt app gets an at+jwt access token that jose verifies and latchkey accepts', async () => {
    const app = world.apps.jwt;
    const { tokens } = await codeFlow(world, { app, scope: 'api refresh_token openid', nonce: 'n' });
    const header = decodeProtectedHeader(tokens.access_token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'RS256');
    const jwks = createRemoteJWKSet(new URL(`${world.issuer}/id/keys`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: world.issuer, audience: world.issuer, typ: 'at+jwt',
    });
    assert.equal(payload.client_id, app.client_id);
    assert.equal(payload.scope, 'api refresh_token openid');
    assert.equal(payload.sub, tokens.id);
    assert.ok(payload.jti);
    const ui = await userinfo(world, tokens.access_token);
    assert.equal(ui.status, 200, show(ui));
    const intro = await introspect(world, app, tokens.access_token);
    assert.equal(intro.json.active, true, show(intro));
  });

  it('keys rotate: after a restart new tokens use the new kid and old ones still verify', async () => {
    const app = world.apps.jwt;
    const before = await codeFlow(world, { app, scope: 'api openid', nonce: 'n1' });
    const oldKid = decodeProtectedHeader(before.tokens.id_token).kid;

    const out = await cli(world.db, ['keys', 'rotate', '--alg', 'RS256']);
    assert.ok(out.rotated.kid);
    assert.notEqual(out.rotated.kid, oldKid);
    const states = Object.fromEntries(out.keys.map((k) => [k.kid, k.state]));
    assert.equal(states[oldKid], 'retired, published');
    assert.equal(states[out.rotated.kid], 'active');

    // Restart on the same port so the issuer stays the same.
    const port = new URL(world.issuer).port;
    await world.server.stop();
    const server = await startServer(world.db, { listen: `127.0.0.1:${port}` });
    try {
      const w2 = { ...world, server, issuer: server.issuer };
      const after = await codeFlow(w2, { app, scope: 'api openid', nonce: 'n2' });
      assert.equal(decodeProtectedHeader(after.tokens.id_token).kid, out.rotated.kid);
      assert.equal(decodeProtectedHeader(after.tokens.access_token).kid, out.rotated.kid);
      const jwks = createRemoteJWKSet(new URL(`${server.issuer}/id/keys`));
      // Both the pre-rotation ID token and access token still verify against the JWKS.
      await jwtVerify(before.tokens.id_token, jwks, { issuer: server.issuer, audience: app.client_id });
      await jwtVerify(before.tokens.access_token, jwks, { issuer: server.issuer, typ: 'at+jwt' });
      await jwtVerify(after.tokens.id_token, jwks, { issuer: server.issuer, audience: app.client_id });
      // And latchkey still accepts the pre-rotation access token.
      const ui = await userinfo(w2, before.tokens.access_token);
      assert.equal(ui.status, 200, show(ui));
    } finally {
      await server.stop();
    }
  });
});
