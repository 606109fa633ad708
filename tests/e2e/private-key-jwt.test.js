// docs/behaviour.md §5.1 client authentication with private_key_jwt (RFC 7523 §2.2) using the app's
// --cert; aud may be the token URL or the issuer (§7); one method per request. The same at every
// client-authenticated endpoint (token, introspect, revoke), with one jti registry for all of
// them, and never with an app certificate outside its validity period.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { startWorld, makeTempDir } from './lib/server.js';
import { makeOutOfDateCerts } from './lib/keys.js';
import {
  getCode, tokenRequest, assertTokenError, assertTokenSuccess, userinfo, introspect, show,
} from './lib/oauth.js';

const exec = promisify(execFile);
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('private_key_jwt client authentication', { concurrency: true, timeout: 60000 }, () => {
  let world;
  let key; // CryptoKey for the app's certificate
  let otherKey; // a key the server does not know
  let keyDir;
  let outOfDate; // {expired, early}: app certificates outside their validity period

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-keys-');
    const keyPath = path.join(keyDir, 'app.key');
    const certPath = path.join(keyDir, 'app.crt');
    await exec('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=e2e-app', '-days', '2',
      '-keyout', keyPath, '-out', certPath]);
    key = await importPKCS8(await readFile(keyPath, 'utf8'), 'RS256');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    otherKey = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }), 'RS256');
    outOfDate = await makeOutOfDateCerts(keyDir, 'app');
    for (const c of Object.values(outOfDate)) c.key = await importPKCS8(c.keyPem, 'RS256');
    // Each app has a run-as user, so that the client credentials grant mints tokens to
    // introspect and revoke without a browser.
    const runAs = ['--client-credentials-user', 'alice@localhost'];
    world = await startWorld({
      apps: {
        jwt: { scopes: 'api refresh_token openid', extra: ['--cert', certPath, ...runAs] },
        // Certificates outside their validity period (expired in 2020; valid from tomorrow).
        expired: { scopes: 'api', extra: ['--cert', outOfDate.expired.certPath, ...runAs] },
        early: { scopes: 'api', extra: ['--cert', outOfDate.early.certPath, ...runAs] },
      },
    });
  });
  after(async () => {
    await world?.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  function assertion({ app = world.apps.jwt, aud, signWith = key, exp = '2m', iss, sub } = {}) {
    const jwt = new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(iss ?? app.client_id)
      .setSubject(sub ?? app.client_id)
      .setAudience(aud ?? `${world.issuer}/services/oauth2/token`)
      .setJti(randomUUID())
      .setIssuedAt();
    if (typeof exp === 'number') jwt.setExpirationTime(exp);
    else jwt.setExpirationTime(exp);
    return jwt.sign(signWith);
  }

  async function exchange(extra) {
    const app = world.apps.jwt;
    const got = await getCode(world, { app });
    return tokenRequest(world.issuer, {
      grant_type: 'authorization_code', code: got.code, redirect_uri: got.redirectUri, code_verifier: got.verifier,
      client_id: app.client_id, client_assertion_type: ASSERTION_TYPE, ...extra,
    });
  }

  it('a client assertion with aud = token URL authenticates the code exchange', async () => {
    const t = assertTokenSuccess(await exchange({ client_assertion: await assertion() }));
    const ui = await userinfo(world, t.access_token);
    assert.equal(ui.status, 200, show(ui));
  });

  it('a client assertion with aud = issuer is accepted too', async () => {
    assertTokenSuccess(await exchange({ client_assertion: await assertion({ aud: world.issuer }) }));
  });

  it('an assertion signed with another key → invalid_client', async () => {
    assertTokenError(await exchange({ client_assertion: await assertion({ signWith: otherKey }) }), 'invalid_client');
  });

  it('an assertion for another audience → invalid_client', async () => {
    assertTokenError(await exchange({ client_assertion: await assertion({ aud: 'https://login.salesforce.com' }) }), 'invalid_client');
  });

  it('an expired assertion → invalid_client', async () => {
    const past = Math.floor(Date.now() / 1000) - 600;
    assertTokenError(await exchange({ client_assertion: await assertion({ exp: past }) }), 'invalid_client');
  });

  it('an assertion whose iss/sub is not the client → invalid_client', async () => {
    assertTokenError(await exchange({ client_assertion: await assertion({ iss: 'someone-else', sub: 'someone-else' }) }), 'invalid_client');
  });

  it('alg "none" and an HS256 assertion are refused (invalid_client)', async () => {
    const app = world.apps.jwt;
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: app.client_id, sub: app.client_id, aud: `${world.issuer}/services/oauth2/token`, jti: randomUUID(), iat: now, exp: now + 120 };
    const none = `${b64({ alg: 'none' })}.${b64(claims)}.`;
    assertTokenError(await exchange({ client_assertion: none }), 'invalid_client');
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(app.client_secret));
    assertTokenError(await exchange({ client_assertion: hs }), 'invalid_client');
  });

  it('a client assertion together with client_secret → invalid_request', async () => {
    const r = await exchange({ client_assertion: await assertion(), client_secret: world.apps.jwt.client_secret });
    assertTokenError(r, 'invalid_request');
  });

  it('a client assertion together with Basic → invalid_request', async () => {
    const app = world.apps.jwt;
    const got = await getCode(world, { app });
    const r = await tokenRequest(world.issuer, {
      grant_type: 'authorization_code', code: got.code, redirect_uri: got.redirectUri, code_verifier: got.verifier,
      client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(),
    }, { basic: [app.client_id, app.client_secret] });
    assertTokenError(r, 'invalid_request');
  });

  describe('at /services/oauth2/introspect and /services/oauth2/revoke', { concurrency: true }, () => {
    const tokenUrl = () => `${world.issuer}/services/oauth2/token`;

    /** A fresh access token of the jwt app (client credentials, authenticated by secret). */
    async function freshToken() {
      const app = world.apps.jwt;
      const t = assertTokenSuccess(await tokenRequest(world.issuer, {
        grant_type: 'client_credentials', client_id: app.client_id, client_secret: app.client_secret,
      }));
      return t.access_token;
    }

    /** POSTs token= to an endpoint, authenticated by the client assertion alone. */
    function withAssertion(path, token, clientAssertion) {
      return tokenRequest(world.issuer, {
        token, client_id: world.apps.jwt.client_id, client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion,
      }, { path });
    }
    const introspectWith = (token, a) => withAssertion('/services/oauth2/introspect', token, a);
    const revokeWith = (token, a) => withAssertion('/services/oauth2/revoke', token, a);

    /** Whether the token is still active, asked with the app's secret. */
    async function active(token) {
      const r = await introspect(world, world.apps.jwt, token);
      assert.equal(r.status, 200, show(r));
      return r.json.active;
    }

    function assertInvalidClient(r) {
      assert.ok(r.status === 400 || r.status === 401, `expected 400/401; got ${show(r)}`);
      assertTokenError(r, 'invalid_client', { status: r.status });
      assert.equal(r.json.active, undefined, `an answer about the token came back: ${show(r)}`);
    }

    const refusedAssertions = () => ({
      'aud of another server': assertion({ aud: 'https://login.salesforce.com' }),
      'aud = the introspect URL': assertion({ aud: `${world.issuer}/services/oauth2/introspect` }),
      expired: assertion({ exp: Math.floor(Date.now() / 1000) - 600 }),
      'signed with another key': assertion({ signWith: otherKey }),
    });

    for (const [what, aud] of [['token URL', tokenUrl], ['issuer', () => world.issuer]]) {
      it(`introspect: aud = the ${what} → active, with the app's client_id`, async () => {
        const token = await freshToken();
        const r = await introspectWith(token, await assertion({ aud: aud() }));
        assert.equal(r.status, 200, show(r));
        assert.equal(r.json.active, true, show(r));
        assert.equal(r.json.client_id, world.apps.jwt.client_id, show(r));
        assert.equal(r.json.username, 'alice@localhost', show(r));
      });

      it(`revoke: aud = the ${what} → 200 and the token is revoked`, async () => {
        const token = await freshToken();
        assert.equal(await active(token), true);
        const r = await revokeWith(token, await assertion({ aud: aud() }));
        assert.equal(r.status, 200, show(r));
        assert.equal(await active(token), false, 'the token is still active after revoke');
      });
    }

    it('introspect: wrong aud, expired, another key → invalid_client', async () => {
      const token = await freshToken();
      for (const [what, a] of Object.entries(refusedAssertions())) {
        const r = await introspectWith(token, await a);
        assert.ok(r.json?.error, `${what}: ${show(r)}`);
        assertInvalidClient(r);
      }
    });

    it('revoke: wrong aud, expired, another key → invalid_client, and the token stays active', async () => {
      const token = await freshToken();
      for (const [what, a] of Object.entries(refusedAssertions())) {
        const r = await revokeWith(token, await a);
        assert.ok(r.json?.error, `${what}: ${show(r)}`);
        assertInvalidClient(r);
      }
      assert.equal(await active(token), true, 'a refused revoke request revoked the token');
    });

    it('a jti spent at the token endpoint is refused at introspect, and one spent at introspect at revoke', async () => {
      const app = world.apps.jwt;
      const token = await freshToken();
      const spent = await assertion();
      assertTokenSuccess(await tokenRequest(world.issuer, {
        grant_type: 'client_credentials', client_id: app.client_id, client_assertion_type: ASSERTION_TYPE, client_assertion: spent,
      }));
      assertInvalidClient(await introspectWith(token, spent));

      const once = await assertion();
      const first = await introspectWith(token, once);
      assert.equal(first.status, 200, show(first));
      assert.equal(first.json.active, true, show(first));
      assertInvalidClient(await revokeWith(token, once));
      assert.equal(await active(token), true, 'a revoke with a replayed assertion revoked the token');
    });
  });

  describe('an app certificate outside its validity period', { concurrency: true }, () => {
    // The apps differ from the working one only in the dates of their certificates.
    for (const which of ['expired', 'early']) {
      it(`${which === 'expired' ? 'expired' : 'not yet valid'} certificate → invalid_client at the token endpoint and at introspect`, async () => {
        const app = world.apps[which];
        const signWith = outOfDate[which].key;
        const r = await tokenRequest(world.issuer, {
          grant_type: 'client_credentials', client_id: app.client_id, client_assertion_type: ASSERTION_TYPE,
          client_assertion: await assertion({ app, signWith }),
        });
        assertTokenError(r, 'invalid_client', { status: r.status });
        assert.equal(r.json.access_token, undefined, show(r));

        const token = assertTokenSuccess(await tokenRequest(world.issuer, {
          grant_type: 'client_credentials', client_id: app.client_id, client_secret: app.client_secret,
        })).access_token;
        const i = await tokenRequest(world.issuer, {
          token, client_id: app.client_id, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion({ app, signWith }),
        }, { path: '/services/oauth2/introspect' });
        assertTokenError(i, 'invalid_client', { status: i.status });
      });
    }
  });
});
