// docs/behaviour.md §5.6: the JWT bearer flow (RFC 7523 §2.1) with Salesforce's rules — RS256/ES256
// signed with the key of the app's --cert, iss = client id, sub = username, aud = issuer,
// exp at most 3 minutes ahead and not expired, the user pre-authorized or having approved the
// app, no refresh token. §6: assertions are limited to 32 KiB.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import {startWorld, startServer, makeTempDir, cli, eventually, freePort} from './lib/server.js';
import { makeCert, makeOutOfDateCerts } from './lib/keys.js';
import {
  tokenRequest, assertTokenError, assertTokenSuccess, userinfo, getCode, show,
} from './lib/oauth.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const NOT_APPROVED = "user hasn't approved this consumer";
const AUTH_FAILURE = 'authentication failure';
const INTEGRATION = 'Integration User';

const b64json = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

describe('JWT bearer flow', { concurrency: true, timeout: 60000 }, () => {
  let world;
  let keyDir;
  let rsa; // {keyPem, certPem, key: CryptoKey}
  let ec;
  let selfRsa;
  let otherRsaKey;
  let outOfDate; // {expired, early}: app certificates outside their validity period

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-jwtbearer-');
    [rsa, ec, selfRsa] = await Promise.all([
      makeCert(keyDir, 'rsa'), makeCert(keyDir, 'ec', { type: 'ec' }), makeCert(keyDir, 'self'),
    ]);
    outOfDate = await makeOutOfDateCerts(keyDir, 'app');
    for (const c of Object.values(outOfDate)) c.key = await importPKCS8(c.keyPem, 'RS256');
    rsa.key = await importPKCS8(rsa.keyPem, 'RS256');
    ec.key = await importPKCS8(ec.keyPem, 'ES256');
    selfRsa.key = await importPKCS8(selfRsa.keyPem, 'RS256');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    otherRsaKey = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }), 'RS256');

    const integ = ['--profile', INTEGRATION];
    world = await startWorld({
      users: {
        alice: { username: 'alice@localhost', name: 'Alice Smith', email: 'alice@localhost' },
        integ: { username: 'integ@localhost', name: 'Integration Bot', email: 'integ@localhost', extra: integ },
        integ2: { username: 'integ2@localhost', name: 'Integration Two', email: 'integ2@localhost', extra: integ },
        plain: { username: 'plain@localhost', name: 'Plain User', email: 'plain@localhost' },
        retired: { username: 'retired@localhost', name: 'Retired Bot', email: 'retired@localhost', extra: integ },
        approver: { username: 'approver@localhost', name: 'Ann Prover', email: 'approver@localhost' },
      },
      apps: {
        // refresh_token is among the app's scopes: the flow must still not return one.
        rsa: { callbacks: [], scopes: 'api openid profile refresh_token', extra: ['--cert', rsa.certPath, '--permitted-users', 'admin-approved'] },
        ec: { callbacks: [], scopes: 'api openid profile', extra: ['--cert', ec.certPath, '--permitted-users', 'admin-approved'] },
        // Self-authorize ("all") app with a callback, so that a user can approve it once.
        self: { scopes: 'api openid profile', extra: ['--cert', selfRsa.certPath, '--permitted-users', 'all'] },
        // Certificates outside their validity period (expired in 2020; valid from tomorrow).
        expired: { callbacks: [], scopes: 'api openid', extra: ['--cert', outOfDate.expired.certPath, '--permitted-users', 'admin-approved'] },
        early: { callbacks: [], scopes: 'api openid', extra: ['--cert', outOfDate.early.certPath, '--permitted-users', 'admin-approved'] },
      },
    });
    for (const app of [world.apps.rsa, world.apps.ec, world.apps.expired, world.apps.early]) {
      const out = await cli(world.db, ['app', 'preauthorize', '--client-id', app.client_id, '--profile', INTEGRATION]);
      assert.equal(typeof out, 'object');
    }
  });
  after(async () => {
    await world?.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  /** Default claims for app/user; overrides replace (undefined deletes). */
  function claims(app, user, overrides = {}) {
    const now = nowS();
    const c = { iss: app.client_id, sub: user.username, aud: world.issuer, exp: now + 120, iat: now, jti: randomUUID() };
    for (const [k, v] of Object.entries(overrides)) {
      if (v === undefined) delete c[k];
      else c[k] = v;
    }
    return c;
  }

  function sign(c, key = rsa.key, alg = 'RS256') {
    return new SignJWT(c).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
  }

  function bearer(assertion, extra = {}) {
    return tokenRequest(world.issuer, { grant_type: GRANT, assertion, ...extra });
  }

  function assertBearerTokens(r, app, user) {
    const t = assertTokenSuccess(r);
    assert.equal(t.token_type, 'Bearer', show(r));
    assert.equal(t.instance_url, world.issuer, show(r));
    assert.equal(t.id, `${world.issuer}/id/${user.org_id}/${user.user_id}`, show(r));
    assert.match(String(t.issued_at), /^\d{13}$/, `issued_at must be milliseconds as a string: ${show(r)}`);
    assert.equal(typeof t.issued_at, 'string', show(r));
    assert.equal(typeof t.scope, 'string', show(r));
    const granted = t.scope.split(' ');
    for (const s of ['api', 'openid']) assert.ok(granted.includes(s), `scope ${s} expected in ${t.scope}`);
    assert.equal(typeof t.expires_in, 'number', show(r));
    assert.equal(t.refresh_token, undefined, `the JWT bearer flow must not return a refresh token: ${show(r)}`);
    return t;
  }

  it('RS256 assertion → token response without refresh_token (even with refresh_token among the app scopes)', async () => {
    const { rsa: app } = world.apps;
    const r = await bearer(await sign(claims(app, world.users.integ)));
    assertBearerTokens(r, app, world.users.integ);
  });

  it('the access token works at userinfo and acts as the subject', async () => {
    const { rsa: app } = world.apps;
    const t = assertTokenSuccess(await bearer(await sign(claims(app, world.users.integ))));
    const ui = await userinfo(world, t.access_token);
    assert.equal(ui.status, 200, show(ui));
    assert.equal(ui.json.preferred_username, 'integ@localhost', show(ui));
    assert.equal(ui.json.user_id, world.users.integ.user_id, show(ui));
    assert.equal(ui.json.organization_id, world.users.integ.org_id, show(ui));
  });

  it('ES256 assertion for an app with an EC P-256 certificate → token', async () => {
    const { ec: app } = world.apps;
    const r = await bearer(await sign(claims(app, world.users.integ2), ec.key, 'ES256'));
    const t = assertBearerTokens(r, app, world.users.integ2);
    const ui = await userinfo(world, t.access_token);
    assert.equal(ui.status, 200, show(ui));
    assert.equal(ui.json.preferred_username, 'integ2@localhost', show(ui));
  });

  it('alg "none" (unsigned JWT) → invalid_grant', async () => {
    const c = claims(world.apps.rsa, world.users.integ);
    for (const header of [{ alg: 'none' }, { alg: 'none', typ: 'JWT' }, { alg: 'None' }, { alg: 'NONE' }]) {
      assertTokenError(await bearer(`${b64json(header)}.${b64json({ ...c, jti: randomUUID() })}.`), 'invalid_grant',
        { description: 'invalid assertion' });
    }
    // Control: the same claims, signed, are accepted.
    assertTokenSuccess(await bearer(await sign({ ...c, jti: randomUUID() })));
  });

  it('HS256 keyed with the certificate / its public key PEM (algorithm confusion) → invalid_grant', async () => {
    const c = claims(world.apps.rsa, world.users.integ);
    const spkiPem = createPublicKey(rsa.certPem).export({ type: 'spki', format: 'pem' });
    const secrets = [spkiPem, rsa.certPem, spkiPem.trim()];
    for (const secret of secrets) {
      for (const alg of ['HS256', 'HS512']) {
        const jwt = await sign({ ...c, jti: randomUUID() }, new TextEncoder().encode(secret), alg);
        assertTokenError(await bearer(jwt), 'invalid_grant', { description: 'invalid assertion' });
      }
    }
  });

  it('signed by an RSA key other than the app certificate → invalid_grant', async () => {
    const c = claims(world.apps.rsa, world.users.integ);
    assertTokenError(await bearer(await sign(c, otherRsaKey)), 'invalid_grant', { description: 'invalid assertion' });
    // Another app's key is just as foreign.
    assertTokenError(await bearer(await sign({ ...c, jti: randomUUID() }, selfRsa.key)), 'invalid_grant',
      { description: 'invalid assertion' });
  });

  it('a tampered payload (signature no longer matches) → invalid_grant', async () => {
    const good = await sign(claims(world.apps.rsa, world.users.integ));
    const [h, , s] = good.split('.');
    const forged = `${h}.${b64json(claims(world.apps.rsa, world.users.integ2))}.${s}`;
    assertTokenError(await bearer(forged), 'invalid_grant', { description: 'invalid assertion' });
  });

  it('an expired assertion → invalid_grant "expired authorization code"', async () => {
    const now = nowS();
    const c = claims(world.apps.rsa, world.users.integ, { exp: now - 300, iat: now - 420 });
    assertTokenError(await bearer(await sign(c)), 'invalid_grant', { description: 'expired authorization code' });
  });

  it('exp more than 3 minutes ahead (10 minutes) → invalid_grant', async () => {
    const c = claims(world.apps.rsa, world.users.integ, { exp: nowS() + 600 });
    assertTokenError(await bearer(await sign(c)), 'invalid_grant');
  });

  it('exp 4 minutes ahead → invalid_grant; 2.5 minutes ahead → token (Salesforce: at most 3 minutes)', async () => {
    const far = claims(world.apps.rsa, world.users.integ, { exp: nowS() + 240 });
    assertTokenError(await bearer(await sign(far)), 'invalid_grant', { description: 'invalid assertion' });
    const near = claims(world.apps.rsa, world.users.integ, { exp: nowS() + 150 });
    assertBearerTokens(await bearer(await sign(near)), world.apps.rsa, world.users.integ);
  });

  it('an app certificate outside its validity period (expired; not yet valid) → invalid_grant', async () => {
    // The user is pre-authorized on both apps and the assertions are otherwise good: only the
    // certificate's dates are wrong.
    for (const which of ['expired', 'early']) {
      const app = world.apps[which];
      const r = await bearer(await sign(claims(app, world.users.integ), outOfDate[which].key));
      assertTokenError(r, 'invalid_grant', { description: 'invalid assertion' });
      assert.equal(r.json.access_token, undefined, show(r));
    }
  });

  it('no exp at all → invalid_grant', async () => {
    const c = claims(world.apps.rsa, world.users.integ, { exp: undefined });
    assertTokenError(await bearer(await sign(c)), 'invalid_grant');
  });

  it('a wrong audience → invalid_grant "audience is invalid"', async () => {
    const { rsa: app } = world.apps;
    for (const aud of ['https://login.salesforce.com', `${world.issuer}/other`, 'http://127.0.0.1:1']) {
      const c = claims(app, world.users.integ, { aud });
      assertTokenError(await bearer(await sign(c)), 'invalid_grant', { description: 'audience is invalid' });
    }
  });

  it('an unknown iss (no such client id) → 4xx invalid_client, no token', async () => {
    // The server answers {"error":"invalid_client","error_description":"client identifier invalid"}, 400.
    const c = claims(world.apps.rsa, world.users.integ, { iss: '3MVG9unknownClientIdForE2E0000000000' });
    const r = await bearer(await sign(c));
    assert.ok(r.status === 400 || r.status === 401, `expected 400/401; got ${show(r)}`);
    assert.ok(['invalid_client', 'invalid_grant'].includes(r.json?.error), `expected invalid_client or invalid_grant; got ${show(r)}`);
    assert.equal(r.json.access_token, undefined, show(r));
    assertTokenError(r, 'invalid_client', { status: r.status, description: 'client identifier invalid' });
  });

  it('an unknown sub (no such user) → invalid_grant "authentication failure"', async () => {
    const c = claims(world.apps.rsa, world.users.integ, { sub: 'nobody@localhost' });
    assertTokenError(await bearer(await sign(c)), 'invalid_grant', { description: AUTH_FAILURE });
  });

  it('an inactive sub (deactivated with user update --active false) → invalid_grant "authentication failure", though it worked before', async () => {
    const c = () => claims(world.apps.rsa, world.users.retired);
    assertTokenSuccess(await bearer(await sign(c())));
    const out = await cli(world.db, ['user', 'update', '--username', world.users.retired.username, '--active', 'false']);
    assert.equal(out.active, false);
    // The server reads users again once its cached copy is older than --cache-ms (1 s).
    const r = await eventually(async () => bearer(await sign(c())), (res) => res.status !== 200);
    assertTokenError(r, 'invalid_grant', { description: AUTH_FAILURE });
  });

  it('admin-approved app, user whose profile is not pre-authorized → invalid_grant "user hasn\'t approved this consumer"', async () => {
    const c = claims(world.apps.rsa, world.users.plain);
    assertTokenError(await bearer(await sign(c)), 'invalid_grant', { description: NOT_APPROVED });
  });

  it('self-authorize app: not approved → refused; after one approval through the web flow → token', async () => {
    const { self: app } = world.apps;
    const user = world.users.approver;
    assertTokenError(await bearer(await sign(claims(app, user), selfRsa.key)), 'invalid_grant', { description: NOT_APPROVED });
    // Being pre-authorized is not how "all" apps work: the Integration User is refused too.
    assertTokenError(await bearer(await sign(claims(app, world.users.integ), selfRsa.key)), 'invalid_grant',
      { description: NOT_APPROVED });

    // A denial does not count as approval.
    const denied = await getCode(world, { app, user, decision: 'deny', expectCode: false });
    assert.equal(denied.code, null, `deny must not yield a code: ${denied.result.location}`);
    assertTokenError(await bearer(await sign(claims(app, user), selfRsa.key)), 'invalid_grant', { description: NOT_APPROVED });

    const got = await getCode(world, { app, user });
    assert.ok(got.code);
    const r = await bearer(await sign(claims(app, user), selfRsa.key));
    const t = assertBearerTokens(r, app, user);
    const ui = await userinfo(world, t.access_token);
    assert.equal(ui.status, 200, show(ui));
    assert.equal(ui.json.preferred_username, user.username, show(ui));
  });

  it('a replayed jti → invalid_grant', async () => {
    const jwt = await sign(claims(world.apps.rsa, world.users.integ));
    assertTokenSuccess(await bearer(jwt));
    assertTokenError(await bearer(jwt), 'invalid_grant');
  });

  it('nbf in the future → invalid_grant', async () => {
    const now = nowS();
    const c = claims(world.apps.rsa, world.users.integ, { nbf: now + 120, exp: now + 170 });
    assertTokenError(await bearer(await sign(c)), 'invalid_grant');
  });

  it('an assertion over 32 KiB → 4xx with an RFC error; one just under is accepted', async () => {
    const { rsa: app } = world.apps;
    const big = await sign(claims(app, world.users.integ, { pad: 'x'.repeat(26000) }));
    assert.ok(big.length > 32 * 1024 && big.length < 60 * 1024, `assertion is ${big.length} bytes`);
    const r = await bearer(big);
    assert.ok(r.status >= 400 && r.status < 500, `expected 4xx; got ${show(r)}`);
    assert.ok(['invalid_grant', 'invalid_request'].includes(r.json?.error), `expected an RFC error; got ${show(r)}`);
    assert.equal(r.json.access_token, undefined);

    const under = await sign(claims(app, world.users.integ, { pad: 'x'.repeat(22000) }));
    assert.ok(under.length < 32 * 1024, `assertion is ${under.length} bytes`);
    assertTokenSuccess(await bearer(under));
  });

  it('garbage and missing assertions → 400 with an RFC error', async () => {
    assertTokenError(await bearer('not-a-jwt'), 'invalid_grant');
    assertTokenError(await bearer('a.b.c'), 'invalid_grant');
    const r = await tokenRequest(world.issuer, { grant_type: GRANT });
    assertTokenError(r, 'invalid_request');
  });
});

// RFC 7523 §3 item 7: used identifiers are kept in the database until the assertion expires,
// so a restart (or a second server on the same database) does not forget them.
describe('assertion replay across a restart', {timeout: 60000}, () => {
  let world;
  let keyDir;
  let cert;
  let server;

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-replay-');
    cert = await makeCert(keyDir, 'replay');
    cert.key = await importPKCS8(cert.keyPem, 'RS256');
    // A fixed port, so that the issuer (the assertions' audience) is the same after the restart.
    const port = await freePort();
    world = await startWorld({
      users: {
        integ: {
          username: 'integ@localhost',
          name: 'Integration Bot',
          email: 'integ@localhost',
          extra: ['--profile', INTEGRATION]
        }
      },
      apps: {
        app: {
          callbacks: [],
          scopes: 'api',
          extra: [
            '--cert', cert.certPath, '--permitted-users', 'admin-approved',
            '--client-credentials-user', 'integ@localhost'
          ]
        }
      },
      serve: {listen: `127.0.0.1:${port}`},
    });
    await cli(
        world.db,
        ['app', 'preauthorize', '--client-id', world.apps.app.client_id, '--profile', INTEGRATION]);
  });
  after(async () => {
    await server?.stop();
    await world?.stop();
    if (keyDir) await rm(keyDir, {recursive: true, force: true});
  });

  const sign = (c) => new SignJWT(c).setProtectedHeader({alg: 'RS256', typ: 'JWT'}).sign(cert.key);
  const bearerClaims = () => ({
    iss: world.apps.app.client_id,
    sub: 'integ@localhost',
    aud: world.issuer,
    exp: nowS() + 120,
    jti: randomUUID(),
  });
  const clientClaims = () => ({
    iss: world.apps.app.client_id,
    sub: world.apps.app.client_id,
    aud: `${world.issuer}/services/oauth2/token`,
    exp: nowS() + 120,
    jti: randomUUID(),
  });
  const bearer = (issuer, assertion) => tokenRequest(issuer, {grant_type: GRANT, assertion});
  const clientCredentials = (issuer, assertion) => tokenRequest(issuer, {
    grant_type: 'client_credentials',
    client_id: world.apps.app.client_id,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  });

  it('a JWT bearer assertion and a client assertion used once are refused after the server restarts on the same database',
     async () => {
       const jwt = await sign(bearerClaims());
       const clientJwt = await sign(clientClaims());
       assertTokenSuccess(await bearer(world.issuer, jwt));
       assertTokenSuccess(await clientCredentials(world.issuer, clientJwt));

       await world.server.stop();
       server = await startServer(world.db, {listen: new URL(world.issuer).host});
       assert.equal(server.issuer, world.issuer, 'the restarted server must have the same issuer');

       assertTokenError(await bearer(server.issuer, jwt), 'invalid_grant');
       const replayed = await clientCredentials(server.issuer, clientJwt);
       assertTokenError(replayed, 'invalid_client', {status: replayed.status});
       assert.match(replayed.json.error_description, /replayed/, show(replayed));
       // Fresh assertions (new jti) of the same app still work: the refusals were the replays.
       assertTokenSuccess(await bearer(server.issuer, await sign(bearerClaims())));
       assertTokenSuccess(await clientCredentials(server.issuer, await sign(clientClaims())));
     });
});
