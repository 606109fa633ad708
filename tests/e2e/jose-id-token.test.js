// The ID token verified directly with jose against /id/keys.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, importJWK } from 'jose';
import { startWorld } from './lib/server.js';
import { codeFlow, randomString, userinfo, httpGet, show, refresh, sleep } from './lib/oauth.js';

describe('ID token (jose)', { concurrency: true, timeout: 60000 }, () => {
  let world;
  let jwks;

  before(async () => {
    world = await startWorld({
      apps: {
        oidc: { scopes: 'api refresh_token openid profile email' },
        other: { scopes: 'api openid' },
        plain: { scopes: 'api refresh_token' },
      },
    });
    jwks = createRemoteJWKSet(new URL(`${world.issuer}/id/keys`));
  });
  after(async () => { await world?.stop(); });

  it('/id/keys is a JWKS of public RS256 and ES256 signing keys with kids and no private members', async () => {
    const r = await httpGet(`${world.issuer}/id/keys`);
    assert.equal(r.status, 200, show(r));
    assert.match(r.headers.get('content-type') || '', /json/);
    assert.ok(Array.isArray(r.json?.keys) && r.json.keys.length >= 1, show(r));
    for (const k of r.json.keys) {
      assert.ok(k.kid, 'every key has a kid');
      assert.ok(k.kty, 'every key has a kty');
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.ok(!(priv in k), `JWKS must not expose "${priv}"`);
    }
    const rsa = r.json.keys.find((k) => k.kty === 'RSA' && k.alg === 'RS256');
    assert.ok(rsa?.n && rsa.e && rsa.use === 'sig', `an RS256 signing key is published: ${show(r)}`);
    const ec = r.json.keys.find((k) => k.kty === 'EC' && k.alg === 'ES256');
    assert.ok(ec && ec.crv === 'P-256' && ec.x && ec.y && ec.use === 'sig', `an ES256 (P-256) signing key is published: ${show(r)}`);
    // Each is a usable public key.
    await importJWK(rsa, 'RS256');
    await importJWK(ec, 'ES256');
  });

  it('verifies with createRemoteJWKSet: RS256, kid, iss, aud, sub, nonce, iat, exp', async () => {
    const nonce = randomString();
    const { tokens } = await codeFlow(world, { app: world.apps.oidc, scope: 'api refresh_token openid profile email', nonce });
    assert.ok(tokens.id_token, `id_token expected when openid is granted: ${JSON.stringify(tokens)}`);
    const header = decodeProtectedHeader(tokens.id_token);
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid, 'ID token header has a kid');
    const { payload } = await jwtVerify(tokens.id_token, jwks, {
      issuer: world.issuer, audience: world.apps.oidc.client_id, algorithms: ['RS256'],
    });
    assert.equal(payload.nonce, nonce);
    assert.ok(typeof payload.sub === 'string' && payload.sub.length > 0);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Number.isInteger(payload.iat) && Math.abs(payload.iat - now) < 120, `iat ${payload.iat} is now`);
    assert.ok(Number.isInteger(payload.exp) && payload.exp > now, `exp ${payload.exp} is in the future`);
    const ui = await userinfo(world, tokens.access_token);
    assert.equal(ui.status, 200, show(ui));
    assert.equal(ui.json.sub, payload.sub, 'userinfo sub equals the ID token sub');
  });

  it('an ID token fails verification for another audience and when tampered with', async () => {
    const { tokens } = await codeFlow(world, { app: world.apps.oidc, scope: 'openid api', nonce: randomString() });
    await assert.rejects(jwtVerify(tokens.id_token, jwks, { issuer: world.issuer, audience: world.apps.other.client_id }));
    const [h, p, s] = tokens.id_token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.sub = 'someone-else';
    const forged = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
    await assert.rejects(jwtVerify(forged, jwks), 'a modified payload must not verify');
  });

  it('no nonce in the request → no nonce claim; aud is the requesting app', async () => {
    const { tokens } = await codeFlow(world, { app: world.apps.other, scope: 'api openid' });
    const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer: world.issuer, audience: world.apps.other.client_id });
    assert.ok(!('nonce' in payload), 'nonce claim must be absent when none was sent');
  });

  it('acr and amr state the password login; acr_values, even unsupported ones, do not fail the request (OIDC Core §2, §3.1.2.1)', async () => {
    const PASSWORD_ACR = 'urn:latchkey:acr:password';
    const d = await httpGet(`${world.issuer}/.well-known/openid-configuration`);
    assert.deepEqual(d.json.acr_values_supported, [PASSWORD_ACR], show(d));
    for (const claim of ['acr', 'amr', 'auth_time']) assert.ok(d.json.claims_supported.includes(claim), claim);
    for (const acrValues of [undefined, 'urn:example:mfa', `urn:example:mfa ${PASSWORD_ACR}`]) {
      const before = Math.floor(Date.now() / 1000);
      const { tokens } = await codeFlow(world, {
        app: world.apps.oidc, scope: 'api openid', nonce: randomString(),
        extra: acrValues ? { acr_values: acrValues } : {},
      });
      const { payload } = await jwtVerify(tokens.id_token, jwks, {
        issuer: world.issuer, audience: world.apps.oidc.client_id, algorithms: ['RS256'],
      });
      assert.equal(payload.acr, PASSWORD_ACR, `acr_values=${acrValues}`);
      assert.deepEqual(payload.amr, ['pwd'], `acr_values=${acrValues}`);
      assert.ok(Number.isInteger(payload.auth_time) && payload.auth_time >= before - 5 && payload.auth_time <= payload.iat,
        `auth_time ${payload.auth_time} is the login just made`);
    }
  });

  it('an ID token minted by a refresh keeps the auth_time of the original login (OIDC Core §12.2)', async () => {
    const app = world.apps.oidc;
    const { tokens } = await codeFlow(world, { app, scope: 'api refresh_token openid', nonce: randomString() });
    const first = (await jwtVerify(tokens.id_token, jwks, { issuer: world.issuer, audience: app.client_id })).payload;
    assert.ok(Number.isInteger(first.auth_time), 'the code flow ID token has auth_time');
    await sleep(1100); // a refresh in a later second: "now" would differ from the login
    const r = await refresh(world, app, tokens.refresh_token);
    assert.equal(r.status, 200, show(r));
    assert.ok(r.json.id_token, `openid was granted: ${show(r)}`);
    const again = (await jwtVerify(r.json.id_token, jwks, { issuer: world.issuer, audience: app.client_id })).payload;
    assert.equal(again.sub, first.sub);
    assert.equal(again.auth_time, first.auth_time, 'auth_time is the original login, not the refresh');
    assert.ok(again.iat > first.auth_time, `iat ${again.iat} is the time of the refresh`);
    assert.equal(again.acr, first.acr);
    assert.deepEqual(again.amr, first.amr);
  });

  it('no id_token when openid was not granted', async () => {
    const { tokens } = await codeFlow(world, { app: world.apps.plain });
    assert.ok(!('id_token' in tokens), `unexpected id_token: ${JSON.stringify(tokens)}`);
  });
});
