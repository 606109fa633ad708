// OIDC completeness: JWT access tokens (RFC 9068) for --token-format jwt apps, verified by jose
// against the JWKS, and signing-key rotation from the CLI (`keys rotate`): tokens signed
// before a rotation keep verifying, new ones carry the new kid, after a restart or, without
// one, by themselves within 10 s or at once after SIGHUP (which never stops the server, with
// or without TLS).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { startWorld, startServer, cli, eventually } from './lib/server.js';
import { codeFlow, userinfo, introspect, show, httpGet } from './lib/oauth.js';

const kidsOf = async (issuer) => (await httpGet(`${issuer}/id/keys`)).json.keys.map((k) => k.kid);

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

  it('keys rotate then SIGHUP: the running server signs with the new key and publishes both', async () => {
    // A world of its own: the case above restarts the shared server.
    const w = await startWorld({
      apps: { jwt: { callback: 'http://127.0.0.1:9/cb', scopes: 'api openid', extra: ['--token-format', 'jwt'] } },
    });
    try {
      const app = w.apps.jwt;
      const before = await codeFlow(w, { app, scope: 'api openid', nonce: 'h1' });
      const oldKid = decodeProtectedHeader(before.tokens.id_token).kid;
      assert.ok((await kidsOf(w.issuer)).includes(oldKid));

      const out = await cli(w.db, ['keys', 'rotate', '--alg', 'RS256']);
      const newKid = out.rotated.kid;
      assert.notEqual(newKid, oldKid);
      // SIGHUP reloads at once; without it the server would within 10 s (the next case), or
      // within milliseconds on PostgreSQL (node-coherence.test.js).
      w.server.child.kill('SIGHUP');
      const logs = await eventually(() => w.logs(), (l) => /signing keys reloaded/.test(l), { withinMs: 5000 });
      assert.match(logs, new RegExp(`signing keys reloaded: RS256 ${newKid}`),
        `no reload of the new key after SIGHUP (exit ${w.server.child.exitCode}, signal ${w.server.child.signalCode}):\n${logs.slice(-2000)}`);

      const after = await codeFlow(w, { app, scope: 'api openid', nonce: 'h3' });
      assert.equal(decodeProtectedHeader(after.tokens.id_token).kid, newKid);
      assert.equal(decodeProtectedHeader(after.tokens.access_token).kid, newKid);
      const kids = await kidsOf(w.issuer);
      assert.ok(kids.includes(oldKid) && kids.includes(newKid), `JWKS must publish both: ${kids}`);
      // jose, fetching the JWKS afresh, verifies the tokens signed before and after.
      const jwks = createRemoteJWKSet(new URL(`${w.issuer}/id/keys`));
      await jwtVerify(before.tokens.id_token, jwks, { issuer: w.issuer, audience: app.client_id });
      await jwtVerify(before.tokens.access_token, jwks, { issuer: w.issuer, typ: 'at+jwt' });
      await jwtVerify(after.tokens.id_token, jwks, { issuer: w.issuer, audience: app.client_id });
      // Tokens issued before the reload still work at latchkey itself.
      assert.equal((await userinfo(w, before.tokens.access_token)).status, 200);
      assert.equal(w.server.child.exitCode, null, 'SIGHUP must not stop the server');
    } finally {
      await w.stop();
    }
  });

  it('keys rotate reaches a running server by itself within 10 s, without SIGHUP', async () => {
    const w = await startWorld({ apps: { web: { callback: 'http://127.0.0.1:9/cb', scopes: 'api openid' } } });
    try {
      const out = await cli(w.db, ['keys', 'rotate', '--alg', 'ES256']);
      const newKid = out.rotated.kid;
      const kids = await eventually(() => kidsOf(w.issuer), (k) => k.includes(newKid), { withinMs: 12000, everyMs: 200 });
      assert.ok(kids.includes(newKid), `the new key is not published after 12 s: ${kids}`);
      assert.match(w.logs(), new RegExp(`signing keys reloaded: RS256 \\S+, ES256 ${newKid}`));
    } finally {
      await w.stop();
    }
  });

  it('a server without TLS survives SIGHUP, even one sent as soon as it says it listens', async () => {
    const s = await startServer(world.db);
    try {
      s.child.kill('SIGHUP');
      const logs = await eventually(() => s.logs(), (l) => /signing keys reloaded/.test(l), { withinMs: 5000 });
      assert.match(logs, /signing keys reloaded/, `no reload after SIGHUP (exit ${s.child.exitCode}, signal ${s.child.signalCode}):\n${logs.slice(-1000)}`);
      s.child.kill('SIGHUP');
      const health = await httpGet(`${s.issuer}/healthz`);
      assert.equal(health.status, 200, show(health));
      assert.equal(s.child.exitCode, null, `SIGHUP stopped the server: ${s.logs().slice(-1000)}`);
      assert.equal(s.child.signalCode, null, `SIGHUP killed the server: ${s.logs().slice(-1000)}`);
      const stopped = await s.stop();
      assert.deepEqual([stopped.code, stopped.killed], [0, false], 'SIGTERM after SIGHUP must still stop cleanly');
    } finally {
      await s.stop();
    }
  });
});
